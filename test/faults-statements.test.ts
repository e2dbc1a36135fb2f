// What a failed migration's record says about its statements: a statement counts as run only when
// the database answered it (a refused one changed nothing), and statements are recorded with their
// placeholders, never with the values bound to them (a password in `create user … identified by ?`).
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { knex as createKnex } from 'knex';
import type { MigrationEngine } from '../src/core';
import { cliAsync, DEFAULT_DB, engine as makeEngine, migrationFiles, migrationPath, tempWorkspace, tsMigration, userTables } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

const MARIADB = SERVERS.find((s) => s.client === 'mysql2')!;

const statuses = async (e: MigrationEngine) => (await e.status()).sources[0].migrations.map((m) => [m.version, m.status, m.applied]);

test('MariaDB: a down() whose first statement the database refuses (a foreign key) is plain failed, and runs again once fixed', async (t) => {
  const why = await probe(MARIADB);
  if (why) return t.skip(why);
  const db = await TestDatabase.create(MARIADB);
  try {
    const create = `await knex.schema.createTable('parent', (t) => { t.increments('id'); });
    await knex.schema.createTable('child', (t) => { t.increments('id'); t.integer('parent_id').unsigned().references('parent.id'); });`;
    const wrongOrder = `await knex.schema.dropTable('parent'); await knex.schema.dropTable('child');`;
    const ws = tempWorkspace(migrationFiles([1], { 1: { up: create, down: wrongOrder } }));
    const e = makeEngine(ws, { settings: db.settings() });
    open.push(e);
    assert.equal((await e.up()).ok, true);

    const report = await e.down({ last: true });
    assert.equal(report.ok, false);
    assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during down\(\): drop table `parent` - .*foreign key.*\. Its changes were rolled back; fix the migration and run again\.$/s);
    assert.doesNotMatch(report.error ?? '', /Statements that ran|NOT rolled back/);
    const last = (await e.history()).at(-1)!;
    assert.deepEqual([last.direction, last.success, last.partial, last.error], ['down', false, false, report.error]);
    assert.deepEqual(await statuses(e), [[1, 'failed', true]]);
    assert.deepEqual(await db.tables(), ['child', 'migration_history', 'migration_lock', 'parent']);

    fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 'parent', { up: create, down: `await knex.schema.dropTable('child'); await knex.schema.dropTable('parent');` }));
    const again = await e.down({ last: true });
    assert.equal(again.ok, true, again.error);
    assert.deepEqual(await statuses(e), [[1, 'pending', false]]);
    assert.deepEqual(await db.tables(), ['migration_history', 'migration_lock']);
  } finally {
    await db.drop();
  }
});

test('SQLite, transaction = false: a first statement that fails leaves a plain failed migration, which runs again once fixed', async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up: `await knex('nowhere').insert({ id: 1 }); await knex.schema.createTable('t1', (t) => { t.increments('id'); });` } }));
  const e = makeEngine(ws);
  open.push(e);
  const report = await e.up();
  assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\): insert into `nowhere` .* no such table: nowhere\. It ran outside a transaction \(transaction: false\), but no statement had changed the database yet; fix the migration and run again\.$/);
  assert.deepEqual(await statuses(e), [[1, 'failed', false]]);
  assert.equal((await e.history()).at(-1)!.partial, false);
  fs.writeFileSync(path.join(ws, migrationPath(1)), tsMigration(1, 't1', { transaction: false }));
  assert.equal((await e.up()).ok, true);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
});

test('SQLite, transaction = false: what ran before the failure is listed, the refused statement is not', async () => {
  const up = `await knex.schema.createTable('t1', (t) => { t.increments('id'); }); await knex('t1').insert({ id: 1 }); await knex('t1').insert({ id: 1 });`;
  const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up } }));
  const e = makeEngine(ws);
  open.push(e);
  const report = await e.up();
  assert.match(report.error ?? '', /after changing the database: .*UNIQUE constraint failed/);
  const listed = (report.error ?? '').split('Statements that ran before the failure:\n')[1];
  assert.deepEqual(listed.split('\n'), ['  create table `t1` (`id` integer not null primary key autoincrement);', '  insert into `t1` (`id`) values (?);']);
  assert.deepEqual(await statuses(e), [[1, 'failed-partial', false]]);
});

test("an app's own Knex instance (which writes values into its errors): the record still shows the placeholders", async () => {
  const ws = tempWorkspace(migrationFiles([1], { 1: { transaction: false, up: `await knex('nowhere').insert({ token: 'Token-7777-SECRET' });` } }));
  const app = createKnex({ client: 'sqlite3', connection: { filename: path.join(ws, 'app.sqlite3') }, useNullAsDefault: true });
  try {
    const e = makeEngine(ws, { database: app });
    const report = await e.up();
    assert.match(report.error ?? '', /^Migration 1 \(versions\) failed during up\(\): insert into `nowhere` \(`token`\) values \(\?\) - SQLITE_ERROR: no such table: nowhere\. /);
    assert.equal((await e.history()).at(-1)!.error, report.error);
    await e.close();
  } finally {
    await app.destroy();
  }
});

test('MariaDB: a failing migration records its statements with placeholders: no bound value in the history, the report or status --json', async (t) => {
  const why = await probe(MARIADB);
  if (why) return t.skip(why);
  const db = await TestDatabase.create(MARIADB);
  // A user of the server's (not only this database's): named like the test users, which a later probe sweeps.
  const user = `mm_u_${process.pid}_${randomBytes(3).toString('hex')}`;
  try {
    const up = `await knex.raw("create user ?@'%' identified by ?", ['${user}', 'AppUserPw-4242-SECRET']);
    await knex.raw('insert into nowhere (token) values (?)', ['Token-7777-SECRET']);`;
    const ws = tempWorkspace({ ...migrationFiles([1], { 1: { transaction: false, up } }), '.vscode/settings.json': db.settingsJson() });
    const run = await cliAsync(['up', '--json', '--dir', ws]);
    assert.equal(run.code, 1, run.stderr);
    const status = await cliAsync(['status', '--json', '--dir', ws]);
    const history = await cliAsync(['history', '--json', '--dir', ws]);
    const e = makeEngine(ws, { settings: db.settings() });
    open.push(e);
    const row = (await e.history()).at(-1)!;
    const lastError = (await e.status()).sources[0].migrations[0].lastError ?? '';
    assert.match(row.error ?? '', /Statements that ran before the failure:\n {2}create user \?@'%' identified by \?;$/);
    assert.match(row.error ?? '', /failed during up\(\) after changing the database: insert into nowhere \(token\) values \(\?\) - .*doesn't exist/);
    assert.equal(lastError, row.error);
    for (const [what, text] of Object.entries({ history: row.error, status: lastError, 'up --json': run.stdout, 'up stderr': run.stderr, 'status --json': status.stdout, 'history --json': history.stdout })) {
      assert.doesNotMatch(text ?? '', /SECRET/, `${what} shows a bound value`);
    }
    assert.match(status.stdout, /identified by \?/);
  } finally {
    await db.db.raw("drop user if exists ?@'%'", [user]);
    await db.drop();
  }
});
