// A migration whose rollback would not undo its changes (transaction = false anywhere, DDL on
// MariaDB) commits a marker before its first statement: killed mid-way, it is `interrupted`, not
// pending, and the next `up` refuses it with the repair advice instead of running it again.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { knex as createKnex } from 'knex';
import type { MigrationEngine } from '../src/core';
import { cliAsync, DEFAULT_DB, engine as makeEngine, migrationFiles, sqliteKnex, tempWorkspace, tsMigration, until, userTables, type CliResult } from './helpers';
import { probe, SERVERS, spawnCli, TestDatabase } from './servers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

const MARIADB = SERVERS.find((s) => s.client === 'mysql2')!;

/** Migration `version`: creates `t<version>`, then (inside up()) waits for ever: the test kills it there. */
function stuckAfterFirstStatement(version: number, ws: string, transaction: boolean): string {
  return `import type { Knex } from 'knex';
import * as fs from 'node:fs';
import * as path from 'node:path';
export class M${version} {
  readonly version = ${version};
  readonly description = 'create t${version}, then hang';${transaction ? '' : '\n  readonly transaction = false;'}
  async up(knex: Knex) {
    await knex.schema.createTable('t${version}', (t) => { t.increments('id'); });
    fs.writeFileSync(path.join(${JSON.stringify(ws)}, 'started-${version}'), '');
    await new Promise((resolve) => setTimeout(resolve, 30_000));
  }
  async down(knex: Knex) { await knex.schema.dropTable('t${version}'); }
}
export function getMigration() { return M${version}; }
`;
}

/** `up` in a process group of its own, SIGKILLed (with the runner it started) once migration 2 has run its first statement. */
async function killedInMigration2(ws: string): Promise<void> {
  const { child, done } = spawnCli(['up', '--dir', ws]);
  await until('migration 2 ran its first statement', () => fs.existsSync(path.join(ws, 'started-2')));
  process.kill(-child.pid!, 'SIGKILL');
  assert.equal((await done).signal, 'SIGKILL');
}

function json(r: CliResult): { sources: { migrations: { version: number; status: string; applied: boolean; lastError: string | null }[] }[] } {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** What every front end must say after the kill, and the repair the advice asks for. */
async function assertInterrupted(ws: string, dropByHand: () => Promise<void>, tables: () => Promise<string[]>): Promise<void> {
  const status = json(await cliAsync(['status', '--json', '--dir', ws]));
  assert.deepEqual(status.sources[0].migrations.map((m) => [m.version, m.status, m.applied]), [[1, 'applied', true], [2, 'interrupted', false], [3, 'pending', false]]);
  assert.match(status.sources[0].migrations[1].lastError ?? '', /^Migration 2 \(versions\) was interrupted during up\(\): it started at \S+ and never recorded how it ended \(its process was killed or crashed; or it is still running, while the lock is held\)\. /);
  const human = await cliAsync(['status', '--dir', ws]);
  assert.match(human.stdout, /^\s+002\s+interrupted\s/m);
  assert.match(human.stdout, /Once repaired, run "migrations mark-applied 2/);

  const again = await cliAsync(['up', '--dir', ws]);
  assert.equal(again.code, 1, again.stdout);
  assert.match(again.stderr, /^error: Migration 2 \(versions\) is interrupted: its last up\(\) never recorded how it ended \(its process was killed or crashed mid-way\), and what it changed by then was not rolled back, so nothing was run\. Check what it changed and repair the database by hand, then either finish what up\(\) does and run "migrations mark-applied 2/m, 'after the dead run\'s lock is taken over');
  assert.doesNotMatch(again.stderr, /already exists/);
  assert.deepEqual(await tables(), ['t1', 't2']);

  const history = JSON.parse((await cliAsync(['history', '--json', '--dir', ws])).stdout) as { version: number; success: boolean; partial: boolean; running: boolean }[];
  assert.deepEqual(history.map((r) => [r.version, r.success, r.partial, r.running]), [[1, true, false, false], [2, false, true, true]]);
  assert.match((await cliAsync(['history', '--dir', ws])).stdout, /interrupted, not rolled back/);

  // The repair the advice asks for: undo what ran, forget the attempt; then up runs it (and the rest) again.
  await dropByHand();
  assert.equal((await cliAsync(['forget', '2', '--dir', ws])).code, 0);
  fs.writeFileSync(path.join(ws, 'versions', 'migration_002_create_t2.ts'), tsMigration(2, 't2', { transaction: false }));
  const fixed = await cliAsync(['up', '--dir', ws]);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.deepEqual(json(await cliAsync(['status', '--json', '--dir', ws])).sources[0].migrations.map((m) => m.status), ['applied', 'applied', 'applied']);
}

test('SQLite, transaction = false: killed after its first statement, the migration is interrupted, and up refuses it with the repair advice', async () => {
  const ws = tempWorkspace(migrationFiles([1, 3]));
  fs.writeFileSync(path.join(ws, 'versions', 'migration_002_create_t2.ts'), stuckAfterFirstStatement(2, ws, false));
  await killedInMigration2(ws);
  const db = DEFAULT_DB(ws);
  await assertInterrupted(ws, async () => {
    const k = sqliteKnex(db);
    await k.schema.dropTable('t2');
    await k.destroy();
  }, async () => (await userTables(db)).filter((t) => t.startsWith('t')));
});

test('MariaDB, DDL in a transactional migration: killed after its first statement, the migration is interrupted, and up refuses it', async (t) => {
  const why = await probe(MARIADB);
  if (why) return t.skip(why);
  const db = await TestDatabase.create(MARIADB);
  try {
    const ws = tempWorkspace({ ...migrationFiles([1, 3]), '.vscode/settings.json': db.settingsJson() });
    fs.writeFileSync(path.join(ws, 'versions', 'migration_002_create_t2.ts'), stuckAfterFirstStatement(2, ws, true));
    await killedInMigration2(ws);
    // The killed runner's session ends with its socket; its server lock with it.
    await assertInterrupted(ws, () => db.db.schema.dropTable('t2'), async () => (await db.tables()).filter((n) => n.startsWith('t')));
  } finally {
    await db.drop();
  }
});

/** Statements a run sends to migration_history, through an app's own Knex instance. */
async function historyWrites(transaction: boolean): Promise<{ writes: string[]; rows: number }> {
  const ws = tempWorkspace(migrationFiles([1, 2], { 1: { transaction }, 2: { transaction } }));
  const app = createKnex({ client: 'sqlite3', connection: { filename: path.join(ws, 'app.sqlite3') }, useNullAsDefault: true });
  try {
    const e = makeEngine(ws, { database: app });
    const writes: string[] = [];
    app.on('query', (q: { sql: string }) => {
      if (/migration_history/.test(q.sql) && /^\s*(insert|update)/i.test(q.sql)) writes.push(q.sql.split(' ')[0]);
    });
    assert.equal((await e.up()).ok, true);
    const rows = (await e.history()).length;
    await e.close();
    return { writes, rows };
  } finally {
    await app.destroy();
  }
}

test('a marker costs a transactional migration on SQLite nothing; outside a transaction, one row per migration all the same', async () => {
  assert.deepEqual(await historyWrites(true), { writes: ['insert', 'insert'], rows: 2 });
  assert.deepEqual(await historyWrites(false), { writes: ['insert', 'update', 'insert', 'update'], rows: 2 });
});

test("a second up while a migration outside a transaction runs is not refused as interrupted: the marker is a live run's, and it waits for the lock", async () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 3]), '.vscode/settings.json': JSON.stringify({ 'migrations.lockTimeoutMs': 300 }) });
  fs.writeFileSync(path.join(ws, 'versions', 'migration_002_create_t2.ts'), stuckAfterFirstStatement(2, ws, false));
  const first = spawnCli(['up', '--dir', ws]);
  try {
    await until('migration 2 ran its first statement', () => fs.existsSync(path.join(ws, 'started-2')));
    const second = await cliAsync(['up', '--dir', ws]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /lock/i);
    assert.doesNotMatch(second.stderr, /interrupted/);
    assert.equal(json(await cliAsync(['status', '--json', '--dir', ws])).sources[0].migrations[1].status, 'interrupted', 'status does not know the run is alive');
  } finally {
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.done;
  }
});
