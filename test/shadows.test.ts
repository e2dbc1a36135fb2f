// Shadow databases on PostgreSQL and MariaDB: a configured shadow is never the real database nor a
// database of someone else's (issue 19 item 1), and temporary shadows never outlive their run
// (item 15): each check drops those of runs that are gone, `migrations shadows --drop` on demand.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { MigrationEngine } from '../src/core';
import { engine as makeEngine, tempWorkspace, tsMigration } from './helpers';
import { probe, rowsOf, SERVERS, TestDatabase, type Server } from './servers';

const closing: { close(): Promise<void> }[] = [];
const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(closing.map((c) => c.close()));
  await Promise.all(databases.map((d) => d.drop()));
});

const users = tsMigration(1, 'users', { up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); });", down: "await knex.schema.dropTable('users');" });
const notes = tsMigration(2, 'notes');

async function fresh(server: Server): Promise<TestDatabase> {
  const why = await probe(server);
  assert.equal(why, undefined, `${server.name} must run on loopback for this test: ${why}`);
  const db = await TestDatabase.create(server);
  databases.push(db);
  return db;
}

function track(e: MigrationEngine): MigrationEngine {
  closing.push(e);
  return e;
}

/** The same server and database as `db`, as a URL naming the host another way. */
function urlOf(db: TestDatabase): string {
  return `${db.server.client === 'pg' ? 'postgres' : 'mysql'}://${db.server.user}@localhost:${db.server.port}/${db.name}`;
}

/** Rejects with a message (not its `Name: ` prefix) matching `expected`. */
async function refusedWith(promise: Promise<unknown>, expected: RegExp, how?: string): Promise<void> {
  await assert.rejects(promise, (err: Error) => (assert.match(err.message, expected, how), true));
}

async function count(db: TestDatabase, table: string): Promise<number> {
  return Number(rowsOf(await db.db.raw(`select count(*) as n from ${table}`))[0].n);
}

for (const server of SERVERS) {
  test(`${server.name}: the real database given as the shadow, however the server is spelled, is refused by verify, lint and drift, and nothing in it is touched`, async () => {
    const db = await fresh(server);
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, 'versions/migration_002_notes.ts': notes });
    assert.equal((await track(makeEngine(ws, { settings: db.settings() })).up({ to: 1 })).ok, true);
    await db.db.schema.createTable('customers', (t) => { t.increments('id'); t.string('name'); });
    await db.db('customers').insert({ name: 'Ada' });
    const before = await db.tables();
    const historyRows = await count(db, 'migration_history');

    const spellings: [string, MigrationEngine][] = [
      ['host "localhost"', makeEngine(ws, { settings: { ...db.settings({ shadowDatabase: db.name }), connection: { ...db.connection(), host: 'localhost' } } })],
      ['a URL', makeEngine(ws, { settings: db.settings({ shadowDatabase: db.name }), database: { client: server.client, connection: urlOf(db) } })],
    ];
    for (const [how, e] of spellings) {
      track(e);
      const refused = new RegExp(`^The shadow database "${db.name}" \\(migrations\\.shadowDatabase\\) is the database these migrations are applied to .*: verify, lint and drift empty their shadow, so it must be another database; set migrations\\.shadowDatabase to an empty database of its own on the same server, or leave it unset to use a temporary one\\.$`);
      await refusedWith(e.verify(), refused, how);
      await refusedWith(e.lint(), refused, how);
      await refusedWith(e.drift(), refused, how);
    }
    assert.deepEqual(await db.tables(), before, 'every table is still there');
    assert.equal(await count(db, 'customers'), 1);
    assert.equal(await count(db, 'migration_history'), historyRows);
  });

  test(`${server.name}: a shadow database holding tables Migration Manager did not make is refused, naming it and its tables`, async () => {
    const [db, other] = [await fresh(server), await fresh(server)];
    await other.db.schema.createTable('invoices', (t) => { t.increments('id'); });
    await other.db('invoices').insert({});
    await other.db.schema.createTable('payments', (t) => { t.increments('id'); });
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
    const e = track(makeEngine(ws, { settings: db.settings({ shadowDatabase: other.name }) }));
    const refused = new RegExp(`^The shadow database "${other.name}" \\(migrations\\.shadowDatabase\\) holds tables Migration Manager did not make \\(invoices, payments\\) and no mm_shadow_marker table: a shadow is emptied before each check, so only an empty database is taken as one; set migrations\\.shadowDatabase to an empty database, or leave it unset to use a temporary one\\.$`);
    await refusedWith(e.verify(), refused);
    await refusedWith(e.drift(), refused);
    assert.deepEqual(await other.tables(), ['invoices', 'payments']);
    assert.equal(await count(other, 'invoices'), 1);
  });

  test(`${server.name}: an empty shadow database is marked on first use, then used again (emptied) by the next checks`, async () => {
    const [db, shadow] = [await fresh(server), await fresh(server)];
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, 'versions/migration_002_notes.ts': notes });
    const e = track(makeEngine(ws, { settings: db.settings({ shadowDatabase: shadow.name }) }));
    const first = await e.verify();
    assert.equal(first.shadow, `the shadow database ${shadow.name}`);
    assert.deepEqual(first.migrations.map((m) => m.outcome), ['reversible', 'reversible']);
    assert.ok((await shadow.tables()).includes('mm_shadow_marker'), 'the shadow is marked as ours');
    // What the last check left in it (and anything else) is emptied; the marker stays.
    await shadow.db.schema.createTable('scratch_left', (t) => { t.increments('id'); });
    const second = await e.verify();
    assert.deepEqual(second.migrations.map((m) => m.outcome), ['reversible', 'reversible']);
    assert.equal((await shadow.tables()).includes('scratch_left'), false);
    assert.ok((await shadow.tables()).includes('mm_shadow_marker'));
    assert.equal((await e.lint()).ok, true);
    assert.equal((await e.up()).ok, true);
    const drift = await e.drift();
    assert.deepEqual(drift.changes, [], 'the marker is not part of any schema');
  });
}
