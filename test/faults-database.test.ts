// Faults of the database itself: a read-only file, a file locked by another program, folders that
// do not exist (or cannot), a file that is not SQLite, and history tables or rows we never wrote.
// Each must end in a clear error that names the file and says what to do, with nothing lost.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Knex } from 'knex';
import { CorruptHistoryError, DatabaseError, MigrationsError, readWorkspaceSettings, type MigrationEngine } from '../src/core';
import { CLI, cli, DEFAULT_DB, engine as makeEngine, inspect, lockRows, migrationFiles, migrationPath, ROOT, sqliteKnex, tempWorkspace, tsMigration, type CliResult, userTables } from './helpers';
import { createMigrator } from '../src/lib';
import { probe, SERVERS, TestDatabase } from './servers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

function engine(ws: string, db?: string): MigrationEngine {
  const e = makeEngine(ws, { db });
  open.push(e);
  return e;
}

/** A plain connection to a SQLite file, as another program would open it (no WAL switch). */
function other(file: string): Knex {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return sqliteKnex(file);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const NO_STACK = /\n\s+at /;

/**
 * Runs the CLI as a user who may not write files it does not own: root ignores file modes, so
 * as root the CLI runs as "nobody" (uid 65534) and the workspace is opened up for reading.
 */
function cliUnprivileged(ws: string, args: readonly string[]): CliResult {
  const asRoot = process.getuid?.() === 0;
  // mkdtemp makes the workspace private to its owner.
  if (asRoot) fs.chmodSync(ws, 0o755);
  const r = spawnSync(process.execPath, [CLI, ...args, '--dir', ws], {
    cwd: ROOT,
    env: { ...process.env, MIGRATIONS_CACHE: '0', HOME: ws },
    encoding: 'utf8',
    timeout: 60_000,
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));
}

test('a read-only database file (WAL, as this tool leaves it): up and status fail naming the file and the fix; nothing is written', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  await e.up({ to: 1 });
  await e.close();
  fs.chmodSync(path.dirname(db), 0o555);
  fs.chmodSync(db, 0o444);
  const before = snapshot(path.dirname(db));
  try {
    // Through the CLI: the advice names its flag.
    const message = new RegExp(`^The database file ${escape(db)} is read-only \\(SQLITE_READONLY\\): SQLite must write to it, .*Make the file and its folder writable, or point --db or migrations\\.database at the right file\\.$`);
    const up = cliUnprivileged(ws, ['up', '--json']);
    assert.equal(up.code, 1, up.stdout + up.stderr);
    const report = JSON.parse(up.stdout);
    assert.equal(report.ok, false);
    assert.match(report.error, message);
    const status = cliUnprivileged(ws, ['status']);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stderr.replace(/^error: /, '').trim(), message);
    assert.doesNotMatch(up.stdout + up.stderr + status.stderr, NO_STACK);
    assert.deepEqual(snapshot(path.dirname(db)), before, 'the database folder is byte for byte as it was');
  } finally {
    fs.chmodSync(path.dirname(db), 0o755);
    fs.chmodSync(db, 0o644);
  }
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'pending']);
  assert.deepEqual(await lockRows(db), []);
});

test('a read-only database made by another program: status reads it, up fails clearly and leaves its data as it was', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const db = DEFAULT_DB(ws);
  const theirs = other(db);
  await theirs.schema.createTable('notes', (t) => t.text('body'));
  await theirs('notes').insert({ body: 'keep me' });
  await theirs.destroy();
  fs.chmodSync(db, 0o444);
  const bytes = fs.readFileSync(db);
  try {
    const status = cliUnprivileged(ws, ['status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).sources[0].migrations.map((m: { status: string }) => m.status), ['pending']);
    const up = cliUnprivileged(ws, ['up']);
    assert.equal(up.code, 1);
    assert.match(up.stderr, new RegExp(`^error: The database file ${escape(db)} is read-only \\(SQLITE_READONLY\\)`));
    assert.doesNotMatch(up.stdout + up.stderr, NO_STACK);
  } finally {
    fs.chmodSync(db, 0o644);
  }
  assert.ok(fs.readFileSync(db).equals(bytes), 'database bytes changed');
  assert.deepEqual(fs.readdirSync(path.dirname(db)), ['dev.sqlite3']);
});

test('a database another connection holds in an exclusive transaction: up fails after a bounded wait, naming the file; nothing applied or recorded', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const first = engine(ws);
  await first.up({ to: 1 });
  await first.close();

  const holder = other(db);
  await holder.raw('BEGIN EXCLUSIVE');
  await holder.raw('insert into t1 default values');
  const e = engine(ws);
  const started = Date.now();
  try {
    await assert.rejects(e.up(), (err: unknown) => err instanceof DatabaseError &&
      new RegExp(`^The database file ${escape(db)} is locked by another connection \\(SQLITE_BUSY\\): .*Close that program or end its transaction, then run again\\.$`).test(err.message));
  } finally {
    await holder.raw('ROLLBACK');
    await holder.destroy();
  }
  const waited = Date.now() - started;
  assert.ok(waited >= 4000 && waited < 20_000, `waited ${waited} ms`);
  assert.deepEqual(await userTables(db), ['t1']);
  assert.deepEqual((await e.history()).map((r) => [r.version, r.success]), [[1, true]]);
  assert.deepEqual(await lockRows(db), []);
  assert.equal((await e.up()).ok, true, 'runs once the other program lets go');
  assert.deepEqual(await userTables(db), ['t1', 't2']);
});

test('a database locked by another program before it was ever in WAL mode: even status says who to close', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const db = DEFAULT_DB(ws);
  const holder = other(db);
  await holder.schema.createTable('notes', (t) => t.text('body'));
  await holder.raw('BEGIN EXCLUSIVE');
  await holder('notes').insert({ body: 'uncommitted' });
  try {
    await assert.rejects(engine(ws).status(), (err: unknown) => err instanceof DatabaseError &&
      new RegExp(`^The database file ${escape(db)} is locked by another connection \\(SQLITE_BUSY\\)`).test(err.message));
  } finally {
    await holder.raw('ROLLBACK');
    await holder.destroy();
  }
  assert.deepEqual(await inspect(db, (k) => k('notes').select('*')), []);
});

test('a database whose folders do not exist: status writes nothing, up creates them', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const base = tempWorkspace();
  const db = path.join(base, 'x', 'y', 'z', 'db.sqlite3');
  const status = cliUnprivileged(ws, ['status', '--json', '--db', db]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).database, `sqlite ${db}`);
  assert.deepEqual(fs.readdirSync(base), [], 'status created nothing');
  const e = engine(ws, db);
  assert.equal((await e.up()).ok, true);
  assert.deepEqual(await userTables(db), ['t1']);
});

test('a database path under a regular file, or that is a folder: a clear error, nothing created', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1]), 'notes.txt': 'mine', 'data/.keep': '' });
  const underFile = path.join(ws, 'notes.txt', 'db.sqlite3');
  await assert.rejects(engine(ws, underFile).up(), (err: unknown) => err instanceof DatabaseError &&
    err.message === `Cannot create the folder for the database file ${underFile}: ${path.join(ws, 'notes.txt')} is a file, not a folder. To fix the path, point migrations.database at the right file (a path whose folders can be created).`);
  assert.equal(fs.readFileSync(path.join(ws, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual((await engine(ws, underFile).status()).sources[0].migrations.map((m) => m.status), ['pending']);

  const folder = path.join(ws, 'data');
  const message = new RegExp(`^Cannot open the database file ${escape(folder)} \\(SQLITE_[A-Z]+: it is a folder, not a file\\)\\. To fix the path, point migrations\\.database at the right file`);
  const expected = (err: unknown) => err instanceof DatabaseError && message.test(err.message);
  await assert.rejects(engine(ws, folder).status(), expected);
  await assert.rejects(engine(ws, folder).up(), expected);
  assert.deepEqual(fs.readdirSync(folder), ['.keep']);
});

test('a file that is not a SQLite database: status and up refuse naming it, --json stays JSON, the file is untouched', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1]), '.migrations/dev.sqlite3': 'hello\n' });
  const db = DEFAULT_DB(ws);
  const message = `${db} is not a SQLite database (SQLITE_NOTADB); it was left untouched. Move that file away, or point migrations.database at the right file.`;
  await assert.rejects(engine(ws).status(), (err: unknown) => err instanceof DatabaseError && err.message === message);
  await assert.rejects(engine(ws).up(), (err: unknown) => err instanceof DatabaseError && err.message === message);
  const r = cliUnprivileged(ws, ['up', '--json']);
  assert.equal(r.code, 1);
  // The CLI says the same with its own flag, and the stable code.
  assert.deepEqual(JSON.parse(r.stdout), { ok: false, code: 'database', error: message.replace('point migrations.database', 'point --db or migrations.database') });
  assert.equal(fs.readFileSync(db, 'utf8'), 'hello\n');
  assert.deepEqual(fs.readdirSync(path.dirname(db)), ['dev.sqlite3']);
});

test('a migration_history table made by something else: refused by status and up, its rows untouched, no lock left', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const db = DEFAULT_DB(ws);
  const theirs = other(db);
  await theirs.schema.createTable('migration_history', (t) => {
    t.increments('id');
    t.string('name');
    t.string('batch');
  });
  await theirs('migration_history').insert({ name: '2020_init.js', batch: '1' });
  await theirs.destroy();
  const expected = /^The table migration_history in sqlite .* exists but lacks column\(s\) source, version, description, checksum, direction, started_at, finished_at, duration_ms, success, error, transactional; it was not made by Migration Manager\. Rename that table/;
  await assert.rejects(engine(ws).status(), (err: unknown) => err instanceof MigrationsError && expected.test(err.message));
  await assert.rejects(engine(ws).up(), (err: unknown) => err instanceof MigrationsError && expected.test(err.message));
  assert.deepEqual(await inspect(db, (k) => k('migration_history').select('*')), [{ id: 1, name: '2020_init.js', batch: '1' }]);
  assert.deepEqual(await userTables(db), []);
  assert.deepEqual(await lockRows(db), []);
});

test('history rows Migration Manager never writes are named by id and refused: nothing is run or changed', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  await e.up({ to: 1 });
  await e.close();
  // Same column names, but nullable: a table someone rebuilt by hand.
  const theirs = other(db);
  await theirs.raw('alter table migration_history rename to old_history');
  await theirs.raw(`create table migration_history (id integer primary key autoincrement, source text, version bigint, description text, checksum text,
    direction text, started_at text, finished_at text, duration_ms integer, success boolean, error text, transactional boolean)`);
  await theirs.raw('insert into migration_history select id, source, version, description, checksum, direction, started_at, finished_at, duration_ms, success, error, transactional from old_history');
  await theirs.raw('drop table old_history');
  const row = { source: 'versions', description: 'x', started_at: 'now', finished_at: 'now', duration_ms: 1, transactional: 1 };
  await theirs('migration_history').insert([
    { ...row, version: 2, direction: 'sideways', success: 1 },
    { ...row, version: 'abc', direction: 'up', success: 1 },
    { ...row, version: 2, direction: 'up', success: null },
  ]);
  const rowsBefore = await theirs('migration_history').select('*');
  await theirs.destroy();

  const expected = (err: unknown) => err instanceof CorruptHistoryError &&
    err.message === `The table migration_history in sqlite ${db} holds 3 row(s) Migration Manager did not write (row id 2: direction "sideways" is neither "up" nor "down"; ` +
      'row id 3: version "abc" is not a whole number; row id 4: success NULL is neither true nor false). Nothing was changed. ' +
      'Fix or delete those rows (e.g. in the sqlite3 shell), or restore the database from a backup, then run again.';
  // status shows them as problems of the source they name (a bad row blocks only its own source).
  const status = await engine(ws).status();
  assert.deepEqual(status.sources[0].problems.map((p) => [p.code, p.severity]), [['unreadable-history', 'error'], ['unreadable-history', 'error'], ['unreadable-history', 'error']]);
  assert.match(status.sources[0].problems[0].message, /did not write \(row id 2: direction "sideways" is neither "up" nor "down"\)\. Fix or delete it/);
  await assert.rejects(engine(ws).history(), expected);
  await assert.rejects(engine(ws).up(), expected);
  await assert.rejects(engine(ws).markApplied({ version: 2 }), expected);
  assert.deepEqual(await userTables(db), ['t1']);
  assert.deepEqual(await inspect(db, (k) => k('migration_history').select('*')), rowsBefore);
  assert.deepEqual(await lockRows(db), []);
});

/** migration_history exactly as the previous release created it, with migration 1 applied. */
async function previousVersionHistory(db: Knex): Promise<void> {
  await db.schema.createTable('migration_history', (t) => {
    t.increments('id').primary();
    t.string('source', 512).notNullable();
    t.bigInteger('version').notNullable();
    t.string('description', 1024).notNullable();
    t.string('checksum', 64).nullable();
    t.string('direction', 4).notNullable();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).notNullable();
    t.integer('duration_ms').notNullable();
    t.boolean('success').notNullable();
    t.text('error').nullable();
    t.boolean('transactional').notNullable().defaultTo(true);
    t.index(['source', 'version']);
  });
  await db.schema.createTable('t1', (t) => t.increments('id'));
  const now = new Date().toISOString();
  await db('migration_history').insert({ source: 'versions', version: 1, description: 'create t1', checksum: null, direction: 'up', started_at: now, finished_at: now, duration_ms: 3, success: true, error: null, transactional: true });
}

/** Status reads an old table without altering it; the next run adds the new columns; old rows read as not partial, not manual, not skipped. */
async function assertUpgrade(e: MigrationEngine, columns: () => Promise<string[]>): Promise<void> {
  const oldColumns = await columns();
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'pending']);
  assert.deepEqual(await columns(), oldColumns, 'a read does not alter the table');
  assert.equal((await e.up()).ok, true);
  assert.deepEqual(await columns(), [...oldColumns, 'manual', 'partial', 'running', 'skipped'].sort());
  assert.deepEqual((await e.history()).map((r) => [r.version, r.success, r.partial, r.manual, r.skipped, r.running]), [[1, true, false, false, false, false], [2, true, false, false, false, false]]);
  assert.equal((await e.markApplied({ version: 1 })).recorded, false);
}

test('a history table from the previous version (no partial, manual, skipped or running columns): read as is, upgraded on the next write', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const theirs = other(db);
  await previousVersionHistory(theirs);
  await theirs.destroy();
  await assertUpgrade(engine(ws), () => inspect(db, async (k) => Object.keys(await k('migration_history').columnInfo()).sort()));
});

for (const server of SERVERS) {
  test(`${server.name}: a history table from the previous version is upgraded on the next write`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    const e = makeEngine(tempWorkspace(migrationFiles([1, 2])), { settings: db.settings() });
    try {
      await previousVersionHistory(db.db);
      await assertUpgrade(e, () => db.columns('migration_history'));
    } finally {
      await e.close();
      await db.drop();
    }
  });
}

test('a history row Migration Manager never wrote blocks only the source it names: the others run, and status says which', async () => {
  const ws = tempWorkspace({ 'a/versions/migration_001_a.ts': tsMigration(1, 'a'), 'b/versions/migration_001_b.ts': tsMigration(1, 'b') });
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up({ source: 'b/versions' })).ok, true);
  const theirs = sqliteKnex(db);
  await theirs('migration_history').insert({ source: 'b/versions', version: 2, description: 'x', direction: 'sideways', started_at: 'now', finished_at: 'now', duration_ms: 1, success: 1, transactional: 1 });
  await theirs.destroy();
  fs.writeFileSync(path.join(ws, 'b', 'versions', 'migration_002_b2.ts'), tsMigration(2, 'b2'));

  const report = await engine(ws).up();
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => `${s.source} ${s.version} ${s.outcome}`), ['a/versions 1 done', 'b/versions 2 not-run']);
  assert.match(report.error ?? '', /^Not run: b\/versions .*row id 2: direction "sideways"/);
  assert.deepEqual(await userTables(db), ['a', 'b']);
  const status = await engine(ws).status();
  assert.deepEqual(status.sources.map((s) => [s.id, s.problems.map((p) => p.code)]), [['a/versions', []], ['b/versions', ['unreadable-history']]]);
});

test('two success rows applying one migration with no rollback between: that source is corrupt-history (rows named), nothing of it runs, down is refused', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2]), 'b/versions/migration_001_b.ts': tsMigration(1, 'b') });
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up()).ok, true);
  const theirs = sqliteKnex(db);
  // A copy of migration 1's success row, appended later (not by mark-applied: manual is false).
  const [first] = await theirs('migration_history').where({ source: 'versions', version: 1 }).select('*');
  const { id: firstId, ...copy } = first as Record<string, unknown>;
  await theirs('migration_history').insert(copy);
  const [{ id: copyId }] = await theirs('migration_history').max('id as id');
  await theirs.destroy();
  fs.writeFileSync(path.join(ws, migrationPath(3)), tsMigration(3, 't3'));
  const rowsBefore = await inspect(db, (k) => k('migration_history').select('*'));

  const duplicate = new RegExp(`rows id ${firstId} and ${copyId} both record migration 1 of versions as applied, with no rollback between`);
  const corrupt = (err: unknown) => err instanceof CorruptHistoryError && err.code === 'corrupt-history' && duplicate.test(err.message) && /Nothing was changed/.test(err.message);
  const status = await engine(ws).status();
  assert.deepEqual(status.sources.map((s) => [s.id, s.problems.map((p) => [p.code, p.severity])]), [['b/versions', []], ['versions', [['unreadable-history', 'error']]]]);
  assert.match(status.sources[1].problems[0].message, duplicate);
  await assert.rejects(engine(ws).up({ source: 'versions' }), corrupt);
  await assert.rejects(engine(ws).down({ source: 'versions' }), corrupt);
  await assert.rejects(engine(ws).down({ all: true }), corrupt);
  await assert.rejects(engine(ws).markApplied({ source: 'versions', version: 3 }), corrupt);
  const r = cli(['up', '--dir', ws]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, duplicate);
  assert.deepEqual(await userTables(db), ['b', 't1', 't2']);
  assert.deepEqual(await inspect(db, (k) => k('migration_history').select('*')), rowsBefore);
  assert.deepEqual(await lockRows(db), []);
});

test('mark-applied on an edited applied migration writes a second success row: a re-baseline, not corrupt-history', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const e = engine(ws);
  assert.equal((await e.up({ to: 1 })).ok, true);
  fs.appendFileSync(path.join(ws, migrationPath(1)), '// reviewed\n');
  assert.equal((await e.markApplied({ version: 1 })).recorded, true);
  const status = await e.status();
  assert.deepEqual(status.sources[0].problems, []);
  assert.deepEqual((await e.up()).steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
});

/** Replaces migration_history by a view over a copy of it: what a hand "fix" or a restore script may leave. */
async function historyAsView(db: Knex): Promise<void> {
  await db.raw('create table old_history as select * from migration_history');
  await db.schema.dropTable('migration_history');
  await db.raw('create view migration_history as select * from old_history');
}

async function assertViewRefused(e: () => MigrationEngine, tables: () => Promise<string[]>, where: RegExp): Promise<void> {
  const corrupt = (err: unknown) => err instanceof MigrationsError && err.code === 'corrupt-history' &&
    where.test(err.message) && /migration_history in .* is a view, not the table Migration Manager made/.test(err.message) && /nothing was changed/i.test(err.message);
  const before = await tables();
  await assert.rejects(e().status(), corrupt);
  await assert.rejects(e().up(), corrupt);
  await assert.rejects(e().down(), corrupt);
  await assert.rejects(e().history(), corrupt);
  await assert.rejects(e().markApplied({ version: 2 }), corrupt);
  assert.deepEqual(await tables(), before, 'nothing ran or was created');
}

test('a history table replaced by a view is corrupt-history, named; nothing runs (SQLite)', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up({ to: 1 })).ok, true);
  const theirs = sqliteKnex(db);
  await historyAsView(theirs);
  await theirs.destroy();
  const names = () => inspect(db, async (k) => ((await k('sqlite_master').select('name').orderBy('name')) as { name: string }[]).map((r) => r.name));
  await assertViewRefused(() => engine(ws), names, new RegExp(escape(db)));
  // The knex read path (the workspace's own driver) probes the same way.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(ws, 'node_modules'), 'junction');
  const knexPath: MigrationEngine[] = [];
  try {
    await assertViewRefused(() => {
      knexPath.push(makeEngine(ws, { settings: { ...readWorkspaceSettings(ws), client: 'better-sqlite3' } }));
      return knexPath.at(-1)!;
    }, names, new RegExp(escape(db)));
  } finally {
    await Promise.all(knexPath.map((x) => x.close()));
  }
  const r = cli(['up', '--dir', ws]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /is a view, not the table Migration Manager made/);
});

for (const server of SERVERS) {
  test(`${server.name}: a history table replaced by a view is corrupt-history; nothing runs`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    const ws = tempWorkspace(migrationFiles([1, 2]));
    const engines: MigrationEngine[] = [];
    const e = () => {
      const made = makeEngine(ws, { settings: db.settings() });
      engines.push(made);
      return made;
    };
    try {
      assert.equal((await e().up({ to: 1 })).ok, true);
      await historyAsView(db.db);
      await assertViewRefused(e, () => db.tables(), /migration_history/);
    } finally {
      await Promise.all(engines.map((x) => x.close()));
      await db.drop();
    }
  });
}

// Infrastructure failures are not the migration's fault: each is a `database` error naming the
// cause and the setting to change, and a migration it interrupts is recorded as such.
for (const server of SERVERS) {
  test(`${server.name}: a wrong password, an unknown database and missing connection settings are database errors naming the setting (CLI and library)`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    try {
      const created = await db.createUser('Right-Pw-1');
      // PostgreSQL here trusts loopback (any password passes): a user it does not know is its refusal.
      const user = server.client === 'pg' ? `${created}_unknown` : created;
      const ws = tempWorkspace({ ...migrationFiles([1]), '.vscode/settings.json': db.settingsJson({ 'migrations.connection': { ...db.connection(), user } }) });
      const cliWith = (password: string | undefined, args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--dir', ws], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, MIGRATIONS_DB_PASSWORD: password } as NodeJS.ProcessEnv,
      });
      const wrong = cliWith('Wrong-Pw-2', ['status']);
      assert.equal(wrong.status, 1, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`refused the login of ${user}.*MIGRATIONS_DB_PASSWORD`));
      assert.doesNotMatch(wrong.stderr, NO_STACK);
      assert.doesNotMatch(wrong.stderr, /Wrong-Pw-2/);
      if (server.client === 'mysql2') assert.equal(cliWith('Right-Pw-1', ['up']).status, 0);

      // The library: a MigrationsError of code "database", never a raw driver error.
      const migrator = createMigrator({ workspace: ws, config: false, connection: { client: server.client, connection: { ...db.connection(), user, password: 'Wrong-Pw-2' } } });
      await assert.rejects(migrator.status(), (err: unknown) => err instanceof MigrationsError && err.code === 'database' && /refused the login/.test(err.message) && !/Wrong-Pw-2/.test(err.message));
      await migrator.close();

      const unknown = makeEngine(ws, { settings: db.settings({ connection: { ...db.connection(), database: `${db.name}_nope` } }) });
      open.push(unknown);
      await assert.rejects(unknown.status(), (err: unknown) => err instanceof DatabaseError && new RegExp(`The database ${db.name}_nope does not exist .*migrations\\.connection`).test(err.message));

      const missing = makeEngine(ws, { settings: db.settings({ connection: { host: server.host, port: server.port, user: server.user } }) });
      open.push(missing);
      await assert.rejects(missing.up(), (err: unknown) => err instanceof DatabaseError && /migrations\.connection names no database/.test(err.message));

      if (server.client === 'pg') {
        // A read-only database (a replica, or one set so): a database error naming the setting, not a SQL error.
        const readOnly = await TestDatabase.create(server);
        try {
          await readOnly.db.raw(`alter database ${readOnly.name} set default_transaction_read_only = on`);
          const e = makeEngine(tempWorkspace(migrationFiles([1])), { settings: readOnly.settings() });
          open.push(e);
          await assert.rejects(e.up(), (err: unknown) => err instanceof DatabaseError && err.code === 'database' && /is read-only \(25006: .*\)\. Point migrations\.connection at a server that accepts writes/.test(err.message));
        } finally {
          await readOnly.drop();
        }
      }
    } finally {
      await db.drop();
    }
  });

  test(`${server.name}: a connection lost during a migration is recorded as interrupted by the database, not as the migration's fault`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    const ws = tempWorkspace();
    const session = server.client === 'pg' ? 'select pg_backend_pid() as id' : 'select connection_id() as id';
    const files = {
      ...migrationFiles([1]),
      [migrationPath(2)]: tsMigration(2, 't2', {
        up: `const r: any = await knex.raw('${session}');
    const id = Array.isArray(r) ? r[0][0].id : r.rows[0].id;
    require('node:fs').writeFileSync(${JSON.stringify(path.join(ws, 'session'))}, String(id));
    await knex.raw('${server.client === 'pg' ? 'select pg_sleep(20)' : 'select sleep(20)'}');`,
      }),
    };
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(ws, file)), { recursive: true });
      fs.writeFileSync(path.join(ws, file), text);
    }
    const e = makeEngine(ws, { settings: db.settings() });
    open.push(e);
    try {
      const running = e.up();
      for (const end = Date.now() + 15_000; !fs.existsSync(path.join(ws, 'session')) && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
      const id = Number(fs.readFileSync(path.join(ws, 'session'), 'utf8'));
      await db.db.raw(server.client === 'pg' ? `select pg_terminate_backend(${id})` : `kill ${id}`);
      const report = await running;
      assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed']);
      assert.match(report.error ?? '', /^Migration 2 \(versions\) was interrupted by the database during up\(\): The connection to .* was lost/);
      assert.doesNotMatch(report.error ?? '', /fix the migration/);
      const rows = await e.history();
      const last = rows[rows.length - 1];
      assert.deepEqual([last.version, last.success], [2, false]);
      assert.match(last.error ?? '', /interrupted by the database/);
      // Nothing to repair: the next run applies it.
      fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
      assert.equal((await e.up()).ok, true);
    } finally {
      await e.close();
      await db.drop();
    }
  });
}

test('a full disk (SQLite on a small filesystem) interrupts a migration: recorded as interrupted by the database, named, not the migration\'s fault', async (t) => {
  const mountPoint = tempWorkspace();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mountPoint]);
  if (mounted.status !== 0) return t.skip(`cannot mount a small tmpfs here (${String(mounted.stderr).trim()})`);
  try {
    const ws = tempWorkspace({
      ...migrationFiles([1]),
      [migrationPath(2)]: tsMigration(2, 't2', { up: `await knex.schema.createTable('t2', (t) => { t.increments('id'); t.text('blob'); });
    for (let i = 0; i < 100; i++) await knex('t2').insert({ blob: 'x'.repeat(100_000) });` }),
    });
    const e = engine(ws, path.join(mountPoint, 'app.sqlite3'));
    const report = await e.up();
    assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed']);
    assert.match(report.error ?? '', /^Migration 2 \(versions\) was interrupted by the database during up\(\): The disk holding .*app\.sqlite3 is full \(SQLITE_FULL\)/);
    assert.doesNotMatch(report.error ?? '', /fix the migration/);
    const last = (await e.history()).at(-1)!;
    assert.deepEqual([last.version, last.success], [2, false]);
    assert.match(last.error ?? '', /interrupted by the database/);
    await e.close();
  } finally {
    spawnSync('umount', ['-l', mountPoint]);
  }
});

test('a migration\'s own failing call (a service that refuses, a file it cannot write) stays its own failure, not the database\'s', async () => {
  const ws = tempWorkspace({
    ...migrationFiles([1], { 1: { up: "await new Promise((_, reject) => require('node:net').connect(1, '127.0.0.1').on('error', reject));" } }),
  });
  const e = engine(ws);
  let report = await e.up();
  assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\): connect ECONNREFUSED 127\.0\.0\.1:1\. Its changes were rolled back; fix the migration and run again\.$/);
  assert.equal(report.code, 'migration-failed');
  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1', { up: "require('node:fs').writeFileSync('/nonexistent-folder/x', '');" }));
  report = await e.up();
  assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\): ENOENT: no such file or directory.*fix the migration and run again\.$/);
});
