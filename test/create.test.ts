import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_TERMS } from '../src/cli/terms';
import { ConfigError, Discovery, loadMigration, MigrationsError, parseMigrationName, settingsFrom } from '../src/core';
import { createMigration } from '../src/core/sources/create';
import { cli, DEFAULT_DB, engine, ROOT, sampleWorkspace, TEMPLATES, tempWorkspace, tsMigration, userTables } from './helpers';

/** Every file and folder below `dir`, relative, with '/', sorted (folders end with '/'). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = path.relative(dir, path.join(d, e.name)).split(path.sep).join('/');
      if (e.isDirectory()) {
        out.push(rel + '/');
        walk(path.join(d, e.name));
      } else out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

const noSettings = settingsFrom({});

/** The description a created file's migration really carries, by loading it. */
function loadedDescription(file: string): string | undefined {
  const dir = path.dirname(file);
  const m = new Discovery(dir).readSource(dir).migrations.find((x) => x.path === file);
  assert.ok(m, `${file} is discovered as a migration`);
  assert.deepEqual(m.problems, [], `${file} has no static problems`);
  const result = loadMigration(m);
  assert.deepEqual(result.problems, []);
  return result.migration?.description;
}

test('create: next version after 003 is migration_004 with a snake_case name, from the TS template', async () => {
  const ws = sampleWorkspace();
  // knex installed in the project: the template that imports its types.
  fs.mkdirSync(path.join(ws, 'node_modules', 'knex'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'node_modules', 'knex', 'package.json'), '{"name":"knex","types":"index.d.ts"}');
  const e = engine(ws, { settings: noSettings });
  try {
    const created = e.create('Add Index To Users!');
    assert.equal(created.version, 4);
    assert.equal(created.name, 'add_index_to_users');
    assert.equal(created.path, path.join(ws, 'versions', 'migration_004_add_index_to_users.ts'));
    const text = fs.readFileSync(created.path, 'utf8');
    const expected = fs.readFileSync(path.join(TEMPLATES, 'migration.ts.template'), 'utf8')
      .replace(/\{\{version\}\}/g, '4')
      .replace(/\{\{paddedVersion\}\}/g, '004')
      .replace(/\{\{description\}\}/g, 'Add Index To Users!')
      .replace(/\{\{className\}\}/g, 'AddIndexToUsersMigration');
    assert.equal(text, expected);
    assert.ok(!text.includes('{{'), 'no placeholder is left');

    assert.deepEqual((await e.validate()), []);
    const report = await e.up();
    assert.equal(report.ok, true);
    assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [[1, 'done'], [2, 'done'], [3, 'done'], [4, 'done']]);
    const status = await e.status();
    assert.deepEqual(status.sources[0].migrations.map((m) => [m.version, m.status]), [[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'applied']]);
    // The next one follows the new file.
    assert.equal(path.basename(e.create('and another').path), 'migration_005_and_another.ts');
  } finally {
    await e.close();
  }
});

test('create: the --js variant writes a JavaScript file that validates and applies', async () => {
  const ws = sampleWorkspace();
  const e = engine(ws, { settings: noSettings });
  try {
    const created = e.create('seed default admin', { js: true });
    assert.equal(created.path, path.join(ws, 'versions', 'migration_004_seed_default_admin.js'));
    const text = fs.readFileSync(created.path, 'utf8');
    assert.match(text, /version = 4;/);
    assert.match(text, /exports\.getMigration = \(\) => SeedDefaultAdminMigration;/);
    assert.ok(!text.includes('{{'));
    assert.ok(!/:\s*Knex\b/.test(text), 'no TypeScript annotations in the JS file');
    assert.deepEqual((await e.validate()), []);
    const report = await e.up();
    assert.equal(report.ok, true);
    assert.deepEqual(report.steps.map((s) => s.version), [1, 2, 3, 4]);
  } finally {
    await e.close();
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['chat_messages', 'chat_users']);
});

test('create: zero padding follows the folder (3 digits by default, wider when the folder uses more)', () => {
  const nine = tempWorkspace({ 'versions/migration_009_nine.ts': tsMigration(9, 'nine') });
  assert.equal(path.basename(engine(nine, { settings: noSettings }).create('ten').path), 'migration_010_ten.ts');

  const wide = tempWorkspace({ 'versions/migration_0007_seven.ts': tsMigration(7, 'seven') });
  const created = engine(wide, { settings: noSettings }).create('eight');
  assert.equal(path.basename(created.path), 'migration_0008_eight.ts');
  assert.equal(created.version, 8);

  const big = tempWorkspace({ 'versions/migration_999_last.ts': tsMigration(999, 'last') });
  assert.equal(path.basename(engine(big, { settings: noSettings }).create('overflow').path), 'migration_1000_overflow.ts');
});

test('create: an empty workspace gets versions/migration_001_….ts', async () => {
  const ws = tempWorkspace();
  const e = engine(ws, { settings: noSettings });
  try {
    const created = e.create('Initial schema');
    assert.equal(created.path, path.join(ws, 'versions', 'migration_001_initial_schema.ts'));
    assert.equal(created.version, 1);
    // And the source's integrity file, which lists it.
    assert.deepEqual(tree(ws), ['versions/', 'versions/migration_001_initial_schema.ts', 'versions/migrations.sum']);
    assert.deepEqual(e.sources().map((s) => s.id), ['versions']);
    assert.deepEqual((await e.validate()), []);
    assert.equal((await e.up()).ok, true);
  } finally {
    await e.close();
  }
});

test('create: an empty or symbols-only description is rejected and nothing is written', () => {
  for (const ws of [tempWorkspace(), sampleWorkspace()]) {
    const before = tree(ws);
    const e = engine(ws, { settings: noSettings });
    for (const bad of ['', '   ', '!!!', '--- ___ ...', '../..', '🙂🙂']) {
      assert.throws(() => e.create(bad), (err: unknown) => {
        assert.ok(err instanceof ConfigError, `${JSON.stringify(bad)}: a ConfigError`);
        assert.match(err.message, /letters or digits/);
        assert.match(err.message, /e\.g\./, 'suggests a description');
        return true;
      });
      assert.deepEqual(tree(ws), before, `${JSON.stringify(bad)}: nothing written`);
    }
  }
});

test('create: hostile descriptions never write outside versions/', async () => {
  const ws = sampleWorkspace();
  const versions = path.join(ws, 'versions');
  const e = engine(ws, { settings: noSettings });
  const hostile = ['../../etc/passwd', '/abs/path', 'a\\b', 'x'.repeat(300), 'Ünïcödé 名前', 'C:\\Windows\\system32', 'a/../../b', 'nul\0byte', 'line\nbreak', '.hidden', '%2e%2e%2fescape'];
  let expectedVersion = 4;
  for (const description of hostile) {
    const before = tree(ws);
    const created = e.create(description);
    assert.equal(path.dirname(created.path), versions, `${JSON.stringify(description)} stays in versions/`);
    const base = path.basename(created.path);
    assert.ok(parseMigrationName(base), `${base} follows the convention`);
    assert.match(created.name, /^[a-z0-9]+(?:_[a-z0-9]+)*$/);
    assert.ok(base.length <= 120, `${base} is of a reasonable length`);
    assert.equal(created.version, expectedVersion++);
    assert.deepEqual(tree(ws), [...new Set([...before, `versions/${base}`, 'versions/migrations.sum'])].sort(), `${JSON.stringify(description)}: exactly one new file (and the sum), in versions/`);
  }
  assert.equal(fs.existsSync(path.resolve(versions, '../../etc/passwd')), false);
  assert.equal(fs.existsSync('/abs/path'), false);
  assert.equal(path.basename(tree(ws).find((f) => f.includes('_unicode'))!), 'migration_008_unicode.ts');
  assert.ok(tree(ws).includes('versions/migration_004_etc_passwd.ts'));
  assert.ok(tree(ws).includes('versions/migration_005_abs_path.ts'));
  assert.ok(tree(ws).includes('versions/migration_006_a_b.ts'));
  // Every created file is a valid migration.
  assert.deepEqual((await e.validate()), []);
});

test('create: quotes, backslashes and replacement patterns in the description survive into the class', async () => {
  const ws = tempWorkspace();
  const e = engine(ws, { settings: noSettings });
  const descriptions = [
    `Don't drop "users" \\ yet`,
    'costs $& and $$ and $` and $\' too',
    'template ${literal} and `ticks` */ /* // <!--',
  ];
  for (const [i, description] of descriptions.entries()) {
    for (const js of [false, true]) {
      const created = e.create(description + (js ? ' js' : ''), { js });
      assert.equal(created.version, i * 2 + (js ? 2 : 1));
      assert.equal(loadedDescription(created.path), description + (js ? ' js' : ''), `${created.path} keeps the description verbatim`);
    }
  }
  assert.deepEqual((await e.validate()), []);
});

test('create: --source must be a versions folder inside the workspace', () => {
  const ws = tempWorkspace({
    'versions/migration_001_root.ts': tsMigration(1, 'root'),
    'packages/api/versions/migration_001_api.ts': tsMigration(1, 'api'),
    'lib/keep.txt': 'x',
  });
  const e = engine(ws, { settings: noSettings });
  const before = tree(ws);
  const outside = path.join(path.dirname(ws), `${path.basename(ws)}-outside`, 'versions');
  for (const source of ['../versions', outside, 'lib', 'packages/api', 'versions/../lib', '../../../tmp/versions', '/versions']) {
    assert.throws(() => e.create('new thing', { source }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${source}: ConfigError`);
      assert.match(err.message, /versions/);
      assert.ok(err.message.includes(source), 'names what was given');
      return true;
    });
    assert.deepEqual(tree(ws), before, `${source}: nothing written`);
  }
  assert.equal(fs.existsSync(outside), false);
  assert.equal(fs.existsSync(path.join(path.dirname(ws), 'versions', 'migration_001_new_thing.ts')), false);

  // Several sources and no --source: refused, naming them.
  assert.throws(() => e.create('new thing'), (err: unknown) => err instanceof ConfigError && /packages\/api\/versions/.test(err.message) &&
    err.text.some((part) => typeof part !== 'string' && part.do === 'name-source') && /--source <folder>/.test(err.describe(CLI_TERMS)));
  assert.deepEqual(tree(ws), before);

  // A valid --source picks the folder and numbers after its own files.
  const created = e.create('new thing', { source: 'packages/api/versions' });
  assert.equal(created.path, path.join(ws, 'packages', 'api', 'versions', 'migration_002_new_thing.ts'));
  const absolute = e.create('other thing', { source: path.join(ws, 'versions') });
  assert.equal(absolute.path, path.join(ws, 'versions', 'migration_002_other_thing.ts'));
});

test('create: --source numbers after the files already in that folder, even when settings point elsewhere', () => {
  const ws = tempWorkspace({
    'db/versions/migration_001_db.ts': tsMigration(1, 'db'),
    'versions/migration_001_root.ts': tsMigration(1, 'root'),
    'versions/migration_002_root_two.ts': tsMigration(2, 'root_two'),
  });
  const e = engine(ws, { settings: settingsFrom({ 'migrations.versionsDir': 'db/versions' }) });
  assert.equal(e.create('next db').path, path.join(ws, 'db', 'versions', 'migration_002_next_db.ts'));
  const created = e.create('next root', { source: 'versions' });
  assert.equal(created.version, 3, 'never a second version 1 or 2 in versions/');
  assert.equal(created.path, path.join(ws, 'versions', 'migration_003_next_root.ts'));
});

test('create: an existing file with the exact name is never overwritten', () => {
  // A folder named like the next migration is not a migration, so the next version is 2 and the name collides.
  const ws = tempWorkspace({
    'versions/migration_001_first.ts': tsMigration(1, 'first'),
    'versions/migration_002_add_things.ts/keep.txt': 'keep me',
  });
  const e = engine(ws, { settings: noSettings });
  const before = tree(ws);
  assert.throws(() => e.create('add things'), (err: unknown) => {
    assert.ok(err instanceof MigrationsError);
    assert.match(err.message, /already exists/);
    assert.match(err.message, /nothing was written/);
    return true;
  });
  assert.deepEqual(tree(ws), before);
  assert.equal(fs.readFileSync(path.join(ws, 'versions', 'migration_002_add_things.ts', 'keep.txt'), 'utf8'), 'keep me');

  // The same at the file level: a file that is already there keeps its content.
  const dir = path.join(tempWorkspace({ 'versions/migration_001_taken.ts': 'ORIGINAL CONTENT\n' }), 'versions');
  assert.throws(() => createMigration({ dir, migrations: [] }, { description: 'taken', templatesDir: TEMPLATES, workspace: path.dirname(dir) }),
    (err: unknown) => err instanceof MigrationsError && /already exists/.test(err.message));
  assert.equal(fs.readFileSync(path.join(dir, 'migration_001_taken.ts'), 'utf8'), 'ORIGINAL CONTENT\n');
  assert.deepEqual(fs.readdirSync(dir), ['migration_001_taken.ts']);
});

/** A workspace in a private parent folder, so "nothing written outside" can check the parent too. */
function nestedWorkspace(): { outer: string; ws: string } {
  const outer = tempWorkspace();
  const ws = path.join(outer, 'ws');
  fs.mkdirSync(path.join(ws, 'versions'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'versions', 'migration_001_first.ts'), tsMigration(1, 'first'));
  return { outer, ws };
}

const CREATED_NAME = /^migration_\d+_[a-z0-9_]+\.(ts|js)$/;

test('create: path tricks, reserved characters, NUL, huge and unicode names are made safe inside versions/', async () => {
  const { outer, ws } = nestedWorkspace();
  const e = engine(ws, { settings: noSettings });
  const cases: [description: string, name: string][] = [
    ['../x', 'x'],
    ['..\\x', 'x'],
    ['/etc/passwd', 'etc_passwd'],
    ['C:\\x', 'c_x'],
    ['a/b', 'a_b'],
    ['a:b', 'a_b'],
    ['x *?<>|" y', 'x_y'],
    ['name\0with nul', 'name_with_nul'],
    ['a'.repeat(10_000), 'a'.repeat(80)],
    ['add '.repeat(2_500), Array(20).fill('add').join('_')],
    ['café ünïcödé', 'cafe_unicode'],
    ['🙂 add users 🚀', 'add_users'],
    ['إضافة users فهرس', 'users'],
    ['add\u202Eexe.txt', 'add_exe_txt'],
    ['CON', 'con'],
    ['nul', 'nul'],
    ['COM1', 'com1'],
    ['trailing dots and spaces. . .', 'trailing_dots_and_spaces'],
    ['tab\tand\r\nnew\u2028lines', 'tab_and_new_lines'],
  ];
  let version = 2;
  for (const [description, name] of cases) {
    const label = JSON.stringify(description.length > 40 ? description.slice(0, 40) + '…' : description);
    const before = tree(outer);
    const js = version % 2 === 1;
    const created = e.create(description, { js });
    const base = path.basename(created.path);
    assert.equal(created.path, path.join(ws, 'versions', base), `${label} stays in versions/`);
    assert.match(base, CREATED_NAME, label);
    assert.ok(base.length <= 120, `${label}: ${base.length} characters`);
    assert.equal(created.name, name, label);
    assert.equal(base, `migration_${String(version).padStart(3, '0')}_${name}.${js ? 'js' : 'ts'}`, label);
    assert.equal(created.version, version++);
    assert.deepEqual(tree(outer), [...new Set([...before, `ws/versions/${base}`, 'ws/versions/migrations.sum'])].sort(), `${label}: exactly one new file (and the sum), in ws/versions/, and nothing in the parent folder`);
    // The description itself is kept verbatim inside the file, and the file is a valid migration.
    assert.equal(loadedDescription(created.path), description.trim(), `${label} survives into the class`);
  }
  assert.deepEqual((await e.validate()), []);
  assert.equal(fs.existsSync(path.join(outer, 'x')), false);
  assert.equal(fs.existsSync(path.join(ws, 'x')), false);
});

test('create: names with no ASCII letter or digit are refused with a readable message, and nothing is written', () => {
  const { outer, ws } = nestedWorkspace();
  const e = engine(ws, { settings: noSettings });
  const before = tree(outer);
  for (const bad of ['\t\n \u00a0', '*?<>|"', '\0', 'إضافة فهرس', '🙂🚀', ' '.repeat(10_000), '€'.repeat(10_000), '.', '/', '..\\..']) {
    const label = JSON.stringify(bad.slice(0, 20));
    assert.throws(() => e.create(bad), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${label}: a ConfigError`);
      assert.match(err.message, /letters or digits/);
      assert.match(err.message, /describe the change with some, e\.g\. "add index to users"/, 'says what to do');
      assert.ok(err.message.length < 300, `${label}: the message quotes at most a short prefix (${err.message.length} characters)`);
      assert.ok(!err.message.includes('\0'), `${label}: control characters are shown escaped`);
      return true;
    });
    assert.deepEqual(tree(outer), before, `${label}: nothing written`);
  }
});

test('create: --source names any source, by folder or by id: versionsDir and config folders whatever their name', () => {
  // A folder configured by versionsDir, not named versions.
  const ws = tempWorkspace({ 'other/migrations/migration_001_a.ts': tsMigration(1, 'a') });
  const e = engine(ws, { settings: settingsFrom({ 'migrations.versionsDir': ['other/migrations'] }) });
  assert.equal(e.create('next', { source: 'other/migrations' }).path, path.join(ws, 'other', 'migrations', 'migration_002_next.ts'));
  assert.equal(e.create('trailing slash', { source: 'other/migrations/' }).version, 3);
  assert.equal(e.create('no source').version, 4, 'the one source');

  // The project config's folders: by declared id, by folder, and before the folder exists.
  const project = tempWorkspace({
    'migrations.config.js': "module.exports = { sources: [{ id: 'core', dir: 'db/migrations' }, { id: 'audit', dir: 'audit/sql' }, { id: 'seed', migrations: [] }] };",
    'db/migrations/migration_001_a.ts': tsMigration(1, 'a'),
  });
  const byId = cli(['create', 'add posts', '--source', 'core'], { cwd: project });
  assert.equal(byId.code, 0, byId.stderr);
  assert.equal(byId.stdout.trim(), `Created ${path.join('db', 'migrations', 'migration_002_add_posts.ts')}`);
  const byDir = cli(['create', 'add tags', '--source', 'db/migrations'], { cwd: project });
  assert.equal(byDir.code, 0, byDir.stderr);
  assert.ok(fs.existsSync(path.join(project, 'db', 'migrations', 'migration_003_add_tags.ts')));
  const fresh = cli(['create', 'start audit', '--source', 'audit'], { cwd: project });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.ok(fs.existsSync(path.join(project, 'audit', 'sql', 'migration_001_start_audit.ts')));
  assert.ok(fs.existsSync(path.join(project, 'audit', 'sql', 'migrations.sum')));
  // Migrations in code have no folder to write into; a folder that is no source and no versions folder is refused.
  for (const [source, says] of [['seed', /"seed" is a source of migrations in code, not a folder/], ['lib', /"lib" is not a migration source \(the sources are: audit, core, seed\)/]] as const) {
    const r = cli(['create', 'x', '--source', source], { cwd: project });
    assert.equal(r.code, 2, `${source}: ${r.stderr}`);
    assert.match(r.stderr, says);
  }
});

/** TypeScript's errors for one file, type-checked strictly as an editor would (knex's types only when a node_modules above it has them). */
function typeErrors(file: string): string {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), file], { cwd: path.dirname(file), encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

test('create: in a project without knex installed the new file is typed without it, and has no TypeScript error; with knex, it imports its types', async () => {
  const ws = sampleWorkspace();
  const e = engine(ws, { settings: noSettings });
  try {
    const created = e.create('add nickname');
    const text = fs.readFileSync(created.path, 'utf8');
    assert.doesNotMatch(text, /^import[^\n]*'knex'/m);
    assert.equal(typeErrors(created.path), '');
    // The same file with the knex-importing template does not compile here: what the variant is for.
    const withImport = path.join(ws, 'versions', 'with_import.ts');
    fs.writeFileSync(withImport, fs.readFileSync(path.join(TEMPLATES, 'migration.ts.template'), 'utf8').replace(/\{\{className\}\}/g, 'M').replace(/\{\{version\}\}/g, '9').replace(/\{\{description\}\}/g, 'x'));
    assert.match(typeErrors(withImport), /Cannot find module 'knex'/);
    fs.rmSync(withImport);
    // It loads and applies like any other.
    assert.deepEqual(await e.validate(), []);
    assert.equal((await e.up()).ok, true);

    fs.mkdirSync(path.join(ws, 'node_modules', 'knex'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'node_modules', 'knex', 'package.json'), '{"name":"knex"}');
    assert.match(fs.readFileSync(e.create('with knex').path, 'utf8'), /^import type \{ Knex \} from 'knex';/);
  } finally {
    await e.close();
  }
});
