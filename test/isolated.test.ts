// Migration files executed outside the caller's thread (EngineOptions.isolate): in a child process,
// as the extension runs them, or on a worker thread, as the CLI does. Progress streams back, and a
// migration that keeps the runner busy (a synchronous loop, an endless SQLite statement) or a
// cancel ends the runner with nothing half-applied.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, type HistoryRow, type MigrationEngine, type StepReport } from '../src/core';
import { spawnCli } from './servers';
import { cli, CLI, DEFAULT_DB, engine as makeEngine, lockRows, migrationFiles, migrationPath, ROOT, RUNNER, tempWorkspace, tsMigration, until, userTables } from './helpers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

type Kind = 'child' | 'thread';
const KINDS: readonly Kind[] = ['child', 'thread'];

function engine(ws: string, migrationTimeoutMs = DEFAULT_SETTINGS.migrationTimeoutMs, kind: Kind = 'child'): MigrationEngine {
  const isolate = { execPath: process.execPath, entry: RUNNER, thread: kind === 'thread' ? {} : undefined };
  const e = makeEngine(ws, { settings: { ...DEFAULT_SETTINGS, migrationTimeoutMs }, isolate });
  open.push(e);
  return e;
}

const summary = (rows: readonly HistoryRow[]) => rows.map((r) => [r.version, r.direction, r.success, r.partial]);
/** An up() that leaves a timer running after it returns, which keeps its runner alive. */
const LEAVES_TIMER = "setInterval(() => {}, 1000); await knex.schema.createTable('t1', (t) => { t.increments('id'); });";
const SYNC_LOOP = `await knex.schema.createTable('t2', (t) => { t.increments('id'); }); for (;;) {}`;

for (const kind of KINDS) {
  test(`isolated (${kind}): runs, SQL preview and validate give what the in-process engine gives, with progress streamed back`, async () => {
    const ws = tempWorkspace(migrationFiles([1, 2, 3]));
    const e = engine(ws, undefined, kind);
    const seen: string[] = [];
    const events = {
      started: (steps: readonly StepReport[]) => seen.push(`started ${steps.map((s) => s.version).join(',')}`),
      beforeMigration: (s: StepReport) => seen.push(`before ${s.version}`),
      afterMigration: (s: StepReport) => seen.push(`after ${s.version} ${s.outcome}`),
    };
    assert.deepEqual(await e.validate(), []);
    const sql = await e.sql('up', {});
    assert.deepEqual(sql.steps.map((s) => [s.step.version, s.sql[0]]), [1, 2, 3].map((v) => [v, `create table \`t${v}\` (\`id\` integer not null primary key autoincrement)`]));
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), [], 'the preview changed nothing');
    const report = await e.up({ events });
    assert.equal(report.ok, true);
    assert.deepEqual(seen, ['started 1,2,3', 'before 1', 'after 1 done', 'before 2', 'after 2 done', 'before 3', 'after 3 done']);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2', 't3']);
    assert.deepEqual((await e.down({ to: 1 })).steps.map((s) => [s.version, s.direction, s.outcome]), [[3, 'down', 'done'], [2, 'down', 'done']]);
    assert.deepEqual((await e.redo()).steps.map((s) => [s.version, s.direction]), [[1, 'down'], [1, 'up']]);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  });

  test(`isolated (${kind}): a bad file is reported by the runner as the same typed error, with its problems`, async () => {
    const ws = tempWorkspace({ ...migrationFiles([1]), [migrationPath(2)]: tsMigration(2, 't2').replace("readonly version = 2", "readonly version = 7") });
    await assert.rejects(engine(ws, undefined, kind).up(), (err: Error & { problems?: { code: string }[] }) =>
      err.name === 'InvalidMigrationsError' && err.problems?.[0]?.code === 'version-mismatch' && /must be fixed before running/.test(err.message));
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
  });

  test(`isolated (${kind}): an up() stuck in a synchronous loop is ended at migrationTimeoutMs; its table is rolled back, the failure recorded, the lock free`, async () => {
    const ws = tempWorkspace(migrationFiles([1, 2, 3], { 2: { up: SYNC_LOOP } }));
    const db = DEFAULT_DB(ws);
    const e = engine(ws, 300, kind);
    const started = Date.now();
    const report = await e.up();
    const took = Date.now() - started;
    assert.ok(took >= 300 && took < 15_000, `stopped after ${took} ms`);
    assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed', 'not-run']);
    assert.equal(report.error, 'Migration 2 (versions) failed during up(): it did not finish within 300 ms (setting migrations.migrationTimeoutMs; 0 turns the limit off) and was stopped. Its changes were rolled back; fix the migration and run again.');
    assert.deepEqual(await userTables(db), ['t1']);
    assert.deepEqual(await lockRows(db), []);
    assert.deepEqual(summary(await e.history()), [[1, 'up', true, false], [2, 'up', false, false]]);
    assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'failed', 'pending']);
    fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
    assert.equal((await e.up()).ok, true);
    assert.deepEqual(await userTables(db), ['t1', 't2', 't3']);
  });

  test(`isolated (${kind}): outside a transaction, a stopped migration that had changed the database is failed-partial`, async () => {
    const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); for (;;) {}` } }));
    const e = engine(ws, 200, kind);
    const report = await e.up();
    assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\) after changing the database: it did not finish within 200 ms .* so the statements that ran were NOT rolled back\./);
    assert.deepEqual(summary(await e.history()), [[1, 'up', false, true]]);
    assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['failed-partial']);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  });

  test(`isolated (${kind}): cancelling while a migration runs ends the runner: earlier ones stay, the running one is rolled back and recorded`, async () => {
    const ws = tempWorkspace(migrationFiles([1, 2, 3], { 2: { up: SYNC_LOOP } }));
    const db = DEFAULT_DB(ws);
    const e = engine(ws, 0, kind);
    const abort = new AbortController();
    const report = await e.up({ signal: abort.signal, events: { beforeMigration: (s) => s.version === 2 && setTimeout(() => abort.abort(), 100) } });
    assert.equal(report.cancelled, true);
    assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed', 'not-run']);
    assert.match(report.error ?? '', /^Migration 2 \(versions\) was cancelled during up\(\): the process running it was stopped. Its changes were rolled back; nothing needs fixing/);
    assert.deepEqual(await userTables(db), ['t1']);
    assert.deepEqual(await lockRows(db), []);
    assert.deepEqual(summary(await e.history()), [[1, 'up', true, false], [2, 'up', false, false]]);
  });

  test(`isolated (${kind}): a runner kept alive by a timer a migration left is ended once it has answered, with a warning`, async () => {
    const ws = tempWorkspace(migrationFiles([1], { 1: { up: LEAVES_TIMER } }));
    const warnings: string[] = [];
    const quiet = () => {};
    const isolate = { execPath: process.execPath, entry: RUNNER, thread: kind === 'thread' ? {} : undefined };
    const e = makeEngine(ws, { isolate, logger: { info: quiet, debug: quiet, error: quiet, warn: (m: string) => warnings.push(m) } });
    open.push(e);
    const report = await e.up();
    assert.equal(report.ok, true, report.error);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
    assert.match(warnings.join('\n'), /still running 1 s after it finished \(a timer or a connection a migration left open\?\); it was stopped/);
    assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
  });
}

test('isolated (child): an endless SQLite statement (node:sqlite cannot interrupt it) is ended the same way', async () => {
  const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
  const ws = tempWorkspace(migrationFiles([1], { 1: { up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); await knex.raw('${endless}');` } }));
  const db = DEFAULT_DB(ws);
  const report = await engine(ws, 300).up();
  assert.match(report.error ?? '', /did not finish within 300 ms .*Its changes were rolled back/);
  assert.deepEqual(await userTables(db), []);
  assert.deepEqual(await lockRows(db), []);
});

test('CLI: a synchronous loop in up() is stopped by migrationTimeoutMs; exit 1 with the reason, nothing half-applied', () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2], { 2: { up: SYNC_LOOP } }), '.vscode/settings.json': '{ "migrations.migrationTimeoutMs": 400 }' });
  const r = cli(['up', '--dir', ws]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout + r.stderr, /Migration 2 \(versions\) failed during up\(\): it did not finish within 400 ms .*and was stopped\. Its changes were rolled back/);
  const status = JSON.parse(cli(['status', '--dir', ws, '--json']).stdout) as { sources: { migrations: { status: string }[] }[]; lock?: unknown };
  assert.deepEqual(status.sources[0].migrations.map((m) => m.status), ['applied', 'failed']);
  assert.equal(status.lock, undefined);
});

test('CLI: a migration that leaves a timer running does not keep the CLI waiting: exit 0, applied, with a warning', () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { up: LEAVES_TIMER } }));
  const started = Date.now();
  const r = cli(['up', '--dir', ws]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 60_000, 'the CLI ended on its own');
  assert.match(r.stderr, /still running 1 s after it finished .*it was stopped/);
  const status = JSON.parse(cli(['status', '--dir', ws, '--json']).stdout) as { sources: { migrations: { status: string }[] }[] };
  assert.deepEqual(status.sources[0].migrations.map((m) => m.status), ['applied']);
});

test('CLI: Ctrl-C during a migration stops it as Cancel does: rolled back, recorded as failed, the lock free, exit 130', async () => {
  const marker = path.join(tempWorkspace({}), 'looping');
  const ws = tempWorkspace(migrationFiles([1, 2], { 2: { up: `await knex.schema.createTable('t2', (t) => { t.increments('id'); }); require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); for (;;) {}` } }));
  const { child, done } = spawnCli(['up', '--dir', ws]);
  await until('migration 2 to start looping', () => fs.existsSync(marker));
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /Stopping \(SIGINT\)/);
  assert.match(r.stdout + r.stderr, /Migration 2 \(versions\) was cancelled during up\(\): the process running it was stopped. Its changes were rolled back; nothing needs fixing/);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
  const status = JSON.parse(cli(['status', '--dir', ws, '--json']).stdout) as { sources: { migrations: { status: string }[] }[] };
  assert.deepEqual(status.sources[0].migrations.map((m) => m.status), ['applied', 'failed']);
});

test('CLI: migrations run on a worker thread; one stuck in an endless SQLite statement ends the process, which says so, and a helper records the failure', async () => {
  const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
  const marker = path.join(tempWorkspace({}), 'thread.json');
  const where = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ main: require('node:worker_threads').isMainThread, pid: process.pid }));`;
  const ws = tempWorkspace({
    ...migrationFiles([1, 2], { 1: { up: `${where} await knex.schema.createTable('t1', (t) => { t.increments('id'); });` }, 2: { up: `await knex.schema.createTable('t2', (t) => { t.increments('id'); }); await knex.raw('${endless}');` } }),
    '.vscode/settings.json': '{ "migrations.migrationTimeoutMs": 300 }',
  });
  const r = spawnSync(process.execPath, [CLI, 'up', '--dir', ws], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(marker, 'utf8')), { main: false, pid: r.pid });
  assert.match(r.stderr, /^error: Migration 2 \(versions\) was inside one database statement past migrations\.migrationTimeoutMs \(300 ms\), which SQLite cannot interrupt\. This process ends now: the database rolls its transaction back, and a helper process records it as failed once this one is gone \(the lock is taken over\)\.$/m);
  const status = () => JSON.parse(cli(['status', '--dir', ws, '--json']).stdout) as { sources: { migrations: { status: string }[] }[]; lock?: unknown };
  await until('the helper to record the failure', () => status().sources[0].migrations[1].status === 'failed');
  assert.deepEqual(status().sources[0].migrations.map((m) => m.status), ['applied', 'failed']);
  assert.equal(status().lock, undefined);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  const e = engine(ws);
  assert.match((await e.history()).at(-1)?.error ?? '', /^Migration 2 \(versions\) failed during up\(\): it did not finish within 300 ms .*Its changes were rolled back/);
  fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
  const again = cli(['up', '--dir', ws]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2']);
});

test('CLI: a second Ctrl-C kills it at once, even with the runner inside one SQLite statement; the migration stays pending, the next run takes the lock over', async () => {
  const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
  const marker = path.join(tempWorkspace({}), 'counting');
  const ws = tempWorkspace(migrationFiles([1], { 1: { up: `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); await knex.raw('${endless}');` } }));
  const { child, done } = spawnCli(['up', '--dir', ws]);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await until('migration 1 to start its endless statement', () => fs.existsSync(marker));
  child.kill('SIGINT');
  await until('the CLI to say it is stopping', () => stderr.includes('Stopping (SIGINT)'));
  const second = Date.now();
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.ok(Date.now() - second < 1500, `ended at once, before the 2 s grace of the first Ctrl-C (took ${Date.now() - second} ms)`);
  const status = JSON.parse(cli(['status', '--dir', ws, '--json']).stdout) as { sources: { migrations: { status: string }[] }[]; lock?: { stale: boolean } };
  assert.deepEqual(status.sources[0].migrations.map((m) => m.status), ['pending']);
  assert.equal(status.lock?.stale, true);
  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1'));
  const again = cli(['up', '--dir', ws]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
});

// The machine's own Node (20 here) is older than the floor; npm scripts run on the project's Node 22.
const OLD_NODE = '/usr/bin/node';
test('CLI: on a Node older than 22.13 it exits 2 with one sentence naming the version it needs', { skip: !fs.existsSync(OLD_NODE) && 'no system Node at /usr/bin/node' }, () => {
  const old = OLD_NODE;
  const version = spawnSync(old, ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, /^v(1\d|20|21|22\.(\d|1[0-2]))\./, 'the system Node here is older than 22.13');
  const r = spawnSync(old, [CLI, 'status'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `migrations needs Node.js 22.13 or newer (this is ${version}): install a current Node.js and run it again.\n`);
  assert.equal(r.stdout, '');
});

test('library: on a Node older than 22.13 requiring it throws one sentence naming the version it needs', { skip: !fs.existsSync(OLD_NODE) && 'no system Node at /usr/bin/node' }, () => {
  const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const probe = `try { require(${JSON.stringify(path.join(ROOT, 'dist', 'lib.js'))}); console.log('loaded'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
  const r = spawnSync(OLD_NODE, ['-e', probe], { encoding: 'utf8' });
  assert.equal(r.stdout, `Error: migration-manager needs Node.js 22.13 or newer (this is ${version}): install a current Node.js and run it again.\n`, r.stderr);
});
