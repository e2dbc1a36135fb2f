// The CLI end to end: every test spawns the built dist/cli.js on a temp copy of the sample workspace.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, DEFAULT_DB, inspect, migrationPath, sampleWorkspace, sqliteKnex, tempWorkspace, tsMigration, type CliResult, userTables } from './helpers';

const SAMPLE_TABLES = ['chat_messages', 'chat_users'];

/** Runs the CLI on a workspace (`--dir ws`). */
function run(ws: string, args: readonly string[]): CliResult {
  return cli([...args, '--dir', ws]);
}

/** Runs with `--json`, checks the exit code and parses stdout. */
function runJson<T = any>(ws: string, args: readonly string[], code = 0): T {
  const r = run(ws, [...args, '--json']);
  assert.equal(r.code, code, `exit code of ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what} should exit 0\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** [version, status] of every migration of the only source. */
function statuses(ws: string): [number, string][] {
  const report = runJson(ws, ['status']);
  assert.equal(report.sources.length, 1);
  return report.sources[0].migrations.map((m: { version: number; status: string }) => [m.version, m.status]);
}

async function columns(dbFile: string, table: string): Promise<string[]> {
  return inspect(dbFile, async (db) => Object.keys(await db(table).columnInfo()).sort());
}

async function historyCount(dbFile: string): Promise<number> {
  return inspect(dbFile, async (db) => Number(((await db('migration_history').count({ n: '*' })) as { n: number }[])[0].n));
}

const STEP_KEYS = ['description', 'direction', 'durationMs', 'outcome', 'path', 'source', 'version'];
const sortedKeys = (o: object) => Object.keys(o).sort();

/** A migration file whose up() throws `thrown` (source text of the value). */
function throwingMigration(version: number, thrown: string): string {
  return `import type { Knex } from 'knex';
export class Broken${version} {
  readonly version = ${version};
  readonly description = 'broken on purpose';
  async up(knex: Knex) {
    await knex.schema.createTable('half_done', (t) => { t.increments('id'); });
    throw ${thrown};
  }
  async down(knex: Knex) { await knex.schema.dropTableIfExists('half_done'); }
}
export function getMigration() { return Broken${version}; }
`;
}

const NO_GET_MIGRATION = `import type { Knex } from 'knex';

export class AddIndex {
  readonly version = 4;
  readonly description = 'Add an index';
  async up(knex: Knex) { await knex.schema.alterTable('chat_users', (t) => t.index(['username'])); }
  async down(knex: Knex) { await knex.schema.alterTable('chat_users', (t) => t.dropIndex(['username'])); }
}
`;

describe('status', () => {
  test('human table lists the three sample migrations as pending and creates no database', () => {
    const ws = sampleWorkspace();
    const r = ok(run(ws, ['status']), 'status');
    const rows = r.stdout.split('\n').filter((l) => /^\s+00\d\s/.test(l));
    assert.equal(rows.length, 3, r.stdout);
    for (const [i, row] of rows.entries()) {
      assert.match(row, new RegExp(`^\\s+00${i + 1}\\s+pending\\s`));
    }
    assert.match(r.stdout, /Create chat_users and chat_messages/);
    assert.match(r.stdout, /VERSION\s+STATUS\s+DESCRIPTION/);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false, 'status must not create the database');
  });

  test('--json has exactly {database, sources} when unlocked, and a status per migration', () => {
    const ws = sampleWorkspace();
    const report = runJson(ws, ['status']);
    assert.deepEqual(sortedKeys(report), ['database', 'sources']);
    assert.equal(typeof report.database, 'string');
    assert.match(report.database, /dev\.sqlite3/);
    assert.equal(report.sources.length, 1);
    assert.deepEqual(sortedKeys(report.sources[0]), ['dir', 'id', 'migrations', 'problems']);
    assert.equal(report.sources[0].id, 'versions');
    const migrations = report.sources[0].migrations;
    assert.deepEqual(migrations.map((m: { version: number; status: string }) => [m.version, m.status]), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
    // Per migration the documented fields are always there (more may be added).
    for (const key of ['source', 'version', 'description', 'path', 'status', 'applied', 'problems', 'appliedAt', 'durationMs', 'lastError']) {
      assert.ok(key in migrations[0], `migration entry has "${key}": ${JSON.stringify(migrations[0])}`);
    }
  });

  test('--json adds "lock" while the database is locked; unlock releases a stale lock', async () => {
    const ws = sampleWorkspace();
    ok(run(ws, ['up']), 'up');
    assert.equal(ok(run(ws, ['unlock']), 'unlock').stdout.trim(), 'The database is not locked.');
    await leaveStaleLock(DEFAULT_DB(ws));
    const report = runJson(ws, ['status']);
    assert.deepEqual(sortedKeys(report), ['database', 'lock', 'sources']);
    assert.deepEqual(sortedKeys(report.lock), ['acquiredAt', 'heartbeat', 'holder', 'host', 'pid', 'stale']);
    assert.equal(report.lock.holder, 'cli ghost@elsewhere');
    assert.equal(report.lock.stale, true, 'a day-old heartbeat is stale');
    assert.match(ok(run(ws, ['status']), 'status').stdout, /Stale lock left by cli ghost@elsewhere \(pid 999999 on elsewhere, gone\)/);
    assert.match(ok(run(ws, ['unlock']), 'unlock').stdout, /Released the lock held by cli ghost@elsewhere/);
    assert.deepEqual(sortedKeys(runJson(ws, ['status'])), ['database', 'sources']);
  });

  test('exits 1 when any migration file is invalid, and names the file and line', () => {
    const ws = sampleWorkspace();
    fs.writeFileSync(path.join(ws, 'versions', 'migration_004_add_index.ts'), NO_GET_MIGRATION);
    const r = run(ws, ['status']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /004\s+invalid/);
    assert.match(r.stdout, /versions\/migration_004_add_index\.ts:3:\d+ error \[missing-get-migration\]/);
    const report = runJson(ws, ['status'], 1);
    const bad = report.sources[0].migrations.find((m: { version: number }) => m.version === 4);
    assert.equal(bad.status, 'invalid');
    assert.equal(bad.problems[0].code, 'missing-get-migration');
  });
});

describe('up, down, redo', () => {
  test('up applies all; down rolls back one; down --to 1; down --all', async () => {
    const ws = sampleWorkspace();
    const db = DEFAULT_DB(ws);
    const up = ok(run(ws, ['up']), 'up');
    assert.match(up.stdout, /3 migration\(s\) done\./);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'applied']]);
    assert.deepEqual(await userTables(db), SAMPLE_TABLES);
    assert.ok((await columns(db, 'chat_users')).includes('metadata'));

    const down = runJson(ws, ['down']);
    assert.equal(down.ok, true);
    assert.deepEqual(down.steps.map((s: { version: number; direction: string; outcome: string }) => [s.version, s.direction, s.outcome]), [[3, 'down', 'done']]);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);
    assert.equal((await columns(db, 'chat_users')).includes('metadata'), false);

    ok(run(ws, ['up']), 'up again');
    const to1 = runJson(ws, ['down', '--to', '1']);
    assert.deepEqual(to1.steps.map((s: { version: number }) => s.version), [3, 2]);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'pending'], [3, 'pending']]);
    assert.deepEqual(await userTables(db), SAMPLE_TABLES);

    const all = runJson(ws, ['down', '--all']);
    assert.deepEqual(all.steps.map((s: { version: number }) => s.version), [1]);
    assert.deepEqual(statuses(ws), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
    assert.deepEqual(await userTables(db), []);

    const nothing = ok(run(ws, ['down']), 'down with nothing applied');
    assert.match(nothing.stdout, /Nothing to roll back/);
  });

  test('up --to 2 stops at 2; redo rolls back and reapplies the last one', () => {
    const ws = sampleWorkspace();
    const to2 = runJson(ws, ['up', '--to', '2']);
    assert.deepEqual(to2.steps.map((s: { version: number; direction: string }) => [s.version, s.direction]), [[1, 'up'], [2, 'up']]);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);

    const redo = runJson(ws, ['redo']);
    assert.equal(redo.ok, true);
    assert.deepEqual(redo.steps.map((s: { version: number; direction: string; outcome: string }) => [s.version, s.direction, s.outcome]), [[2, 'down', 'done'], [2, 'up', 'done']]);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);
    const human = ok(run(ws, ['redo']), 'redo');
    assert.match(human.stdout, /down\s+versions 002/);
    assert.match(human.stdout, /up\s+versions 002/);
  });

  test('--json run reports have exactly {ok, steps} and stable step keys', () => {
    const ws = sampleWorkspace();
    const up = runJson(ws, ['up']);
    assert.deepEqual(sortedKeys(up), ['ok', 'steps']);
    assert.equal(up.ok, true);
    assert.equal(up.steps.length, 3);
    for (const s of up.steps) assert.deepEqual(sortedKeys(s), STEP_KEYS);
    assert.deepEqual(sortedKeys(runJson(ws, ['up'])), ['ok', 'steps']);
    const down = runJson(ws, ['down']);
    assert.deepEqual(sortedKeys(down), ['ok', 'steps']);
    assert.deepEqual(sortedKeys(down.steps[0]), STEP_KEYS);
    assert.equal(down.steps[0].direction, 'down');
  });

  test('a failing up exits 1, names the migration and the error, without a stack trace', async () => {
    const ws = sampleWorkspace();
    fs.writeFileSync(path.join(ws, 'versions', 'migration_004_broken.ts'), throwingMigration(4, "new Error('kaboom: column exploded')"));
    const r = run(ws, ['up']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, /FAIL up\s+versions 004/);
    assert.match(out, /Migration 4 \(versions\) failed during up\(\): kaboom: column exploded/);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(out, /\[object Object\]/);
    // 1–3 committed, 4 rolled back (its half-created table is gone) and recorded as failed.
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'failed']]);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), SAMPLE_TABLES);

    const report = runJson(ws, ['up'], 1);
    assert.deepEqual(sortedKeys(report), ['code', 'error', 'ok', 'steps']);
    assert.equal(report.ok, false);
    // What kind of failure, for scripts: the migration's (not the database's, see faults-database).
    assert.equal(report.code, 'migration-failed');
    assert.match(report.error, /kaboom: column exploded/);
    assert.deepEqual(sortedKeys(report.steps[0]), [...STEP_KEYS, 'error'].sort());
    assert.equal(report.steps[0].outcome, 'failed');
    assert.match(report.steps[0].error, /Migration 4/);
  });

  test('a migration throwing a plain object or a string is described, never "[object Object]"', () => {
    const ws = sampleWorkspace();
    const file = path.join(ws, 'versions', 'migration_004_broken.ts');
    fs.writeFileSync(file, throwingMigration(4, "{ code: 'E_WEIRD', detail: 'not an Error' }"));
    let r = run(ws, ['up']);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /Migration 4 \(versions\) failed during up\(\)/);
    assert.match(r.stdout + r.stderr, /E_WEIRD/);
    assert.doesNotMatch(r.stdout + r.stderr, /\[object Object\]|\n\s+at /);

    fs.writeFileSync(file, throwingMigration(4, "'just a string'"));
    r = run(ws, ['up']);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /just a string/);
    assert.doesNotMatch(r.stdout + r.stderr, /\[object Object\]|\n\s+at /);
  });

  test('up that passes over out-of-order migrations says so, in its summary and its --json', () => {
    const ws = tempWorkspace({ [migrationPath(1)]: tsMigration(1, 't1'), [migrationPath(3)]: tsMigration(3, 't3') });
    ok(run(ws, ['up']), 'up');
    fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
    let r = ok(run(ws, ['up']), 'up with only an out-of-order migration');
    assert.match(r.stdout, /Nothing to apply\. Passed over 1 out-of-order migration \(older than one applied\): 002 create t2; run "migrations up --out-of-order" to apply it\./);
    fs.writeFileSync(path.join(ws, migrationPath(4)), tsMigration(4, 't4'));
    r = ok(run(ws, ['up']), 'up');
    assert.match(r.stdout, /1 migration\(s\) done\. Passed over 1 out-of-order migration/);
    const json = runJson(ws, ['up']);
    assert.deepEqual(json, { ok: true, steps: [], passedOver: [{ source: 'versions', version: 2, description: 'create t2' }] });
    r = ok(run(ws, ['up', '--out-of-order']), 'up --out-of-order');
    assert.match(r.stdout, /ok {3}up {3}versions 002 create t2/);
    assert.doesNotMatch(r.stdout, /Passed over/);
  });

  test('up refuses to run when a file is invalid: exit 1, nothing applied', async () => {
    const ws = sampleWorkspace();
    fs.writeFileSync(path.join(ws, 'versions', 'migration_004_add_index.ts'), NO_GET_MIGRATION);
    const r = run(ws, ['up']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /migration_004_add_index\.ts:3:\d+/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
  });

  test('a refused up or rename-source creates nothing: no database file, no table in an existing one', async () => {
    const refusals: [string, Record<string, string>, string[]][] = [
      ['a syntax error', { 'versions/migration_001_a.ts': 'export function getMigration( {' }, ['up']],
      ['getMigration() throwing', { 'versions/migration_001_a.ts': "export function getMigration() { throw new Error('boom'); }" }, ['up']],
      ['an unresolved import', { 'versions/migration_001_a.ts': `import x from 'no-such-package-here';\n${tsMigration(1, 'a')}` }, ['up']],
      ['no getMigration()', { 'versions/migration_001_a.ts': NO_GET_MIGRATION }, ['up']],
      ['a source that is not there', { 'versions/migration_001_a.ts': tsMigration(1, 'a') }, ['rename-source', 'old/versions', 'versions']],
    ];
    for (const [what, files, args] of refusals) {
      const ws = tempWorkspace(files);
      const r = run(ws, args);
      assert.notEqual(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
      assert.equal(fs.existsSync(path.join(ws, '.migrations')), false, `${what}: ${args[0]} refused, yet created .migrations`);
      // An existing (empty) database gets no table either.
      fs.mkdirSync(path.join(ws, '.migrations'));
      const empty = sqliteKnex(DEFAULT_DB(ws));
      await empty.raw('create table app_data (id integer)');
      await empty.destroy();
      assert.notEqual(run(ws, args).code, 0, what);
      const tables = await inspect(DEFAULT_DB(ws), async (db) => (await db('sqlite_master').where({ type: 'table' }).pluck('name')) as string[]);
      assert.deepEqual(tables, ['app_data'], what);
    }
  });
});

describe('--json output', () => {
  test('is always parseable: what migration code, its config and hooks print goes to stderr, never into the JSON', () => {
    const noisy = (v: number) => `console.log('LOADED ${v}'); process.stdout.write('RAW ${v}\\n');\n` +
      tsMigration(v, `t${v}`, { up: `console.log('UP ${v}'); console.info('INFO ${v}'); await knex.schema.createTable('t${v}', (t) => t.increments('id'));`, down: `console.log('DOWN ${v}'); await knex.schema.dropTable('t${v}');` });
    const ws = tempWorkspace({
      'versions/migration_001_a.ts': noisy(1),
      'versions/migration_002_b.ts': noisy(2),
      'migrations.config.ts': "console.log('CONFIG LOADED');\nexport default { hooks: { beforeMigration: (s: any) => console.log('HOOK ' + s.version) } };\n",
    });
    const commands = [['validate'], ['sql', 'up'], ['verify'], ['up', '--to', '1'], ['status'], ['redo'], ['up'], ['down'], ['history']];
    for (const args of commands) {
      const r = run(ws, [...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), `${args.join(' ')} --json printed more than JSON:\n${r.stdout}`);
    }
    // Not lost either: on stderr.
    const r = run(ws, ['up', '--json']);
    assert.match(r.stderr, /CONFIG LOADED/);
    for (const printed of ['LOADED 2', 'RAW 2', 'HOOK 2', 'UP 2', 'INFO 2']) assert.match(r.stderr, new RegExp(printed));
    assert.deepEqual(JSON.parse(r.stdout).steps.map((s: { outcome: string }) => s.outcome), ['done']);
  });
});

describe('history, sql, validate, create, unlock', () => {
  test('history --json has one row per run with the documented keys', () => {
    const ws = sampleWorkspace();
    assert.deepEqual(runJson(ws, ['history']), []);
    assert.match(ok(run(ws, ['history']), 'history').stdout, /No history yet/);
    ok(run(ws, ['up']), 'up');
    ok(run(ws, ['down']), 'down');
    const rows = runJson(ws, ['history']);
    assert.deepEqual(rows.map((r: { version: number; direction: string; success: boolean }) => [r.version, r.direction, r.success]),
      [[1, 'up', true], [2, 'up', true], [3, 'up', true], [3, 'down', true]]);
    assert.deepEqual(sortedKeys(rows[0]),
      ['checksum', 'description', 'direction', 'durationMs', 'error', 'finishedAt', 'id', 'manual', 'partial', 'running', 'skipped', 'source', 'startedAt', 'success', 'transactional', 'version'].sort());
    assert.match(rows[0].checksum, /^[0-9a-f]{64}$/);
    assert.deepEqual(runJson(ws, ['history', '--limit', '1']).map((r: { version: number }) => r.version), [3]);
    const human = ok(run(ws, ['history']), 'history').stdout;
    assert.match(human, /ID\s+STARTED AT\s+SOURCE\s+VERSION/);
    assert.equal(human.trim().split('\n').length, 5);
  });

  test('sql up prints the SQL of pending migrations and changes nothing', async () => {
    const ws = sampleWorkspace();
    const fresh = ok(run(ws, ['sql', 'up']), 'sql up');
    assert.match(fresh.stdout, /create table `chat_users`/i);
    assert.match(fresh.stdout, /create table `chat_messages`/i);
    assert.match(fresh.stdout, /-- up versions 3: /);
    assert.equal(fs.existsSync(path.join(ws, '.migrations')), false, 'a dry run creates no database file');
    assert.equal(ok(run(ws, ['sql', 'down']), 'sql down').stdout.trim(), '-- Nothing to run.');
    const json = runJson(ws, ['sql', 'up']);
    assert.deepEqual(json.steps.map((s: { step: { version: number } }) => s.step.version), [1, 2, 3]);
    assert.ok(json.steps[0].sql.some((q: string) => /^create table `chat_users`/.test(q)));
    assert.equal(fs.existsSync(path.join(ws, '.migrations')), false);
    assert.deepEqual(statuses(ws), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
    assert.deepEqual(runJson(ws, ['history']), []);

    ok(run(ws, ['up', '--to', '2']), 'up --to 2');
    const db = DEFAULT_DB(ws);
    const rowsBefore = await historyCount(db);
    const pending = ok(run(ws, ['sql', 'up']), 'sql up');
    assert.match(pending.stdout, /alter table `chat_users` add column `metadata`/);
    assert.doesNotMatch(pending.stdout, /create table/);
    assert.equal(await historyCount(db), rowsBefore);
    assert.equal((await columns(db, 'chat_users')).includes('metadata'), false);
    assert.deepEqual(statuses(ws), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);

    const down = ok(run(ws, ['sql', 'down']), 'sql down');
    assert.match(down.stdout, /-- down versions 2: /);
    assert.doesNotMatch(down.stdout, /;;/, 'a statement that ends in ; gets no second one');
    assert.ok((await columns(db, 'chat_users')).includes('is_spammer'));
    assert.equal(await historyCount(db), rowsBefore);
  });

  test('validate: exit 0 on the sample, exit 1 with file:line when getMigration is missing', () => {
    const ws = sampleWorkspace();
    const good = ok(run(ws, ['validate']), 'validate');
    assert.match(good.stdout, /All migration files are valid/);
    assert.deepEqual(runJson(ws, ['validate']), { ok: true, problems: [] });

    fs.writeFileSync(path.join(ws, 'versions', 'migration_004_add_index.ts'), NO_GET_MIGRATION);
    const bad = run(ws, ['validate']);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /^versions\/migration_004_add_index\.ts:3:\d+ error \[missing-get-migration\] /m);
    assert.match(bad.stdout, /1 error\(s\)/);
    const json = runJson(ws, ['validate'], 1);
    assert.equal(json.ok, false);
    assert.deepEqual(json.problems.map((p: { code: string; line: number }) => [p.code, p.line]), [['missing-get-migration', 3]]);
  });

  test('create writes the next migration from the template, .ts by default and .js with --js', () => {
    const ws = sampleWorkspace();
    const r = ok(run(ws, ['create', 'Add users index']), 'create');
    const created = path.join(ws, 'versions', 'migration_004_add_users_index.ts');
    assert.ok(fs.existsSync(created), r.stdout);
    assert.match(r.stdout, /migration_004_add_users_index\.ts/);
    const text = fs.readFileSync(created, 'utf8');
    assert.match(text, /getMigration/);
    assert.match(text, /version\s*=\s*4\b/);
    // The new file is valid and pending straight away.
    ok(run(ws, ['validate']), 'validate after create');
    assert.deepEqual(statuses(ws).at(-1), [4, 'pending']);

    const js = runJson(ws, ['create', 'Seed', 'admin', 'user', '--js']);
    assert.equal(js.path, path.join(ws, 'versions', 'migration_005_seed_admin_user.js'));
    assert.ok(fs.existsSync(js.path));
    assert.match(fs.readFileSync(js.path, 'utf8'), /getMigration/);
    ok(run(ws, ['validate']), 'validate after create --js');
  });

  test('create in an empty workspace starts versions/ at 001', () => {
    const ws = tempWorkspace();
    ok(run(ws, ['create', 'initial schema']), 'create');
    assert.ok(fs.existsSync(path.join(ws, 'versions', 'migration_001_initial_schema.ts')));
  });

  test('unlock on a database that is not locked (or does not exist) says so', () => {
    const ws = sampleWorkspace();
    assert.equal(ok(run(ws, ['unlock']), 'unlock').stdout.trim(), 'The database is not locked.');
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
    ok(run(ws, ['up']), 'up');
    assert.equal(ok(run(ws, ['unlock']), 'unlock').stdout.trim(), 'The database is not locked.');
    assert.deepEqual(runJson(ws, ['unlock']), { released: null });
  });
});

describe('database selection and settings', () => {
  test('--db writes to that file instead of .migrations/dev.sqlite3', async () => {
    const ws = sampleWorkspace();
    const other = path.join(ws, 'elsewhere', 'mine.sqlite3');
    ok(cli(['up', '--dir', ws, '--db', other]), 'up --db');
    assert.deepEqual(await userTables(other), SAMPLE_TABLES);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
    assert.equal(fs.existsSync(path.join(ws, '.migrations')), false);
    const report = JSON.parse(ok(cli(['status', '--json', '--dir', ws, '--db', other]), 'status --db').stdout);
    assert.equal(report.database, `sqlite ${other}`);
    assert.deepEqual(report.sources[0].migrations.map((m: { status: string }) => m.status), ['applied', 'applied', 'applied']);
    // Without --db the default database is still untouched and empty.
    assert.deepEqual(statuses(ws), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
  });

  test('--db relative to the current folder, and --dir relative too', async () => {
    const ws = sampleWorkspace();
    ok(cli(['up', '--dir', '.', '--db', 'rel.sqlite3'], { cwd: ws }), 'up relative');
    assert.deepEqual(await userTables(path.join(ws, 'rel.sqlite3')), SAMPLE_TABLES);
  });

  test('--db and DATABASE_URL take sqlite: URLs; other schemes are refused, naming no password, and nothing is created', async () => {
    const ws = sampleWorkspace();
    const up = cli(['up', '--db', 'sqlite:data/app.sqlite', '--json'], { cwd: ws, env: { DATABASE_URL: '' } });
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await userTables(path.join(ws, 'data', 'app.sqlite')), SAMPLE_TABLES);
    const abs = path.join(ws, 'abs.sqlite');
    assert.equal(cli(['up', '--db', `sqlite://${abs}`], { cwd: ws, env: { DATABASE_URL: '' } }).code, 0);
    assert.deepEqual(await userTables(abs), SAMPLE_TABLES);
    // DATABASE_URL, relative to the workspace.
    const fromEnv = cli(['status', '--json', '--dir', ws], { env: { DATABASE_URL: 'sqlite:data/app.sqlite' } });
    assert.equal(JSON.parse(fromEnv.stdout).database, `sqlite ${path.join(ws, 'data', 'app.sqlite')}`);
    const before = fs.readdirSync(ws).sort();
    // Prisma's spelling of a SQLite file works too.
    const prisma = cli(['status', '--json', '--dir', ws], { env: { DATABASE_URL: 'file:./data/app.sqlite' } });
    assert.equal(JSON.parse(prisma.stdout).database, `sqlite ${path.join(ws, 'data', 'app.sqlite')}`);
    for (const db of ['redis://u:Secret-pw@127.0.0.1/0', 'http://example.com/db', 'postgres:/no-slashes', 'mysql://u:Secret-pw@127.0.0.1/']) {
      for (const [args, env] of [[['up', '--db', db], {}], [['up'], { DATABASE_URL: db }]] as const) {
        const r = cli([...args, '--dir', ws], { env: { DATABASE_URL: '', ...env } });
        assert.equal(r.code, 'DATABASE_URL' in env ? 1 : 2, `${db} ${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /postgres:\/\/, postgresql:\/\/, mysql:\/\/, mariadb:\/\/ or sqlite:/);
        assert.ok(!r.stderr.includes('Secret-pw') && r.stdout === '', r.stderr);
        if ('DATABASE_URL' in env) assert.match(r.stderr, /DATABASE_URL/);
      }
    }
    assert.deepEqual(fs.readdirSync(ws).sort(), before, 'nothing created');
  });

  test('"migrations.database" in .vscode/settings.json (with comments) puts the database there', async () => {
    const ws = sampleWorkspace();
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), `{
  // where the dev database lives
  "editor.tabSize": 2,
  /* block comment */
  "migrations.database": "db/custom.sqlite3",
}
`);
    ok(run(ws, ['up']), 'up');
    const custom = path.join(ws, 'db', 'custom.sqlite3');
    assert.deepEqual(await userTables(custom), SAMPLE_TABLES);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
    assert.equal(runJson(ws, ['status']).database, `sqlite ${custom}`);
    // --db still wins over the setting.
    const flag = path.join(ws, 'flag.sqlite3');
    ok(cli(['up', '--dir', ws, '--db', flag]), 'up --db');
    assert.deepEqual(await userTables(flag), SAMPLE_TABLES);
  });

  test('a broken settings file exits 1 and names the file and line', () => {
    const ws = sampleWorkspace();
    fs.mkdirSync(path.join(ws, '.vscode'));
    const settings = path.join(ws, '.vscode', 'settings.json');
    fs.writeFileSync(settings, `{
  // comment
  "migrations.database": "db/custom.sqlite3"
  "editor.tabSize": 2
}
`);
    for (const command of ['status', 'up']) {
      const r = run(ws, [command]);
      assert.equal(r.code, 1, `${command}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(`${settings}:4`), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    const json = runJson(ws, ['status'], 1);
    assert.equal(json.ok, false);
    assert.ok(json.error.includes(`${settings}:4`), json.error);
    assert.equal(fs.existsSync(path.join(ws, 'db')), false);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
  });

  test('an invalid setting value exits 1 and names the setting', () => {
    const ws = sampleWorkspace();
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), '{ "migrations.database": 42 }');
    const r = run(ws, ['status']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /migrations\.database/);
    // 0 would make every lock stale at once (two runners at a time): refused, not taken as "no limit".
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), '{ "migrations.staleLockMs": 0 }');
    const stale = run(ws, ['up']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /"migrations\.staleLockMs" must be a number of milliseconds above 0/);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
  });
});

describe('repair: failed-partial, mark-applied, forget', () => {
  const halfDone = (version: number) => tsMigration(version, 'half', {
    transaction: false,
    up: `await knex.schema.createTable('half', (t) => { t.increments('id'); }); throw new Error('stopped half way');`,
  });

  test('a half-done migration is failed-partial in status (table, advice, --json); up refuses it with exit 1', async () => {
    const ws = sampleWorkspace();
    fs.writeFileSync(path.join(ws, 'versions', 'migration_004_half.ts'), halfDone(4));
    const up = run(ws, ['up']);
    assert.equal(up.code, 1);
    assert.match(up.stdout, /FAIL up\s+versions 004/);
    assert.match(up.stdout, /Migration 4 \(versions\) failed during up\(\) after changing the database: stopped half way\. .*NOT rolled back\. Repair the database by hand/);
    assert.match(up.stdout, /Statements that ran before the failure:\n {2}create table `half`/);
    // The engine's advice, said in the terminal's terms.
    assert.match(up.stdout, /finish what up\(\) does and run "migrations mark-applied 4 --source versions", or undo what ran and run "migrations forget 4 --source versions" so that/);

    const human = ok(run(ws, ['status']), 'status').stdout;
    assert.match(human, /^\s+004\s+failed-partial\s/m);
    assert.match(human, /^ {2}Migration 4 \(versions\) failed during up\(\) after changing the database: .*NOT rolled back/m);
    assert.match(human, /^ {2}Once repaired, run "migrations mark-applied 4 --source versions" \(its change is in place\) or "migrations forget 4 --source versions" \(it is undone\)\.$/m);
    assert.doesNotMatch(human, /Statements that ran/, 'status shows the advice, the statements stay in history');
    const json = runJson(ws, ['status']);
    assert.equal(json.sources[0].migrations[3].status, 'failed-partial');
    assert.match(json.sources[0].migrations[3].lastError, /NOT rolled back/);
    assert.match(ok(run(ws, ['history']), 'history').stdout, /^4\s.*\sfailed, not rolled back\s+Migration 4/m);

    const again = run(ws, ['up']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: Migration 4 \(versions\) is failed-partial: .*so nothing was run\./);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), [...SAMPLE_TABLES, 'half']);
  });

  test('mark-applied and forget record without running: their output, --json, and exit codes', async () => {
    const ws = sampleWorkspace();
    const marked = ok(run(ws, ['mark-applied', '2']), 'mark-applied');
    assert.equal(marked.stdout, 'Migration 2 (versions) is now recorded as applied (status applied). Nothing was run.\n');
    assert.equal(ok(run(ws, ['mark-applied', '2']), 'again').stdout, 'Migration 2 (versions) is already applied (status applied); nothing was recorded.\n');
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), [], 'nothing ran');
    assert.deepEqual(statuses(ws), [[1, 'out-of-order'], [2, 'applied'], [3, 'pending']]);
    assert.deepEqual(runJson(ws, ['forget', '2']), { source: 'versions', version: 2, recorded: true, status: 'pending' });
    assert.deepEqual(runJson(ws, ['forget', '2', '--source', 'versions']), { source: 'versions', version: 2, recorded: false, status: 'pending' });
    const rows = runJson(ws, ['history']);
    assert.deepEqual(rows.map((r: { version: number; direction: string; manual: boolean; durationMs: number }) => [r.version, r.direction, r.manual, r.durationMs]), [[2, 'up', true, 0], [2, 'down', true, 0]]);
    assert.match(ok(run(ws, ['history']), 'history').stdout, /marked applied[\s\S]*forgotten/);

    const unknown = run(ws, ['forget', '7']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'There is no migration 7 in versions (no file and no history); check the version.\nSee "migrations --help".\n');
    assert.deepEqual(runJson(ws, ['mark-applied', '7'], 2), { ok: false, code: 'usage', error: 'There is no migration 7 in versions (no file and no history); check the version.' });
  });

  test('successes print once: mark-applied, forget, rename-source and unlock say what they did on stdout only', async () => {
    const ws = sampleWorkspace();
    const quiet = (args: string[], says: RegExp) => {
      const r = ok(run(ws, args), args.join(' '));
      assert.match(r.stdout, says);
      assert.equal(r.stdout.trim().split('\n').length, 1, r.stdout);
      assert.equal(r.stderr, '', `${args.join(' ')} printed again on stderr`);
    };
    quiet(['mark-applied', '1'], /now recorded as applied/);
    quiet(['forget', '1'], /now recorded as not applied/);
    ok(run(ws, ['up']), 'up');
    fs.mkdirSync(path.join(ws, 'db'));
    fs.renameSync(path.join(ws, 'versions'), path.join(ws, 'db', 'versions'));
    quiet(['rename-source', 'versions', 'db/versions'], /Moved the history of versions to db\/versions/);
    await leaveStaleLock(DEFAULT_DB(ws));
    quiet(['unlock'], /Released the lock held by cli ghost@elsewhere/);
  });
});

describe('usage and exit codes', () => {
  const usageCases: [string, string[], RegExp][] = [
    ['unknown command', ['sideways'], /Unknown command "sideways"/],
    ['unknown flag', ['status', '--frobnicate'], /--frobnicate/],
    ['--to abc', ['up', '--to', 'abc'], /--to takes a whole number/],
    ['--to with --all', ['down', '--to', '1', '--all'], /cannot be used together/],
    ['sql sideways', ['sql', 'sideways'], /sql needs a direction/],
    ['sql without a direction', ['sql'], /sql needs a direction/],
    ['create without a description', ['create'], /create needs a description/],
    ['--limit x', ['history', '--limit', 'x'], /--limit takes a whole number/],
    ['mark-applied without a version', ['mark-applied'], /mark-applied needs one version: migrations mark-applied 3 \[--source versions\]/],
    ['forget with two versions', ['forget', '1', '2'], /forget needs one version/],
    ['forget abc', ['forget', 'abc'], /forget takes a version, a whole number of 1 or more \(got "abc"\)/],
    ['mark-applied 0', ['mark-applied', '0'], /mark-applied takes a version, a whole number of 1 or more \(got "0"\)/],
    ['up --source nope', ['up', '--source', 'nope'], /No migration source "nope"; the sources are: versions\./],
    ['verify 42', ['verify', '42'], /There is no migration 42 in versions/],
    ['history --limit 0', ['history', '--limit', '0'], /--limit takes a whole number of 1 or more \(got "0"\)/],
    ['up --to 99 with no 99', ['up', '--to', '99'], /There is no migration 99 in versions; its versions are 1, 2, 3\./],
    ['down --to 99 with no 99', ['down', '--to', '99'], /There is no migration 99 in versions/],
    ['--source ""', ['up', '--source', ''], /--source takes a source: --source versions/],
    ['--db ""', ['status', '--db', ''], /--db takes a SQLite file or a database URL/],
  ];
  for (const [name, args, message] of usageCases) {
    test(`usage error exits 2: ${name}`, () => {
      const ws = sampleWorkspace();
      const r = run(ws, args);
      assert.equal(r.code, 2, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, message);
      // One line and where to read more, not the whole usage.
      assert.deepEqual(r.stderr.split('\n').slice(1), ['See "migrations --help".', ''], r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(fs.existsSync(path.join(ws, '.migrations')), false, 'a usage error touches nothing');
      assert.equal(fs.readdirSync(path.join(ws, 'versions')).length, 3);
    });
  }

  test('--dir "" is refused, not taken as the current folder', () => {
    const ws = sampleWorkspace();
    const r = cli(['up', '--dir', ''], { cwd: ws });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr, '--dir takes a folder: --dir path/to/workspace\nSee "migrations --help".\n');
    assert.equal(fs.existsSync(path.join(ws, '.migrations')), false);
  });

  test('--help and no arguments print usage and exit 0', () => {
    for (const args of [['--help'], ['-h'], [], ['up', '--help']]) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: migrations <command> \[options\]/);
      for (const command of ['status', 'up', 'down', 'redo', 'create', 'history', 'validate', 'sql', 'unlock', 'mark-applied', 'forget']) {
        assert.match(r.stdout, new RegExp(`^  ${command}\\b`, 'm'));
      }
      assert.match(r.stdout, /Exit codes: 0 success, 1 failed operation or invalid migration file, 2 usage error\./);
    }
  });

  test('a workspace with no migrations: status says so and exits 0; up has nothing to do', () => {
    const ws = tempWorkspace({ 'README.md': '# empty\n' });
    const status = ok(run(ws, ['status']), 'status');
    assert.match(status.stdout, /No migrations found/);
    assert.match(ok(run(ws, ['up']), 'up').stdout, /Nothing to apply/);
    assert.deepEqual(runJson(ws, ['up']), { ok: true, steps: [] });
  });

  test('a source in a subfolder and tsMigration files work through the CLI', async () => {
    const ws = tempWorkspace({
      'app/versions/migration_001_create_a.ts': tsMigration(1, 'a'),
      'app/versions/migration_002_create_b.ts': tsMigration(2, 'b'),
    });
    const up = runJson(ws, ['up', '--source', 'app/versions']);
    assert.deepEqual(up.steps.map((s: { source: string; version: number }) => [s.source, s.version]), [['app/versions', 1], ['app/versions', 2]]);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['a', 'b']);
    const bad = run(ws, ['up', '--source', 'nope/versions']);
    assert.equal(bad.code, 2, 'a source that is not there is a usage error');
    assert.match(bad.stderr, /No migration source "nope\/versions"/);
  });
});

/** A lock row a run on another machine left a day ago: stale, so unlock releases it without --force. */
async function leaveStaleLock(dbFile: string): Promise<void> {
  const db = sqliteKnex(dbFile);
  try {
    const old = new Date(Date.now() - 24 * 3600_000).toISOString();
    await db('migration_lock').insert({ id: 1, holder: 'cli ghost@elsewhere', host: 'elsewhere', pid: 999999, acquired_at: old, heartbeat: old, token: 'ghost' });
  } finally {
    await db.destroy();
  }
}
