import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { InvalidMigrationsError, type HistoryRow, type MigrationEngine } from '../src/core';
import { checksumOf } from '../src/core/model/checksum';
import { DEFAULT_DB, engine as makeEngine, inspect, lockRows, migrationFiles, migrationPath, sqliteKnex, tempWorkspace, tsMigration, userTables } from './helpers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

function engine(ws: string): MigrationEngine {
  const e = makeEngine(ws);
  open.push(e);
  return e;
}

/** [version, status] per migration of the only source. */
async function statuses(e: MigrationEngine): Promise<[number, string][]> {
  const report = await e.status();
  assert.equal(report.sources.length, 1);
  return report.sources[0].migrations.map((m) => [m.version, m.status]);
}

const summary = (rows: readonly HistoryRow[]) => rows.map((r) => [r.version, r.direction, r.success]);

/** Every row well-formed: checksum of the file on disk, sane duration and timestamps within [from, to]. */
function assertRowsWellFormed(ws: string, rows: readonly HistoryRow[], from: number, to: number): void {
  for (const r of rows) {
    assert.equal(r.source, 'versions');
    assert.equal(r.checksum, checksumOf(fs.readFileSync(path.join(ws, migrationPath(r.version)), 'utf8')));
    assert.ok(Number.isInteger(r.durationMs) && r.durationMs >= 0, `duration ${r.durationMs}`);
    const started = Date.parse(r.startedAt);
    const finished = Date.parse(r.finishedAt);
    assert.ok(started >= from && started <= finished && finished <= to, `timestamps ${r.startedAt} .. ${r.finishedAt}`);
    assert.equal(r.transactional, true);
    assert.equal(r.error, null);
  }
}

test('apply to V, apply all, roll back last, roll back to V, redo, roll back all', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  const t0 = Date.now();

  const to2 = await e.up({ to: 2 });
  assert.deepEqual(to2.steps.map((s) => [s.version, s.direction, s.outcome]), [[1, 'up', 'done'], [2, 'up', 'done']]);
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);

  const all = await e.up();
  assert.deepEqual(all.steps.map((s) => [s.version, s.outcome]), [[3, 'done']]);
  assert.deepEqual(await userTables(db), ['t1', 't2', 't3']);

  const last = await e.down({ last: true });
  assert.deepEqual(last.steps.map((s) => [s.version, s.direction, s.outcome]), [[3, 'down', 'done']]);
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied'], [3, 'pending']]);

  await e.up();
  const to1 = await e.down({ to: 1 });
  assert.deepEqual(to1.steps.map((s) => [s.version, s.direction]), [[3, 'down'], [2, 'down']]);
  assert.deepEqual(await userTables(db), ['t1']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'pending'], [3, 'pending']]);

  const redo = await e.redo();
  assert.deepEqual(redo.steps.map((s) => [s.version, s.direction, s.outcome]), [[1, 'down', 'done'], [1, 'up', 'done']]);
  assert.deepEqual(await userTables(db), ['t1']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'pending'], [3, 'pending']]);

  await e.up();
  const none = await e.down({ all: true });
  assert.deepEqual(none.steps.map((s) => [s.version, s.direction]), [[3, 'down'], [2, 'down'], [1, 'down']]);
  assert.deepEqual(await userTables(db), []);
  assert.deepEqual(await statuses(e), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);

  const rows = await e.history();
  assert.deepEqual(summary(rows), [
    [1, 'up', true], [2, 'up', true], [3, 'up', true], [3, 'down', true], [3, 'up', true], [3, 'down', true], [2, 'down', true],
    [1, 'down', true], [1, 'up', true], [2, 'up', true], [3, 'up', true], [3, 'down', true], [2, 'down', true], [1, 'down', true],
  ]);
  assertRowsWellFormed(ws, rows, t0, Date.now());
  assert.deepEqual(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort((a, b) => a - b));
  assert.deepEqual(await lockRows(db), []);
});

test('a migration that throws is rolled back and recorded as a failed row with its error', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); throw new Error('boom in up');` } }));
  const e = engine(ws);
  const report = await e.up();
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => s.outcome), ['failed']);
  assert.match(report.error ?? '', /boom in up/);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
  const [row, ...rest] = await e.history();
  assert.deepEqual(rest, []);
  assert.equal(row.success, false);
  assert.equal(row.direction, 'up');
  assert.equal(row.transactional, true);
  assert.match(row.error ?? '', /Migration 1 \(versions\) failed during up\(\): boom in up\. Its changes were rolled back/);
  assert.equal(row.checksum, checksumOf(fs.readFileSync(path.join(ws, migrationPath(1)), 'utf8')));
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
});

test('a down() that throws leaves the migration applied, shown as failed', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { down: `await knex.schema.dropTable('t1'); throw new Error('cannot undo');` } }));
  const e = engine(ws);
  await e.up();
  const report = await e.down({ last: true });
  assert.deepEqual(report.steps.map((s) => [s.direction, s.outcome]), [['down', 'failed']]);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.deepEqual(summary(await e.history()), [[1, 'up', true], [1, 'down', false]]);
  const [state] = (await e.status()).sources[0].migrations;
  assert.deepEqual([state.status, state.applied], ['failed', true]);
  assert.match(state.lastError ?? '', /failed during down\(\): cannot undo/);
});

test('a failure mid-batch stops the run; fixing the file and running up again finishes it', async () => {
  const throwing = { up: `await knex.schema.createTable('t3', (t) => { t.increments('id'); }); throw new Error('third fails');` };
  const ws = tempWorkspace(migrationFiles([1, 2, 3, 4, 5], { 3: throwing }));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);

  const report = await e.up();
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'done', 'failed', 'not-run', 'not-run']);
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.deepEqual(summary(await e.history()), [[1, 'up', true], [2, 'up', true], [3, 'up', false]]);
  const states = (await e.status()).sources[0].migrations;
  assert.deepEqual(states.map((m) => [m.version, m.status]), [[1, 'applied'], [2, 'applied'], [3, 'failed'], [4, 'pending'], [5, 'pending']]);
  assert.match(states[2].lastError ?? '', /third fails/);
  assert.equal(states[1].lastError, null);

  fs.writeFileSync(path.join(ws, migrationPath(3)), tsMigration(3, 't3'));
  const again = await e.up();
  assert.equal(again.ok, true);
  assert.deepEqual(again.steps.map((s) => [s.version, s.outcome]), [[3, 'done'], [4, 'done'], [5, 'done']]);
  assert.deepEqual(await userTables(db), ['t1', 't2', 't3', 't4', 't5']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'applied'], [5, 'applied']]);
  assert.deepEqual(await lockRows(db), []);
});

test('transaction = false: a half-way failure keeps its partial change and says it ran outside a transaction', async () => {
  const ws = tempWorkspace(migrationFiles([1], {
    1: { transaction: false, up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); throw new Error('half way');` },
  }));
  const e = engine(ws);
  const report = await e.up();
  assert.equal(report.ok, false);
  assert.match(report.error ?? '', /outside a transaction/);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  const rows = await e.history();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].success, false);
  assert.equal(rows[0].transactional, false);
  assert.match(rows[0].error ?? '', /half way.*ran outside a transaction/);
});

test('status, history and lockHolder write nothing: no database file is created', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const e = engine(ws);
  assert.deepEqual(await statuses(e), [[1, 'pending']]);
  assert.deepEqual(await e.history(), []);
  assert.equal(await e.lockHolder(), undefined);
  await e.close();
  assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
  assert.equal(fs.existsSync(path.join(ws, '.migrations')), false);
});

test('status on an existing database leaves its bytes, mtime and tables unchanged', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const db = DEFAULT_DB(ws);
  fs.mkdirSync(path.dirname(db), { recursive: true });
  const plain: Knex = sqliteKnex(db);
  await plain.schema.createTable('notes', (t) => t.text('body'));
  await plain('notes').insert({ body: 'keep me' });
  await plain.destroy();
  const bytes = fs.readFileSync(db);
  const mtime = fs.statSync(db).mtimeMs;
  const files = fs.readdirSync(path.dirname(db));

  const e = engine(ws);
  assert.deepEqual(await statuses(e), [[1, 'pending']]);
  assert.deepEqual(await e.history(), []);
  await e.close();

  assert.equal(fs.statSync(db).mtimeMs, mtime);
  assert.ok(fs.readFileSync(db).equals(bytes), 'database bytes changed');
  assert.deepEqual(fs.readdirSync(path.dirname(db)), files);
  const names = await inspect(db, async (k) => ((await k('sqlite_master').select('name')) as { name: string }[]).map((r) => r.name));
  assert.deepEqual(names, ['notes']);
});

test('checksums: an edited applied file is modified, a CRLF-only change is not', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const file = path.join(ws, migrationPath(1));
  const e = engine(ws);
  await e.up();
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied']]);
  fs.appendFileSync(file, '// edited after it ran\r\n');
  assert.deepEqual(await statuses(e), [[1, 'modified'], [2, 'applied']]);
  assert.deepEqual((await e.up()).steps, []);
});

test('a deleted applied file shows as a missing ghost entry and cannot be rolled back', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const e = engine(ws);
  await e.up();
  fs.rmSync(path.join(ws, migrationPath(2)));
  const states = (await e.status()).sources[0].migrations;
  assert.deepEqual(states.map((m) => [m.version, m.status, m.path, m.applied]), [[1, 'applied', path.join(ws, migrationPath(1)), true], [2, 'missing', null, true]]);
  assert.equal(states[1].description, 'create t2');
  await assert.rejects(e.down({ last: true }), /file is gone/);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2']);
});

test('a new file sorting before the newest applied one is out-of-order: applied only when asked', async () => {
  const ws = tempWorkspace(migrationFiles([1, 3]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  await e.up();
  fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'out-of-order'], [3, 'applied']]);
  const plain = await e.up();
  assert.deepEqual(plain.steps, []);
  assert.deepEqual(await userTables(db), ['t1', 't3']);

  const asked = await e.up({ outOfOrder: true });
  assert.deepEqual(asked.steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
  assert.deepEqual(await userTables(db), ['t1', 't2', 't3']);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'applied'], [3, 'applied']]);
  // "Last" means last applied, not highest version.
  assert.deepEqual((await e.down({ last: true })).steps.map((s) => [s.version, s.direction]), [[2, 'down']]);
});

test('dry run returns the SQL and changes neither tables nor history', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  await e.up({ to: 1 });
  const before = { tables: await userTables(db), history: await e.history() };

  const up = await e.sql('up');
  assert.deepEqual(up.steps.map((s) => [s.step.version, s.step.direction]), [[2, 'up']]);
  assert.ok(up.steps[0].sql.some((q) => /create table [`"]t2[`"]/i.test(q)), up.steps[0].sql.join('\n'));
  const down = await e.sql('down', { all: true });
  assert.deepEqual(down.steps.map((s) => [s.step.version, s.step.direction]), [[1, 'down']]);
  assert.ok(down.steps[0].sql.some((q) => /drop table [`"]t1[`"]/i.test(q)), down.steps[0].sql.join('\n'));

  assert.deepEqual(await userTables(db), before.tables);
  assert.deepEqual(await e.history(), before.history);
  assert.deepEqual(await statuses(e), [[1, 'applied'], [2, 'pending']]);
  assert.deepEqual(await lockRows(db), []);

  const fresh = tempWorkspace(migrationFiles([1]));
  assert.equal((await engine(fresh).sql('up')).steps.length, 1);
  assert.equal(fs.existsSync(DEFAULT_DB(fresh)), false);
});

test('versions sort numerically, not by file name', async () => {
  const ws = tempWorkspace({
    'versions/migration_2_create_t2.ts': tsMigration(2, 't2'),
    'versions/migration_009_create_t9.ts': tsMigration(9, 't9'),
    'versions/migration_10_create_t10.ts': tsMigration(10, 't10'),
  });
  const e = engine(ws);
  const report = await e.up();
  assert.deepEqual(report.steps.map((s) => s.version), [2, 9, 10]);
  assert.deepEqual((await e.history()).map((r) => r.version), [2, 9, 10]);
  assert.deepEqual((await e.down({ all: true })).steps.map((s) => s.version), [10, 9, 2]);
});

test('rolling back past a migration without down() is refused before anything runs', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2], { 1: { down: null } }));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  await e.up();
  await assert.rejects(e.down({ all: true }), (err: unknown) => err instanceof InvalidMigrationsError && /Cannot roll back 1: it has no down\(\)/.test(err.message));
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.deepEqual(summary(await e.history()), [[1, 'up', true], [2, 'up', true]]);
  assert.deepEqual(await lockRows(db), []);
  // Newer migrations can still be rolled back.
  assert.deepEqual((await e.down({ last: true })).steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
  await assert.rejects(e.down({ last: true }), InvalidMigrationsError);
  assert.deepEqual(await userTables(db), ['t1']);
});

test('cancelling from afterMigration stops the run between migrations', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3]));
  const e = engine(ws);
  const controller = new AbortController();
  const report = await e.up({ signal: controller.signal, events: { afterMigration: () => controller.abort() } });
  assert.equal(report.cancelled, true);
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'not-run', 'not-run']);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.deepEqual(summary(await e.history()), [[1, 'up', true]]);
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
});

class CodeMigration {
  readonly version = 7;
  readonly description = 'registered in code';
  async up(knex: Knex) {
    await knex.schema.createTable('from_code', (t) => t.increments('id'));
  }
  async down(knex: Knex) {
    await knex.schema.dropTable('from_code');
  }
}

test('registerMigrations: a code source is listed, applied and recorded with its id', async () => {
  const ws = tempWorkspace();
  const e = engine(ws);
  e.registerMigrations('code', [CodeMigration]);
  const status = await e.status();
  assert.deepEqual(status.sources.map((s) => [s.id, s.migrations.map((m) => [m.version, m.status, m.description])]), [['code', [[7, 'pending', 'registered in code']]]]);
  const report = await e.up();
  assert.deepEqual(report.steps.map((s) => [s.source, s.version, s.outcome]), [['code', 7, 'done']]);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['from_code']);
  const rows = await e.history();
  assert.deepEqual(rows.map((r) => [r.source, r.version, r.direction, r.success, r.checksum]), [['code', 7, 'up', true, null]]);
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied']);
  await e.down({ last: true });
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
});
