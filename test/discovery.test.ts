import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Discovery, settingsFrom, type MigrationFile, type Problem, type Source } from '../src/core';
import { DEFAULT_DB, engine, inspect, tempWorkspace, tsMigration, userTables } from './helpers';

/** 1-based line of the first occurrence of `needle` in `text` (fails the test when absent). */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `fixture text should contain ${JSON.stringify(needle)}`);
  return text.slice(0, i).split('\n').length;
}

function migrationNamed(sources: readonly Source[], baseName: string): MigrationFile {
  const found = sources.flatMap((s) => s.migrations).filter((m) => path.basename(m.path) === baseName);
  assert.equal(found.length, 1, `expected exactly one migration named ${baseName}, found ${found.length}`);
  return found[0];
}

function codes(problems: readonly Problem[]): string[] {
  return problems.map((p) => p.code).sort();
}

/** A plain CommonJS migration with `up`/`down`, for tests that do not care about the format. */
function cjsMigration(version: number, table: string, prelude = ''): string {
  return `${prelude}class M${version} {
  constructor() { this.version = ${version}; this.description = 'create ${table}'; }
  async up(knex) { await knex.schema.createTable('${table}', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('${table}'); }
}
exports.getMigration = () => M${version};
`;
}

// ---------------------------------------------------------------------------------------------
// Finding sources
// ---------------------------------------------------------------------------------------------

test('discovery: finds every versions/ folder with migrations, nested ones too, but not under node_modules or .git', () => {
  const ws = tempWorkspace({
    'versions/migration_001_root.ts': tsMigration(1, 'root_t'),
    'packages/api/versions/migration_001_api.ts': tsMigration(1, 'api_t'),
    'packages/web/src/db/versions/migration_002_web.js': cjsMigration(2, 'web_t'),
    'node_modules/some-lib/versions/migration_001_lib.ts': tsMigration(1, 'lib_t'),
    'packages/api/node_modules/dep/versions/migration_001_dep.ts': tsMigration(1, 'dep_t'),
    '.git/versions/migration_001_git.ts': tsMigration(1, 'git_t'),
    // a versions/ folder without migration files is not a source
    'docs/versions/README.md': '# release notes\n',
  });
  const sources = new Discovery(ws).discover();
  assert.deepEqual(sources.map((s) => s.id), ['packages/api/versions', 'packages/web/src/db/versions', 'versions']);
  assert.deepEqual(sources.map((s) => s.dir), [
    path.join(ws, 'packages', 'api', 'versions'),
    path.join(ws, 'packages', 'web', 'src', 'db', 'versions'),
    path.join(ws, 'versions'),
  ]);
  for (const s of sources) {
    assert.ok(!s.id.includes('\\'), `source id ${s.id} uses "/"`);
    assert.equal(s.migrations.length, 1, `${s.id} has its one migration`);
    assert.deepEqual(s.migrations[0].problems, [], `${s.id} migration is clean`);
  }
  assert.equal(migrationNamed(sources, 'migration_002_web.js').path, path.join(ws, 'packages/web/src/db/versions/migration_002_web.js'));
  assert.ok(!sources.some((s) => s.dir.includes('node_modules') || s.dir.includes('.git')));
});

test('discovery stays inside the project: nested git repositories and folders with their own migrations.config.* are not entered unless named', () => {
  const ws = tempWorkspace({
    // The workspace's own repository and config do not stop discovery at the root.
    '.git/HEAD': 'ref: refs/heads/main\n',
    'migrations.config.js': 'module.exports = {};',
    'versions/migration_001_root.ts': tsMigration(1, 'root_t'),
    'packages/api/versions/migration_001_api.ts': tsMigration(1, 'api_t'),
    // Another project cloned inside (its own .git folder), a submodule or worktree (a .git file), a project with its own config.
    'vendor/other/.git/HEAD': 'ref: refs/heads/main\n',
    'vendor/other/versions/migration_001_other.ts': tsMigration(1, 'other_t'),
    'vendor/other/deep/db/versions/migration_001_deep.ts': tsMigration(1, 'deep_t'),
    'modules/sub/.git': 'gitdir: ../../.git/modules/sub\n',
    'modules/sub/versions/migration_001_sub.ts': tsMigration(1, 'sub_t'),
    'tools/app/migrations.config.ts': 'export default {};',
    'tools/app/db/versions/migration_001_app.ts': tsMigration(1, 'app_t'),
  });
  const found = ['packages/api/versions', 'versions'];
  assert.deepEqual(new Discovery(ws).discover().map((s) => s.id), found);
  assert.deepEqual(engine(ws, { settings: settingsFrom({}) }).sources().map((s) => s.id), found);
  // Named by versionsDir: that folder is a source after all.
  const named = engine(ws, { settings: settingsFrom({ 'migrations.versionsDir': ['versions', 'vendor/other/versions', 'tools/app/db/versions'] }) });
  assert.deepEqual(named.sources().map((s) => s.id), ['tools/app/db/versions', 'vendor/other/versions', 'versions']);
});

test('discovery: the engine lists the same sources with workspace-relative ids', () => {
  const ws = tempWorkspace({
    'versions/migration_001_root.ts': tsMigration(1, 'root_t'),
    'packages/api/versions/migration_001_api.ts': tsMigration(1, 'api_t'),
  });
  const e = engine(ws, { settings: settingsFrom({}) });
  assert.deepEqual(e.sources().map((s) => s.id), ['packages/api/versions', 'versions']);
  assert.deepEqual(e.sources('packages/api/versions').map((s) => s.id), ['packages/api/versions']);
});

test('discovery: migrations.versionsDir restricts discovery to that folder', () => {
  const ws = tempWorkspace({
    'versions/migration_001_root.ts': tsMigration(1, 'root_t'),
    'db/versions/migration_001_db.ts': tsMigration(1, 'db_t'),
    'db/versions/migration_002_db_more.ts': tsMigration(2, 'db_more_t'),
    'packages/api/versions/migration_001_api.ts': tsMigration(1, 'api_t'),
  });
  const restricted = engine(ws, { settings: settingsFrom({ 'migrations.versionsDir': 'db/versions' }) });
  const sources = restricted.sources();
  assert.deepEqual(sources.map((s) => s.id), ['db/versions']);
  assert.equal(sources[0].dir, path.join(ws, 'db', 'versions'));
  assert.deepEqual(sources[0].migrations.map((m) => path.basename(m.path)), ['migration_001_db.ts', 'migration_002_db_more.ts']);

  const two = engine(ws, { settings: settingsFrom({ 'migrations.versionsDir': ['db/versions', 'packages/api/versions'] }) });
  assert.deepEqual(two.sources().map((s) => s.id), ['db/versions', 'packages/api/versions']);

  // Without the setting every folder is found.
  assert.deepEqual(engine(ws, { settings: settingsFrom({}) }).sources().map((s) => s.id), ['db/versions', 'packages/api/versions', 'versions']);
});

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

const FORMATS: Record<string, string> = {
  'migration_001_typescript.ts': tsMigration(1, 't_ts'),
  'migration_002_module_typescript.mts': tsMigration(2, 't_mts'),
  'migration_003_esm_js.js': `export class M3 {
  version = 3;
  description = 'esm in .js';
  async up(knex) { await knex.schema.createTable('t_esm_js', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('t_esm_js'); }
}
export function getMigration() { return M3; }
`,
  'migration_004_cjs_exports.js': cjsMigration(4, 't_cjs_exports'),
  'migration_005_cjs_module_exports.js': `class M5 {
  constructor() { this.version = 5; this.description = 'module.exports object'; }
  async up(knex) { await knex.schema.createTable('t_cjs_module_exports', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('t_cjs_module_exports'); }
}
function getMigration() { return M5; }
module.exports = { getMigration };
`,
  'migration_006_esm.mjs': `export class M6 {
  version = 6;
  description = 'esm in .mjs';
  async up(knex) { await knex.schema.createTable('t_mjs', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('t_mjs'); }
}
export function getMigration() { return M6; }
`,
  'migration_007_commonjs.cjs': `'use strict';
class M7 {
  constructor() { this.version = 7; this.description = 'instance from .cjs'; }
  async up(knex) { await knex.schema.createTable('t_cjs', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('t_cjs'); }
}
module.exports.getMigration = function () { return new M7(); };
`,
};

test('formats: .ts, .mts, ESM .js, CommonJS .js (both styles), .mjs and .cjs are recognised statically without problems', () => {
  const ws = tempWorkspace(Object.fromEntries(Object.entries(FORMATS).map(([name, text]) => [`versions/${name}`, text])));
  const sources = new Discovery(ws).discover();
  assert.equal(sources.length, 1);
  assert.deepEqual(sources[0].problems, []);
  assert.deepEqual(sources[0].migrations.map((m) => path.basename(m.path)), Object.keys(FORMATS));
  for (const m of sources[0].migrations) {
    assert.deepEqual(m.problems, [], `${path.basename(m.path)} has no static problems`);
    assert.equal(m.hasDown, true, `${path.basename(m.path)} has a down()`);
    assert.match(m.checksum, /^[0-9a-f]{64}$/);
  }
});

test('formats: every format loads (validate reports nothing) and applies', async () => {
  const ws = tempWorkspace(Object.fromEntries(Object.entries(FORMATS).map(([name, text]) => [`versions/${name}`, text])));
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    assert.deepEqual((await e.validate()), []);
    const report = await e.up();
    assert.equal(report.ok, true);
    assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [1, 2, 3, 4, 5, 6, 7].map((v) => [v, 'done']));
  } finally {
    await e.close();
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t_cjs', 't_cjs_exports', 't_cjs_module_exports', 't_esm_js', 't_mjs', 't_mts', 't_ts']);
});

test('sorting: versions sort numerically, not by file name (002 < 009 < 010 < 11 < 1000)', async () => {
  // Written in an order that is neither numeric nor alphabetical.
  const ws = tempWorkspace({
    'versions/migration_1000_d.ts': tsMigration(1000, 'd'),
    'versions/migration_010_b.ts': tsMigration(10, 'b'),
    'versions/migration_002_z.ts': tsMigration(2, 'z'),
    'versions/migration_11_c.ts': tsMigration(11, 'c'),
    'versions/migration_009_a.ts': tsMigration(9, 'a'),
  });
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations.map((m) => m.version), [2, 9, 10, 11, 1000]);
  assert.deepEqual(source.migrations.map((m) => path.basename(m.path)),
    ['migration_002_z.ts', 'migration_009_a.ts', 'migration_010_b.ts', 'migration_11_c.ts', 'migration_1000_d.ts']);
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    const status = await e.status();
    assert.deepEqual(status.sources[0].migrations.map((m) => m.version), [2, 9, 10, 11, 1000]);
    const report = await e.up();
    assert.deepEqual(report.steps.map((s) => s.version), [2, 9, 10, 11, 1000]);
  } finally {
    await e.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Static problems
// ---------------------------------------------------------------------------------------------

function onlyProblem(m: MigrationFile, code: string): Problem {
  const matching = m.problems.filter((p) => p.code === code);
  assert.equal(matching.length, 1, `${path.basename(m.path)}: expected one ${code}, got ${JSON.stringify(m.problems)}`);
  return matching[0];
}

test('static: no getMigration export is an error that says what to add, at the class line', () => {
  const text = `import type { Knex } from 'knex';

// A migration that forgot its factory.
export class Forgot {
  readonly version = 1;
  readonly description = 'forgot';
  async up(knex: Knex) { await knex.schema.createTable('x', () => {}); }
  async down(knex: Knex) { await knex.schema.dropTable('x'); }
}
`;
  const ws = tempWorkspace({ 'versions/migration_001_forgot.ts': text });
  const [source] = new Discovery(ws).discover();
  const m = source.migrations[0];
  assert.deepEqual(codes(m.problems), ['missing-get-migration']);
  const p = m.problems[0];
  assert.equal(p.severity, 'error');
  assert.equal(p.file, path.join(ws, 'versions', 'migration_001_forgot.ts'));
  assert.equal(p.line, lineOf(text, 'export class Forgot'));
  assert.match(p.message, /getMigration/);
  assert.match(p.message, /export function getMigration\(\)/);
});

test('static: a misspelled getMigrations / get_migration export gets a hint naming it, at its line', () => {
  const plural = `export class A {
  readonly version = 1;
  readonly description = 'a';
  async up() {}
  async down() {}
}

export function getMigrations() {
  return A;
}
`;
  const snake = `class B {
  version = 2;
  description = 'b';
  async up() {}
  async down() {}
}
exports.get_migration = () => B;
`;
  const ws = tempWorkspace({
    'versions/migration_001_plural.ts': plural,
    'versions/migration_002_snake.js': snake,
  });
  const sources = new Discovery(ws).discover();
  const a = onlyProblem(migrationNamed(sources, 'migration_001_plural.ts'), 'missing-get-migration');
  assert.equal(a.severity, 'error');
  assert.match(a.message, /"getMigrations"/);
  assert.match(a.message, /rename it to "getMigration"/);
  assert.equal(a.line, lineOf(plural, 'export function getMigrations'));
  const b = onlyProblem(migrationNamed(sources, 'migration_002_snake.js'), 'missing-get-migration');
  assert.equal(b.severity, 'error');
  assert.match(b.message, /"get_migration"/);
  assert.equal(b.line, lineOf(snake, 'exports.get_migration'));
});

test('static: a default export alone gets a hint about the default export', () => {
  const text = `import type { Knex } from 'knex';
export default class OnlyDefault {
  readonly version = 1;
  readonly description = 'default only';
  async up(knex: Knex) { await knex.schema.createTable('d', () => {}); }
  async down(knex: Knex) { await knex.schema.dropTable('d'); }
}
`;
  const ws = tempWorkspace({ 'versions/migration_001_default_only.ts': text });
  const [source] = new Discovery(ws).discover();
  const p = onlyProblem(source.migrations[0], 'missing-get-migration');
  assert.equal(p.severity, 'error');
  assert.match(p.message, /default export/);
  assert.match(p.message, /export function getMigration\(\)/);
  assert.equal(p.line, lineOf(text, 'export default class'));
});

test('static: a syntax error is reported at its line and column, in TypeScript and in JavaScript', () => {
  const ts = `import type { Knex } from 'knex';
export class Broken {
  readonly version = 1;
  readonly description = 'broken';
  async up(knex: Knex) { const x = ; await knex.raw(String(x)); }
  async down(knex: Knex) {}
}
export function getMigration() { return Broken; }
`;
  const js = `class Broken2 {
  constructor() { this.version = 2; this.description = 'broken js'; }
  up() {}
  down() {}
}
const = 5;
exports.getMigration = () => Broken2;
`;
  const ws = tempWorkspace({ 'versions/migration_001_broken.ts': ts, 'versions/migration_002_broken_js.cjs': js });
  const sources = new Discovery(ws).discover();

  const p = onlyProblem(migrationNamed(sources, 'migration_001_broken.ts'), 'syntax-error');
  assert.equal(p.severity, 'error');
  assert.equal(p.line, 5);
  const line5 = ts.split('\n')[4];
  assert.equal(p.column, line5.indexOf('= ;') + 3, 'column of the unexpected ";" (1-based)');
  assert.match(p.message, /^Syntax error/);
  assert.ok(!p.message.includes('Error transforming'), 'no sucrase prefix in the message');

  const q = onlyProblem(migrationNamed(sources, 'migration_002_broken_js.cjs'), 'syntax-error');
  assert.equal(q.severity, 'error');
  assert.equal(q.line, lineOf(js, 'const = 5'));
  assert.equal(q.column, 'const '.length + 1, 'column of the "=" where a name was expected');
});

test('static: an import that does not resolve is an error at the import line; builtins, knex and existing files are fine', () => {
  const text = `import type { Knex } from 'knex';
import { tableName } from './helpers/missing';
import * as path from 'node:path';
import leftPad from 'no-such-package-for-mm-tests';
import { knex as makeKnex } from 'knex';
import { existing } from './helpers/existing';
export class Imports {
  readonly version = 1;
  readonly description = 'imports';
  async up(knex: Knex) { await knex.schema.createTable(tableName + leftPad(path.sep, 3) + existing + typeof makeKnex, () => {}); }
  async down(knex: Knex) {}
}
export function getMigration() { return Imports; }
`;
  const ws = tempWorkspace({
    'versions/migration_001_imports.ts': text,
    'versions/helpers/existing.ts': `export const existing = 'ok';\n`,
  });
  const [source] = new Discovery(ws).discover();
  const m = source.migrations[0];
  const unresolved = m.problems.filter((p) => p.code === 'unresolved-import');
  assert.deepEqual(unresolved.map((p) => p.line), [lineOf(text, './helpers/missing'), lineOf(text, 'no-such-package')]);
  assert.ok(unresolved.every((p) => p.severity === 'error' && p.file === m.path));
  assert.match(unresolved[0].message, /\.\/helpers\/missing/);
  assert.match(unresolved[1].message, /no-such-package-for-mm-tests/);
  assert.deepEqual(codes(m.problems), ['unresolved-import', 'unresolved-import']);
  // helpers/ is a subfolder, so it is neither a migration nor a bad name.
  assert.deepEqual(source.problems, []);
  assert.equal(source.migrations.length, 1);
});

test('static: a literal version that differs from the file name is an error at the version line', () => {
  const text = tsMigration(7, 'seven');
  const ws = tempWorkspace({ 'versions/migration_003_seven.ts': text });
  const [source] = new Discovery(ws).discover();
  const p = onlyProblem(source.migrations[0], 'version-mismatch');
  assert.equal(p.severity, 'error');
  assert.equal(p.line, lineOf(text, 'readonly version = 7'));
  assert.match(p.message, /7/);
  assert.match(p.message, /3/);
  assert.deepEqual(codes(source.migrations[0].problems), ['version-mismatch']);
});

test('static: a computed version is not misread as its first number', async () => {
  // `2 + 1` is 3: the file name agrees, so static checks must not claim version 2.
  const text = tsMigration(3, 'computed').replace('readonly version = 3;', 'readonly version = 2 + 1;');
  assert.ok(text.includes('2 + 1'));
  const ws = tempWorkspace({ 'versions/migration_003_computed.ts': text });
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations[0].problems, []);
  const e = engine(ws, { settings: settingsFrom({}) });
  assert.deepEqual((await e.validate()), []);
});

test('static: two files with the same version both get a duplicate-version error naming the other', () => {
  const ws = tempWorkspace({
    'versions/migration_001_first.ts': tsMigration(1, 'first'),
    'versions/migration_002_users.ts': tsMigration(2, 'users'),
    'versions/migration_002_orders.js': cjsMigration(2, 'orders'),
    'versions/migration_003_third.ts': tsMigration(3, 'third'),
  });
  const sources = new Discovery(ws).discover();
  const users = onlyProblem(migrationNamed(sources, 'migration_002_users.ts'), 'duplicate-version');
  const orders = onlyProblem(migrationNamed(sources, 'migration_002_orders.js'), 'duplicate-version');
  assert.equal(users.severity, 'error');
  assert.equal(orders.severity, 'error');
  assert.match(users.message, /migration_002_orders\.js/);
  assert.ok(!users.message.includes('migration_002_users.ts'), 'does not name itself');
  assert.match(orders.message, /migration_002_users\.ts/);
  assert.equal(users.file, path.join(ws, 'versions', 'migration_002_users.ts'));
  assert.equal(orders.file, path.join(ws, 'versions', 'migration_002_orders.js'));
  assert.deepEqual(migrationNamed(sources, 'migration_001_first.ts').problems, []);
  assert.deepEqual(migrationNamed(sources, 'migration_003_third.ts').problems, []);
});

test('static: badly named files in versions/ are warnings on the source, and are not migrations', () => {
  const ws = tempWorkspace({
    'versions/migration_001_good.ts': tsMigration(1, 'good'),
    'versions/migration_abc.ts': tsMigration(2, 'abc'),
    'versions/Migration_1_X.ts': tsMigration(1, 'x'),
    'versions/migration_002_CamelCase.ts': tsMigration(2, 'camel'),
    'versions/migration-003-dashes.js': cjsMigration(3, 'dashes'),
    'versions/README.md': 'notes\n',
    'versions/notes.txt': 'notes\n',
  });
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations.map((m) => path.basename(m.path)), ['migration_001_good.ts']);
  assert.deepEqual(source.migrations[0].problems, []);
  const warned = source.problems.map((p) => path.basename(p.file)).sort();
  assert.deepEqual(warned, ['Migration_1_X.ts', 'migration-003-dashes.js', 'migration_002_CamelCase.ts', 'migration_abc.ts']);
  for (const p of source.problems) {
    assert.equal(p.code, 'bad-file-name');
    assert.equal(p.severity, 'warning');
    assert.equal(path.dirname(p.file), path.join(ws, 'versions'));
    assert.ok(p.message.includes(path.basename(p.file)), 'the message names the file');
    assert.match(p.message, /migration_<version>_<snake_case_description>/);
  }
});

test('static: a migration without down() gets a missing-down warning at up(), reported once by validate', async () => {
  const text = tsMigration(1, 'no_down', { down: null });
  assert.ok(!text.includes('down('));
  const ws = tempWorkspace({ 'versions/migration_001_no_down.ts': text });
  const [source] = new Discovery(ws).discover();
  const m = source.migrations[0];
  const p = onlyProblem(m, 'missing-down');
  assert.deepEqual(codes(m.problems), ['missing-down']);
  assert.equal(p.severity, 'warning');
  assert.equal(p.line, lineOf(text, 'async up('));
  assert.match(p.message, /down\(/);
  assert.equal(m.hasDown, false);
  const e = engine(ws, { settings: settingsFrom({}) });
  const problems = (await e.validate());
  assert.deepEqual(problems.map((q) => [q.code, q.severity]), [['missing-down', 'warning']]);
});

test('static: binary and non-UTF-8 files are unreadable errors', () => {
  const ws = tempWorkspace({
    'versions/migration_001_good.ts': tsMigration(1, 'good'),
    'versions/migration_002_binary.ts': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02, 0xff]),
    'versions/migration_003_latin1.js': Buffer.from('// caf\xe9 cr\xe8me\nexports.getMigration = () => ({});\n', 'latin1'),
    // valid UTF-8 bytes, but binary (a WebAssembly header with NULs)
    'versions/migration_004_wasm.js': Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]),
  });
  const sources = new Discovery(ws).discover();
  for (const name of ['migration_002_binary.ts', 'migration_003_latin1.js', 'migration_004_wasm.js']) {
    const m = migrationNamed(sources, name);
    assert.deepEqual(codes(m.problems), ['unreadable'], name);
    assert.equal(m.problems[0].severity, 'error');
    assert.equal(m.problems[0].file, path.join(ws, 'versions', name));
    assert.match(m.problems[0].message, /UTF-8/);
  }
  assert.deepEqual(migrationNamed(sources, 'migration_001_good.ts').problems, []);
});

test('static: one bad file never stops the discovery of the others', async () => {
  const files: Record<string, string | Buffer> = {
    'versions/migration_001_good.ts': tsMigration(1, 'good_one'),
    'versions/migration_002_syntax.ts': 'export class {{{\n',
    'versions/migration_003_no_factory.ts': 'export class M3 { version = 3; description = "x"; up() {} down() {} }\n',
    'versions/migration_004_binary.js': Buffer.from([0, 1, 2, 3, 0xff]),
    'versions/migration_005_bad_import.ts': `import { x } from './nowhere';\nexport class M5 { version = 5; description = x; up() {} down() {} }\nexport function getMigration() { return M5; }\n`,
    'versions/migration_006_mismatch.ts': tsMigration(66, 'mismatch'),
    'versions/migration_nope.ts': 'export {};\n',
    'versions/migration_007_good.js': cjsMigration(7, 'good_seven'),
  };
  const ws = tempWorkspace(files);
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations.map((m) => m.version), [1, 2, 3, 4, 5, 6, 7]);
  const byVersion = new Map(source.migrations.map((m) => [m.version, codes(m.problems)]));
  assert.deepEqual(byVersion.get(1), []);
  assert.deepEqual(byVersion.get(2), ['syntax-error']);
  assert.deepEqual(byVersion.get(3), ['missing-get-migration']);
  assert.deepEqual(byVersion.get(4), ['unreadable']);
  assert.deepEqual(byVersion.get(5), ['unresolved-import']);
  assert.deepEqual(byVersion.get(6), ['version-mismatch']);
  assert.deepEqual(byVersion.get(7), []);
  assert.deepEqual(codes(source.problems), ['bad-file-name']);

  // Loading: only the bad files are reported; the good ones load cleanly.
  const e = engine(ws, { settings: settingsFrom({}) });
  const problems = (await e.validate());
  const badFiles = new Set(problems.map((p) => path.basename(p.file)));
  assert.ok(!badFiles.has('migration_001_good.ts'));
  assert.ok(!badFiles.has('migration_007_good.js'));
  assert.equal(badFiles.size, 6);
});

// ---------------------------------------------------------------------------------------------
// Static checks never execute code
// ---------------------------------------------------------------------------------------------

test('static checks never execute workspace code; validate does', async () => {
  const ws = tempWorkspace();
  const jsMarker = path.join(ws, 'ran-js.txt');
  const tsMarker = path.join(ws, 'ran-ts.txt');
  fs.mkdirSync(path.join(ws, 'versions'));
  fs.writeFileSync(path.join(ws, 'versions', 'migration_001_side_effect.js'),
    cjsMigration(1, 'side_effect', `require('fs').writeFileSync(${JSON.stringify(jsMarker)}, 'x');\n`));
  fs.writeFileSync(path.join(ws, 'versions', 'migration_002_side_effect_ts.ts'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(tsMarker)}, 'x');\n` + tsMigration(2, 'side_effect_ts'));

  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations.map((m) => m.problems), [[], []], 'both files are valid statically');
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    e.sources();
    const status = await e.status();
    assert.deepEqual(status.sources[0].migrations.map((m) => m.status), ['pending', 'pending']);
    assert.equal(fs.existsSync(jsMarker), false, 'discovery/status must not run the .js file');
    assert.equal(fs.existsSync(tsMarker), false, 'discovery/status must not run the .ts file');
    assert.deepEqual((await e.validate()), []);
    assert.equal(fs.existsSync(jsMarker), true, 'validate loads the .js file');
    assert.equal(fs.existsSync(tsMarker), true, 'validate loads the .ts file');
  } finally {
    await e.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------------------------

test('edits: a changed file is re-checked on the next discover(), even when its size is unchanged', () => {
  const ws = tempWorkspace({ 'versions/migration_001_edit.ts': 'export class M1 { version = 1; description = "d"; up() {} down() {} }\n' });
  const file = path.join(ws, 'versions', 'migration_001_edit.ts');
  const d = new Discovery(ws);
  assert.deepEqual(codes(d.discover()[0].migrations[0].problems), ['missing-get-migration']);
  // Unchanged: the cached result is returned as is.
  const first = d.discover()[0].migrations[0];
  assert.equal(d.discover()[0].migrations[0], first);

  fs.writeFileSync(file, tsMigration(1, 'edit'));
  const fixed = d.discover()[0].migrations[0];
  assert.deepEqual(fixed.problems, []);

  // Same size, different content and mtime.
  const before = fs.statSync(file);
  const edited = tsMigration(1, 'edit').replace('readonly version = 1;', 'readonly version = 9;');
  assert.equal(Buffer.byteLength(edited), before.size);
  fs.writeFileSync(file, edited);
  const later = new Date(before.mtimeMs + 5_000);
  fs.utimesSync(file, later, later);
  const mismatch = d.discover()[0].migrations[0];
  assert.deepEqual(codes(mismatch.problems), ['version-mismatch']);
  assert.notEqual(mismatch.checksum, fixed.checksum);
});

test('edits: an edited file is reloaded by the next validate() and up() (a fresh module each load)', async () => {
  const counter = `__mmLoads_${process.pid}_${Date.now()}`;
  const g = globalThis as unknown as Record<string, number | undefined>;
  const withCounter = (table: string) =>
    `(globalThis as any)[${JSON.stringify(counter)}] = ((globalThis as any)[${JSON.stringify(counter)}] ?? 0) + 1;\n` + tsMigration(1, table);
  const ws = tempWorkspace({ 'versions/migration_001_reload.ts': withCounter('first_table') });
  const file = path.join(ws, 'versions', 'migration_001_reload.ts');
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    assert.deepEqual((await e.validate()), []);
    assert.equal(g[counter], 1);
    assert.deepEqual((await e.validate()), []);
    assert.equal(g[counter], 2, 'each validate loads the module again');

    fs.writeFileSync(file, `export function getMigration(): never { throw new Error('edited to throw'); }\n` +
      tsMigration(1, 'x').replace(/export function getMigration[^\n]*\n/, ''));
    const problems = (await e.validate());
    assert.deepEqual(problems.map((p) => p.code), ['get-migration-threw']);
    assert.match(problems[0].message, /edited to throw/);

    fs.writeFileSync(file, withCounter('second_table'));
    const report = await e.up();
    assert.equal(report.ok, true);
    assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [[1, 'done']]);
  } finally {
    await e.close();
    delete g[counter];
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['second_table']);
});

// ---------------------------------------------------------------------------------------------
// Relative helpers
// ---------------------------------------------------------------------------------------------

test('helpers: a .ts migration importing a relative .ts helper loads and runs; helpers/ is not a migration', async () => {
  const ws = tempWorkspace({
    'versions/helpers/names.ts': `export const tableName: string = 'from_helper';\nexport function columnName(): string { return 'label'; }\n`,
    'versions/migration_001_uses_helper.ts': `import type { Knex } from 'knex';
import { tableName, columnName } from './helpers/names';

export class UsesHelper {
  readonly version = 1;
  readonly description = 'uses a helper';
  async up(knex: Knex) { await knex.schema.createTable(tableName, (t) => { t.increments('id'); t.string(columnName()); }); }
  async down(knex: Knex) { await knex.schema.dropTable(tableName); }
}
export function getMigration() { return UsesHelper; }
`,
  });
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.problems, []);
  assert.deepEqual(source.migrations.map((m) => [path.basename(m.path), m.problems]), [['migration_001_uses_helper.ts', []]]);
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    assert.deepEqual((await e.validate()), []);
    const report = await e.up();
    assert.equal(report.ok, true);
  } finally {
    await e.close();
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['from_helper']);
  const columns = await inspect(DEFAULT_DB(ws), async (db) => Object.keys(await db('from_helper').columnInfo()));
  assert.deepEqual(columns.sort(), ['id', 'label']);
  assert.equal(fs.readdirSync(path.join(ws, 'versions', 'helpers')).join(','), 'names.ts', 'nothing written next to the helper');
});

test('a symlinked migration inside the workspace is a migration; one pointing outside is refused', () => {
  const outside = tempWorkspace({ 'elsewhere.ts': tsMigration(2, 't2') });
  const ws = tempWorkspace({ 'shared/m1.ts': tsMigration(1, 't1') });
  fs.mkdirSync(path.join(ws, 'versions'));
  fs.symlinkSync(path.join(ws, 'shared', 'm1.ts'), path.join(ws, 'versions', 'migration_001_inside.ts'));
  fs.symlinkSync(path.join(outside, 'elsewhere.ts'), path.join(ws, 'versions', 'migration_002_outside.ts'));
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.problems, []);
  const [inside, out] = source.migrations;
  assert.deepEqual(inside.problems, []);
  assert.equal(out.problems.length, 1);
  assert.equal(out.problems[0].code, 'unreadable');
  assert.match(out.problems[0].message, /outside the workspace/);
});

test('the description literal labels a migration before it is loaded; otherwise the file name does', async () => {
  const ws = tempWorkspace({
    'versions/migration_001_first.ts': tsMigration(1, 'a').replace("'create a'", "'It\\'s the first'"),
    'versions/migration_002_second_one.ts': tsMigration(2, 'b').replace("readonly description = 'create b';", "readonly description = ['x', 'y'].join(' ');"),
  });
  const e = engine(ws);
  try {
    const [source] = (await e.status()).sources;
    assert.deepEqual(source.migrations.map((m) => m.description), ["It's the first", 'second one']);
  } finally {
    await e.close();
  }
});
