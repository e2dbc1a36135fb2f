import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { checkSum, computeSum, SUM_FILE, writeSum } from '../src/core/sources/integrity';
import { parseMigrationName } from '../src/core/model/naming';
import type { Logger, Problem } from '../src/core/model/types';
import { InvalidMigrationsError } from '../src/core';
import { cli, DEFAULT_DB, engine, migrationFiles, migrationPath, tempWorkspace, tsMigration, userTables } from './helpers';

const M1 = 'migration_001_create_users.ts';
const M2 = 'migration_002_create_posts.ts';

/** A workspace whose `versions/` holds the given migrations (file name → content). */
function source(files: Record<string, string> = { [M1]: tsMigration(1, 'users'), [M2]: tsMigration(2, 'posts') }): string {
  const ws = tempWorkspace(Object.fromEntries(Object.entries(files).map(([name, text]) => [`versions/${name}`, text])));
  return path.join(ws, 'versions');
}

/** What discovery would hand over: every file of the folder named like a migration. */
function filesIn(dir: string): { path: string; version: number }[] {
  return fs.readdirSync(dir).flatMap((name) => {
    const parsed = parseMigrationName(name);
    return parsed ? [{ path: path.join(dir, name), version: parsed.version }] : [];
  });
}

/** The one problem expected, checked field by field. */
function only(problems: readonly Problem[], want: Omit<Problem, 'column' | 'message'> & { says: RegExp }): void {
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
  const [p] = problems;
  assert.deepEqual({ code: p.code, file: p.file, line: p.line, severity: p.severity }, { code: want.code, file: want.file, line: want.line, severity: want.severity });
  assert.match(p.message, want.says);
  assert.match(p.message, /migrations rehash/);
}

test('the sum is deterministic: sorted by version then name, CRLF hashes as LF, other files left out', () => {
  const lf = tsMigration(10, 'later');
  const a = source({ [M2]: tsMigration(2, 'posts'), 'migration_010_later.ts': lf, 'migration_009_b.ts': 'b', 'migration_009_a.ts': 'a', 'notes.md': 'x' });
  const b = source({ [M2]: tsMigration(2, 'posts').replace(/\n/g, '\r\n'), 'migration_010_later.ts': lf.replace(/\n/g, '\r\n'), 'migration_009_b.ts': 'b', 'migration_009_a.ts': 'a' });
  const all = (dir: string) => fs.readdirSync(dir).map((n) => ({ path: path.join(dir, n) })).reverse();
  const text = computeSum(a, all(a));
  assert.equal(computeSum(a, all(a)), text);
  assert.equal(computeSum(b, all(b)), text, 'a CRLF checkout has the same sum');
  const rows = text.split('\n');
  assert.match(rows[0], /^h1:[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(rows.slice(1).map((r) => r.split(' ')[0]), [M2, 'migration_009_a.ts', 'migration_009_b.ts', 'migration_010_later.ts', '']);
  assert.ok(rows.slice(1, -1).every((r) => / h1:[A-Za-z0-9+/]{43}=$/.test(r)));
  assert.ok(text.endsWith('\n') && !text.includes('\r'));
});

test('writeSum writes only when the sum changes, and a fresh sum has no problems', () => {
  const dir = source();
  assert.deepEqual(writeSum(dir, filesIn(dir)), { path: path.join(dir, SUM_FILE), changed: true });
  assert.deepEqual(writeSum(dir, filesIn(dir)), { path: path.join(dir, SUM_FILE), changed: false });
  assert.deepEqual(checkSum(dir, filesIn(dir)), []);
  // A checkout that turned the sum's line endings into CRLF is still the same sum.
  fs.writeFileSync(path.join(dir, SUM_FILE), fs.readFileSync(path.join(dir, SUM_FILE), 'utf8').replace(/\n/g, '\r\n'));
  assert.deepEqual(checkSum(dir, filesIn(dir)), []);
  assert.equal(writeSum(dir, filesIn(dir)).changed, false);
});

test('no sum file: no problems (the sum is opt-in)', () => {
  const dir = source();
  assert.deepEqual(checkSum(dir, filesIn(dir)), []);
});

test('a file added without the sum updated: sum-added on the file', () => {
  const dir = source();
  writeSum(dir, filesIn(dir));
  const added = path.join(dir, 'migration_003_add_tags.ts');
  fs.writeFileSync(added, tsMigration(3, 'tags'));
  only(checkSum(dir, filesIn(dir)), { code: 'sum-added', file: added, line: 1, severity: 'error', says: /migration_003_add_tags\.ts is not listed in migrations\.sum/ });
});

test('a file edited after the sum: sum-edited on the file (a CRLF-only change is no edit)', () => {
  const dir = source();
  writeSum(dir, filesIn(dir));
  const file = path.join(dir, M1);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
  assert.deepEqual(checkSum(dir, filesIn(dir)), []);
  fs.appendFileSync(file, '// changed\n');
  only(checkSum(dir, filesIn(dir)), { code: 'sum-edited', file, line: 1, severity: 'error', says: /migration_001_create_users\.ts was edited after migrations\.sum was written.*add a new one instead/ });
});

test('a file listed but gone: sum-removed on the sum at the line that lists it', () => {
  const dir = source();
  writeSum(dir, filesIn(dir));
  fs.rmSync(path.join(dir, M2));
  only(checkSum(dir, filesIn(dir)), { code: 'sum-removed', file: path.join(dir, SUM_FILE), line: 3, severity: 'error', says: /migration_002_create_posts\.ts is listed in migrations\.sum but the file is gone/ });
});

test('a sum edited by hand: sum-tampered on line 1', () => {
  const dir = source();
  writeSum(dir, filesIn(dir));
  const sum = path.join(dir, SUM_FILE);
  // Drop a line, as a hand-made merge might: the files still match their lines, the head does not.
  const rows = fs.readFileSync(sum, 'utf8').split('\n');
  fs.writeFileSync(sum, [rows[0], rows[1], ''].join('\n'));
  fs.rmSync(path.join(dir, M2));
  only(checkSum(dir, filesIn(dir)), { code: 'sum-tampered', file: sum, line: 1, severity: 'error', says: /edited by hand/ });
});

test('a malformed sum: one sum-invalid error naming the line', () => {
  const dir = source();
  writeSum(dir, filesIn(dir));
  const sum = path.join(dir, SUM_FILE);
  const rows = fs.readFileSync(sum, 'utf8').split('\n');
  fs.writeFileSync(sum, [rows[0], rows[1], 'migration_002_create_posts.ts sha:abc', ''].join('\n'));
  only(checkSum(dir, filesIn(dir)), { code: 'sum-invalid', file: sum, line: 3, severity: 'error', says: /line 3 is not valid/ });
  fs.writeFileSync(sum, [rows[0], '<<<<<<< HEAD', rows[1], '=======', rows[2], '>>>>>>> b', ''].join('\n'));
  only(checkSum(dir, filesIn(dir)), { code: 'sum-invalid', file: sum, line: 2, severity: 'error', says: /line 2 is a git conflict marker.*Resolve the merge/ });
});

test('git: two branches that each add a migration conflict on migrations.sum, and checkSum names what the resolution left out', (t) => {
  const probe = spawnSync('git', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('git is not installed');
  const repo = path.dirname(source());
  const versions = path.join(repo, 'versions');
  // No system or user config (HOME is the temp folder), no GIT_DIR from a hook that runs the tests.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', HOME: repo, XDG_CONFIG_HOME: repo });
  const config = ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'core.autocrlf=false', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main'];
  const git = (...args: string[]) => spawnSync('git', [...config, ...args], { cwd: repo, env, encoding: 'utf8' });
  const ok = (...args: string[]) => execFileSync('git', [...config, ...args], { cwd: repo, env, encoding: 'utf8' });
  const branch = (name: string, file: string, version: number) => {
    ok('checkout', '-q', '-b', name, 'main');
    fs.writeFileSync(path.join(versions, file), tsMigration(version, name));
    writeSum(versions, filesIn(versions));
    ok('add', '-A');
    ok('commit', '-q', '-m', `add ${file}`);
  };

  ok('init', '-q');
  ok('symbolic-ref', 'HEAD', 'refs/heads/main');
  writeSum(versions, filesIn(versions));
  ok('add', '-A');
  ok('commit', '-q', '-m', 'two migrations and their sum');
  const A = 'migration_003_add_a.ts';
  const B = 'migration_003_add_b.ts';
  branch('a', A, 3);
  branch('b', B, 3);
  ok('checkout', '-q', 'a');

  const merge = git('merge', '--no-edit', 'b');
  assert.notEqual(merge.status, 0, `the merge should conflict:\n${merge.stdout}${merge.stderr}`);
  assert.deepEqual(ok('diff', '--name-only', '--diff-filter=U').split('\n').filter(Boolean), ['versions/migrations.sum']);
  assert.ok(fs.existsSync(path.join(versions, A)) && fs.existsSync(path.join(versions, B)), 'both migrations merged without conflict');

  const sum = path.join(versions, SUM_FILE);
  only(checkSum(versions, filesIn(versions)), { code: 'sum-invalid', file: sum, line: 1, severity: 'error', says: /git conflict marker.*Resolve the merge/ });

  ok('checkout', '--ours', '--', 'versions/migrations.sum');
  only(checkSum(versions, filesIn(versions)), { code: 'sum-added', file: path.join(versions, B), line: 1, severity: 'error', says: /migration_003_add_b\.ts is not listed/ });
  ok('checkout', '--theirs', '--', 'versions/migrations.sum');
  only(checkSum(versions, filesIn(versions)), { code: 'sum-added', file: path.join(versions, A), line: 1, severity: 'error', says: /migration_003_add_a\.ts is not listed/ });

  // What `migrations rehash` does once the versions are sorted out: the sum lists both again.
  assert.equal(writeSum(versions, filesIn(versions)).changed, true);
  assert.deepEqual(checkSum(versions, filesIn(versions)), []);
});

/** A logger that keeps what it is told. */
function recording(): { warnings: string[]; logger: Logger } {
  const warnings: string[] = [];
  return { warnings, logger: { info() {}, debug() {}, error() {}, warn: (m) => warnings.push(m) } };
}

test('writes never follow a link out of the workspace: a linked migrations.sum or schema.sql is refused, naming the link', async () => {
  const outside = tempWorkspace({ 'victim.sum': 'KEEP', 'victim.sql': 'KEEP' });
  const ws = tempWorkspace(migrationFiles([1]));
  const sumLink = path.join(ws, 'versions', SUM_FILE);
  fs.symlinkSync(path.join(outside, 'victim.sum'), sumLink);
  const { warnings, logger } = recording();
  const e = engine(ws, { logger });
  const refused = (link: string) => (err: Error) => err.message.includes(`${link} is a link to ${outside}`) && /outside the workspace.*only inside it/.test(err.message);
  assert.throws(() => e.rehash(), refused(sumLink));
  // create refuses before it writes anything: no migration file without its sum line.
  assert.throws(() => e.create('add posts'), refused(sumLink));
  assert.deepEqual(fs.readdirSync(path.join(ws, 'versions')).sort(), [path.basename(migrationPath(1)), SUM_FILE]);
  // A link to a file not made yet would have the write create it out there.
  fs.rmSync(sumLink);
  fs.symlinkSync(path.join(outside, 'new', 'made.sum'), sumLink);
  assert.throws(() => e.rehash(), refused(sumLink));
  assert.equal(fs.existsSync(path.join(outside, 'new')), false);

  // schema.sql beside the source, written after every run that changed something, and by `schema`.
  const schemaLink = path.join(ws, 'schema.sql');
  fs.symlinkSync(path.join(outside, 'victim.sql'), schemaLink);
  const report = await e.up();
  assert.equal(report.ok, true);
  assert.ok(warnings.some((w) => w.includes(`${schemaLink} is a link to ${outside}`)), warnings.join('\n'));
  await assert.rejects(e.schema({ write: true }), refused(schemaLink));
  await e.close();
  assert.equal(fs.readFileSync(path.join(outside, 'victim.sum'), 'utf8'), 'KEEP');
  assert.equal(fs.readFileSync(path.join(outside, 'victim.sql'), 'utf8'), 'KEEP');

  // A link that stays inside the workspace is followed as before.
  fs.rmSync(schemaLink);
  fs.mkdirSync(path.join(ws, 'db'));
  fs.symlinkSync(path.join(ws, 'db', 'schema.sql'), schemaLink);
  const e2 = engine(ws);
  assert.equal((await e2.schema({ write: true })).written, true);
  await e2.close();
  assert.match(fs.readFileSync(path.join(ws, 'db', 'schema.sql'), 'utf8'), /t1/);
});

test('a versions folder that links out of the workspace is not run nor written into: a problem names the link', async () => {
  const outside = tempWorkspace(migrationFiles([1]));
  const before = fs.readdirSync(path.join(outside, 'versions'));
  for (const settings of [{ 'migrations.versionsDir': 'versions' }, {}]) {
    const ws = tempWorkspace({ '.vscode/settings.json': JSON.stringify(settings) });
    const link = path.join(ws, 'versions');
    fs.symlinkSync(path.join(outside, 'versions'), link);
    const e = engine(ws);
    const status = await e.status();
    assert.deepEqual(status.sources.map((s) => [s.id, s.migrations.length, s.problems.map((p) => [p.code, p.file, p.severity])]),
      [['versions', 0, [['outside-workspace', link, 'error']]]], JSON.stringify(settings));
    assert.match(status.sources[0].problems[0].message, new RegExp(`links to ${outside}/versions, outside the workspace`));
    const up = await e.up();
    assert.deepEqual([up.ok, up.steps, up.problems?.map((p) => p.code)], [false, [], ['outside-workspace']]);
    assert.ok(up.error?.startsWith(`Not run: versions (1 problem to fix first: ${link}:1 ${link} links to ${outside}`), up.error);
    assert.throws(() => e.create('add posts', { source: 'versions' }), (err: Error) => err.message.includes(`${link} is a link to ${outside}`));
    assert.throws(() => e.rehash(), (err: Error) => err.message.includes(`${link} is a link to ${outside}`));
    await e.close();
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
  }
  assert.deepEqual(fs.readdirSync(path.join(outside, 'versions')), before);
});

test('integrity problems block: a conflict marker in the sum, an edited applied file or one added by hand: up refuses (nothing run, no database made), validate and status exit 1; --allow-sum-mismatch runs', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  assert.equal(cli(['rehash', '--dir', ws]).code, 0);
  const sum = path.join(ws, 'versions', SUM_FILE);
  const good = fs.readFileSync(sum, 'utf8');
  fs.writeFileSync(sum, `<<<<<<< HEAD\n${good}=======\n${good}>>>>>>> b\n`);

  const refused = cli(['up', '--dir', ws]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /^error: migrations\.sum does not match the migration files, so nothing was run:\nversions[\\/]migrations\.sum:1:1 error \[sum-invalid\] migrations\.sum line 1 is a git conflict marker/);
  assert.match(refused.stderr, /Fix the sum \(run "migrations rehash" once the files are as they should be\), or pass --allow-sum-mismatch to run anyway\.\n$/);
  assert.equal(fs.existsSync(DEFAULT_DB(ws)), false, 'a refused up makes no database');
  const validate = cli(['validate', '--dir', ws]);
  assert.equal(validate.code, 1, validate.stdout);
  assert.match(validate.stdout, /git conflict marker[\s\S]*1 error\(s\)/);
  assert.equal(cli(['status', '--dir', ws]).code, 1);

  fs.writeFileSync(sum, good);
  assert.equal(cli(['up', '--dir', ws]).code, 0);
  // The applied file edited, and a new one added without the sum: both named, nothing runs.
  fs.appendFileSync(path.join(ws, migrationPath(1)), '// edited after it ran\n');
  fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
  await assert.rejects(engine(ws).up(), (err: unknown) => err instanceof InvalidMigrationsError && err.code === 'invalid-migrations' &&
    JSON.stringify(err.problems.map((p) => [p.code, p.severity])) === '[["sum-edited","error"],["sum-added","error"]]' && /pass allowSumMismatch: true to up\(\)/.test(err.message));
  const json = cli(['up', '--json', '--dir', ws]);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout).problems.map((p: Problem) => p.code), ['sum-edited', 'sum-added']);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.equal(cli(['validate', '--dir', ws]).code, 1);

  // Said explicitly: validate lists them as warnings, up runs.
  const allowed = cli(['validate', '--allow-sum-mismatch', '--dir', ws]);
  assert.equal(allowed.code, 0, allowed.stdout);
  assert.match(allowed.stdout, /0 error\(s\), 2 warning\(s\)/);
  assert.equal(cli(['status', '--allow-sum-mismatch', '--dir', ws]).code, 2, 'the flag goes with up and validate only');
  const ran = cli(['up', '--allow-sum-mismatch', '--dir', ws]);
  assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2']);
});

test('a sum problem in a source with nothing to run blocks nothing; no sum file is no problem', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1]), 'b/versions/migration_001_b.ts': tsMigration(1, 'b') });
  assert.equal(cli(['rehash', '--dir', ws]).code, 0);
  assert.equal(cli(['up', '--source', 'versions', '--dir', ws]).code, 0);
  fs.appendFileSync(path.join(ws, migrationPath(1)), '// edited\n');
  const r = cli(['up', '--source', 'b/versions', '--dir', ws]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const bare = tempWorkspace(migrationFiles([1]));
  assert.equal(cli(['up', '--dir', bare]).code, 0);
  assert.equal(cli(['validate', '--dir', bare]).code, 0);
});
