// Failures inside migrations: half-done work outside a transaction, migrations that never finish,
// odd thrown values, and the repair operations (mark-applied, forget). Real SQLite files throughout;
// plain throws in up()/down() inside a transaction are covered by run.test.ts.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DEFAULT_SETTINGS, MigrationsError, type HistoryRow, type MigrationEngine } from '../src/core';
import { checksumOf } from '../src/core/model/checksum';
import { DEFAULT_DB, engine as makeEngine, lockRows, migrationFiles, migrationPath, sqliteKnex, tempWorkspace, tsMigration, userTables } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

function engine(ws: string, migrationTimeoutMs?: number): MigrationEngine {
  const e = makeEngine(ws, migrationTimeoutMs === undefined ? {} : { settings: { ...DEFAULT_SETTINGS, migrationTimeoutMs } });
  open.push(e);
  return e;
}

async function statuses(e: MigrationEngine): Promise<[number, string][]> {
  return (await e.status()).sources[0].migrations.map((m) => [m.version, m.status]);
}

const summary = (rows: readonly HistoryRow[]) => rows.map((r) => [r.version, r.direction, r.success, r.partial, r.manual]);
const fileChecksum = (ws: string, version: number) => checksumOf(fs.readFileSync(path.join(ws, migrationPath(version)), 'utf8'));

/** Runs SQL on the workspace's database as a person repairing it by hand would. */
async function byHand(ws: string, sql: string): Promise<void> {
  const db = sqliteKnex(DEFAULT_DB(ws));
  try {
    await db.raw(sql);
  } finally {
    await db.destroy();
  }
}

const HALF_WAY = `await knex.schema.createTable('t2', (t) => { t.increments('id'); t.string('name'); });
    await knex('t2').insert({ name: 'first' });
    throw new Error('half way');`;

test('transaction: false failing half-way is failed-partial: the advice, the statements in history, and up refuses to run it again', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3], { 2: { transaction: false, up: HALF_WAY } }));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);

  const report = await e.up();
  assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed', 'not-run']);
  const error = report.error ?? '';
  assert.match(error, /^Migration 2 \(versions\) failed during up\(\) after changing the database: half way\. It ran outside a transaction \(transaction: false\), so the statements that ran were NOT rolled back\./);
  // The engine's words name no front end's flags or buttons; the advice is data each front end words itself.
  assert.match(error, /Repair the database by hand.*then either finish what up\(\) does and record migration 2 \(versions\) as applied, or undo what ran and record migration 2 \(versions\) as not applied/);
  assert.deepEqual(report.errorText?.filter((p) => typeof p !== 'string'), [{ do: 'mark-applied', source: 'versions', version: 2 }, { do: 'forget', source: 'versions', version: 2 }]);
  assert.match(error, /\nStatements that ran before the failure:\n {2}create table `t2` \(`id` integer not null primary key autoincrement, `name` varchar\(255\)\);\n {2}insert into `t2` \(`name`\) values \(\?\);$/, 'with its placeholder: a value bound to a statement is never recorded');
  assert.deepEqual(await userTables(db), ['t1', 't2'], 'the half-done change stays: nothing could roll it back');

  const states = (await e.status()).sources[0].migrations;
  assert.deepEqual(states.map((m) => [m.version, m.status, m.applied]), [[1, 'applied', true], [2, 'failed-partial', false], [3, 'pending', false]]);
  assert.equal(states[1].lastError, error);
  const rows = await e.history();
  assert.deepEqual(summary(rows), [[1, 'up', true, false, false], [2, 'up', false, true, false]]);
  assert.equal(rows[1].transactional, false);
  assert.equal(rows[1].error, error);

  // Running it again on a half-changed schema would fail or double its work: refused until recorded.
  await assert.rejects(e.up(), (err: unknown) => err instanceof MigrationsError &&
    err.code === 'half-done' && err.facts.version === 2 && err.facts.direction === 'up' &&
    /^Migration 2 \(versions\) is failed-partial: its last up\(\) failed part-way and left changes that were not rolled back, so nothing was run\. Repair .*record migration 2 \(versions\) as applied/.test(err.message));
  assert.equal((await e.history()).length, 2);
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.deepEqual(await lockRows(db), []);

  // Finish by hand what up() would have done, then record it: the next up goes on with 3.
  await byHand(ws, "insert into t2 (name) values ('second')");
  const marked = await e.markApplied({ version: 2 });
  assert.deepEqual(marked, { source: 'versions', version: 2, recorded: true, status: 'applied' });
  const manual = (await e.history()).at(-1)!;
  assert.deepEqual([manual.version, manual.direction, manual.success, manual.manual, manual.partial, manual.error, manual.durationMs], [2, 'up', true, true, false, null, 0]);
  assert.equal(manual.checksum, fileChecksum(ws, 2));
  const next = await e.up();
  assert.deepEqual(next.steps.map((s) => [s.version, s.outcome]), [[3, 'done']]);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied'], [3, 'applied']]);
  assert.deepEqual(await userTables(db), ['t1', 't2', 't3']);
});

test('forget after undoing a half-done up() by hand: the migration is pending and the fixed file runs again', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2], { 2: { transaction: false, up: HALF_WAY } }));
  const e = engine(ws);
  await e.up();
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'failed-partial']]);

  await byHand(ws, 'drop table t2');
  assert.deepEqual(await e.forget({ version: 2 }), { source: 'versions', version: 2, recorded: true, status: 'pending' });
  fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2', { transaction: false }));
  const again = await e.up();
  assert.deepEqual(again.steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied']]);
  assert.deepEqual(summary(await e.history()), [
    [1, 'up', true, false, false], [2, 'up', false, true, false], [2, 'down', true, false, true], [2, 'up', true, false, false],
  ]);
});

test('a down() outside a transaction failing half-way: failed-partial and still applied; forget records the finished rollback', async () => {
  const ws = tempWorkspace({
    [migrationPath(1)]: tsMigration(1, 't1', {
      transaction: false,
      up: `await knex.schema.createTable('t1a', (t) => { t.increments('id'); }); await knex.schema.createTable('t1b', (t) => { t.increments('id'); });`,
      down: `await knex.schema.dropTable('t1b'); throw new Error('down half way');`,
    }),
  });
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  assert.equal((await e.up()).ok, true);
  const report = await e.down({ last: true });
  assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during down\(\) after changing the database: down half way\./);
  assert.match(report.error ?? '', /then either finish the rollback and record migration 1 \(versions\) as not applied, or restore what down\(\) removed and record migration 1 \(versions\) as applied/);
  assert.match(report.error ?? '', /Statements that ran before the failure:\n {2}drop table `t1b`;/);
  const [state] = (await e.status()).sources[0].migrations;
  assert.deepEqual([state.status, state.applied], ['failed-partial', true]);
  assert.deepEqual(await userTables(db), ['t1a']);
  await assert.rejects(e.down({ last: true }), /Migration 1 \(versions\) is failed-partial: its last down\(\) failed part-way/);

  await byHand(ws, 'drop table t1a');
  assert.deepEqual(await e.forget({ version: 1 }), { source: 'versions', version: 1, recorded: true, status: 'pending' });
  assert.deepEqual(await userTables(db), []);
  assert.deepEqual(summary(await e.history()), [[1, 'up', true, false, false], [1, 'down', false, true, false], [1, 'down', true, false, true]]);
});

test('transaction: false failing before any statement is plain failed: nothing changed, it runs again once fixed', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up: `await knex.schema.hasTable('t1'); throw new Error('early');` } }));
  const e = engine(ws);
  const report = await e.up();
  assert.equal(report.error, 'Migration 1 (versions) failed during up(): early. It ran outside a transaction (transaction: false), but no statement had changed the database yet; fix the migration and run again.');
  assert.deepEqual(await statuses(e), [[1, 'failed']]);
  const [row] = await e.history();
  assert.deepEqual([row.success, row.partial, row.transactional], [false, false, false]);
  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1', { transaction: false }));
  assert.equal((await e.up()).ok, true);
  assert.deepEqual(await statuses(e), [[1, 'applied']]);
});

test('a migration that never settles is stopped after migrationTimeoutMs (from settings.json), recorded, and the lock released', async () => {
  const ws = tempWorkspace({
    ...migrationFiles([1, 2], { 1: { up: 'return new Promise<void>(() => {});' } }),
    '.vscode/settings.json': '{ "migrations.migrationTimeoutMs": 300 }',
  });
  const db = DEFAULT_DB(ws);
  const e = makeEngine(ws);
  open.push(e);
  const started = Date.now();
  const report = await e.up();
  const took = Date.now() - started;
  assert.ok(took >= 300 && took < 5000, `stopped after ${took} ms`);
  assert.deepEqual(report.steps.map((s) => s.outcome), ['failed', 'not-run']);
  assert.equal(report.error, 'Migration 1 (versions) failed during up(): it did not finish within 300 ms (setting migrations.migrationTimeoutMs; 0 turns the limit off) and was stopped. Its changes were rolled back; fix the migration and run again.');
  const rows = await e.history();
  assert.deepEqual(summary(rows), [[1, 'up', false, false, false]]);
  assert.ok(rows[0].durationMs >= 300, `recorded duration ${rows[0].durationMs}`);
  assert.deepEqual(await lockRows(db), []);
  assert.deepEqual(await statuses(e), [[1, 'failed'], [2, 'pending']]);

  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1'));
  assert.equal((await e.up()).ok, true);
  assert.deepEqual(await userTables(db), ['t1', 't2']);
});

test('a migration awaiting forever after a createTable: the table is rolled back, and another connection can write at once', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); await new Promise(() => {});` } }));
  const db = DEFAULT_DB(ws);
  const report = await engine(ws, 300).up();
  assert.match(report.error ?? '', /did not finish within 300 ms .*Its changes were rolled back/);
  assert.deepEqual(await userTables(db), []);
  assert.deepEqual(await lockRows(db), []);

  // A transaction left open would keep SQLite's write lock: a second engine would wait, then fail.
  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1'));
  const other = engine(ws);
  const started = Date.now();
  assert.equal((await other.up()).ok, true);
  assert.ok(Date.now() - started < 2000, `second engine waited ${Date.now() - started} ms`);
  assert.deepEqual(summary(await other.history()), [[1, 'up', false, false, false], [1, 'up', true, false, false]]);
});

test('transaction: false that never settles after a change: failed-partial, the time-out named', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); await new Promise(() => {});` } }));
  const e = engine(ws, 200);
  const report = await e.up();
  assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\) after changing the database: it did not finish within 200 ms \(setting migrations\.migrationTimeoutMs; 0 turns the limit off\) and was given up on \(outside a transaction it cannot be stopped: it may still be running\)\. It ran outside a transaction \(transaction: false\), so the statements that ran were NOT rolled back\./);
  assert.deepEqual(await statuses(e), [[1, 'failed-partial']]);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
});

test('a migration throwing a non-Error value gets a specific message, never [object Object]', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const e = engine(ws);
  const cases: [string, RegExp][] = [
    [`'a plain string'`, /: a plain string\. Its changes/],
    [`''`, /: an empty string was thrown\. Its changes/],
    ['{ code: 1 }', /: \{"code":1\} \(an object was thrown instead of an Error\)\. Its changes/],
    ['undefined', /: undefined was thrown instead of an Error\. Its changes/],
    ['null', /: null was thrown instead of an Error\. Its changes/],
    ['42', /: 42 \(a number was thrown instead of an Error\)\. Its changes/],
    [`new Error('')`, /: Error \(without a message\)\. Its changes/],
    ['{}', /: an object with no message or fields was thrown instead of an Error\. Its changes/],
    [`(() => { const o: Record<string, unknown> = { name: 'loop' }; o.self = o; return o; })()`, /: an object that cannot be shown as JSON \(circular\?\) was thrown instead of an Error\./],
    [`new (class Oops { detail = 'x' })()`, /: \{"detail":"x"\} \(an object of class Oops was thrown instead of an Error\)\./],
  ];
  for (const [thrown, expected] of cases) {
    fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1', { up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); throw ${thrown};` }));
    const report = await e.up();
    const message = report.error ?? '';
    assert.match(message, /^Migration 1 \(versions\) failed during up\(\): /, thrown);
    assert.match(message, expected, thrown);
    assert.doesNotMatch(message, /\[object Object\]/, thrown);
    assert.equal((await e.history()).at(-1)!.error, message, thrown);
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
});

test('mark-applied records a baseline without running anything; forget makes an applied migration pending without running down()', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  const t0 = Date.now();
  assert.deepEqual(await e.markApplied({ version: 1 }), { source: 'versions', version: 1, recorded: true, status: 'applied' });
  assert.deepEqual(await userTables(db), [], 'nothing was run');
  const [row] = await e.history();
  assert.deepEqual([row.source, row.version, row.direction, row.success, row.manual, row.error, row.durationMs, row.description], ['versions', 1, 'up', true, true, null, 0, 'create t1']);
  assert.equal(row.checksum, fileChecksum(ws, 1));
  assert.ok(Date.parse(row.startedAt) >= t0 && row.startedAt === row.finishedAt);
  assert.deepEqual(await e.markApplied({ version: 1 }), { source: 'versions', version: 1, recorded: false, status: 'applied' });
  assert.equal((await e.history()).length, 1);

  assert.deepEqual((await e.up()).steps.map((s) => s.version), [2]);
  assert.deepEqual(await userTables(db), ['t2']);

  // An edited applied file: marking it applied takes the new checksum.
  fs.appendFileSync(path.join(ws, migrationPath(1)), '// reviewed\n');
  assert.deepEqual(await statuses(e), [[1, 'modified'], [2, 'applied']]);
  assert.equal((await e.markApplied({ version: 1 })).status, 'applied');
  assert.equal((await e.history()).at(-1)!.checksum, fileChecksum(ws, 1));

  assert.deepEqual(await e.forget({ version: 2 }), { source: 'versions', version: 2, recorded: true, status: 'pending' });
  assert.deepEqual(await userTables(db), ['t2'], 'down() was not run');
  assert.deepEqual(await e.forget({ version: 2 }), { source: 'versions', version: 2, recorded: false, status: 'pending' });
  assert.deepEqual(summary(await e.history()), [[1, 'up', true, false, true], [2, 'up', true, false, false], [1, 'up', true, false, true], [2, 'down', true, false, true]]);
  assert.deepEqual(await lockRows(db), []);
});

test('forget drops a missing ghost; unknown versions and ambiguous sources are refused; a no-op creates no database', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const e = engine(ws);
  assert.deepEqual(await e.forget({ version: 1 }), { source: 'versions', version: 1, recorded: false, status: 'pending' });
  assert.equal(fs.existsSync(path.join(ws, '.migrations')), false, 'nothing to record: no database made');
  await assert.rejects(e.markApplied({ version: 9 }), (err: unknown) => err instanceof ConfigError && /There is no migration 9 in versions/.test(err.message));

  await e.up();
  fs.rmSync(path.join(ws, migrationPath(2)));
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'missing']]);
  assert.deepEqual(await e.forget({ version: 2 }), { source: 'versions', version: 2, recorded: true, status: 'pending' });
  assert.deepEqual(await statuses(e), [[1, 'applied']]);

  const two = tempWorkspace({ 'a/versions/migration_001_x.ts': tsMigration(1, 'a1'), 'b/versions/migration_001_y.ts': tsMigration(1, 'b1') });
  const e2 = engine(two);
  await assert.rejects(e2.markApplied({ version: 1 }), (err: unknown) => err instanceof MigrationsError && err.code === 'usage' &&
    /Migration 1 exists in several sources \(a\/versions, b\/versions\); name the source to mark-applied one of them/.test(err.message));
  assert.equal(fs.existsSync(path.join(two, '.migrations')), false);
  assert.deepEqual(await e2.markApplied({ source: 'b/versions', version: 1 }), { source: 'b/versions', version: 1, recorded: true, status: 'applied' });
  assert.deepEqual((await e2.status()).sources.map((s) => [s.id, s.migrations[0].status]), [['a/versions', 'pending'], ['b/versions', 'applied']]);
});

// On servers: MySQL/MariaDB commit DDL implicitly, PostgreSQL rolls it back. Skipped (never passed) without the server.
for (const server of SERVERS) {
  test(`${server.name}: a transactional migration failing after a schema change is ${server.client === 'pg' ? 'rolled back' : 'failed-partial'}; one failing after data changes only is rolled back`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    let e: MigrationEngine | undefined;
    try {
      const ws = tempWorkspace(migrationFiles([1, 2, 3], {
        2: { up: `await knex('t1').insert({}); throw new Error('data only');` },
        3: { up: `await knex('t1').insert({}); await knex.schema.createTable('t3', (t) => { t.increments('id'); }); throw new Error('after ddl');` },
      }));
      e = makeEngine(ws, { settings: db.settings({ migrationTimeoutMs: 10_000 }) });
      await e.up({ to: 1 });
      const dataOnly = await e.up({ to: 2 });
      assert.match(dataOnly.error ?? '', /^Migration 2 \(versions\) failed during up\(\): data only\. Its changes were rolled back/);
      assert.deepEqual(await db.db('t1').count({ n: '*' }).then((r) => Number(r[0].n)), 0);

      fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
      const report = await e.up();
      const states = (await e.status()).sources[0].migrations.map((m) => [m.version, m.status]);
      const rows = await e.history();
      if (server.client === 'pg') {
        assert.match(report.error ?? '', /^Migration 3 \(versions\) failed during up\(\): after ddl\. Its changes were rolled back/);
        assert.deepEqual(states, [[1, 'applied'], [2, 'applied'], [3, 'failed']]);
        assert.deepEqual(await db.tables(), ['migration_history', 'migration_lock', 't1', 't2']);
        assert.equal(rows.at(-1)!.partial, false);
      } else {
        assert.match(report.error ?? '', /^Migration 3 \(versions\) failed during up\(\) after changing the schema: after ddl\. MySQL\/MariaDB commits schema changes immediately, so they were NOT rolled back\. Repair the database by hand/);
        assert.match(report.error ?? '', /Statements that ran before the failure:\n {2}insert into `t1` \(\) values \(\);\n {2}create table `t3`/);
        assert.deepEqual(states, [[1, 'applied'], [2, 'applied'], [3, 'failed-partial']]);
        assert.deepEqual(await db.tables(), ['migration_history', 'migration_lock', 't1', 't2', 't3']);
        // The insert before the DDL was committed with it.
        assert.deepEqual(await db.db('t1').count({ n: '*' }).then((r) => Number(r[0].n)), 1);
        assert.deepEqual([rows.at(-1)!.transactional, rows.at(-1)!.partial], [true, true]);
        await assert.rejects(e.up(), /Migration 3 \(versions\) is failed-partial/);
        await db.db.schema.dropTable('t3');
        await db.db('t1').del();
        assert.equal((await e.forget({ version: 3 })).status, 'pending');
        fs.writeFileSync(path.join(ws, migrationPath(3)), tsMigration(3, 't3'));
        assert.equal((await e.up()).ok, true);
        assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'applied', 'applied']);
      }
      assert.deepEqual(await db.lockRows(), []);
    } finally {
      await e?.close();
      await db.drop();
    }
  });
}

for (const server of SERVERS) {
  test(`${server.name}: a migration stuck in a server-side statement is cancelled at the time-out and rolled back`, async (t) => {
    const why = await probe(server);
    if (why) return t.skip(why);
    const db = await TestDatabase.create(server);
    let e: MigrationEngine | undefined;
    try {
      const sleep = server.client === 'pg' ? 'select pg_sleep(60)' : 'select sleep(60)';
      const ws = tempWorkspace(migrationFiles([1, 2], { 2: { up: `await knex('t1').insert({}); await knex.raw('${sleep}');` } }));
      e = makeEngine(ws, { settings: db.settings({ migrationTimeoutMs: 500 }) });
      await e.up({ to: 1 });
      const started = Date.now();
      const report = await e.up();
      // Without the cancel, the ROLLBACK would queue behind the 60 s sleep.
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      assert.match(report.error ?? '', /^Migration 2 \(versions\) failed during up\(\): it did not finish within 500 ms .*Its changes were rolled back/);
      assert.equal(await db.db('t1').count({ n: '*' }).then((r) => Number(r[0].n)), 0);
      assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'failed']);
      assert.deepEqual(await db.lockRows(), []);
      fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
      assert.equal((await e.up()).ok, true);
    } finally {
      await e?.close();
      await db.drop();
    }
  });
}
