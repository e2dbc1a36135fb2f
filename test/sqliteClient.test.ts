import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { openDatabase } from '../src/core/database';
import { tempWorkspace, userTables } from './helpers';

// The sqlite3 client that sends DDL through exec() and BEGIN with the next statement must behave
// as knex's own: these run on a real file and compare with what knex's stock client does.

async function withDb<T>(fn: (db: Knex, file: string) => Promise<T>): Promise<T> {
  const file = path.join(tempWorkspace(), 'x.sqlite3');
  const db = openDatabase({ client: 'sqlite3', filename: file, label: file }, 'write')!;
  try {
    return await fn(db, file);
  } finally {
    await db.destroy();
  }
}

test('sqlite3 client: a transaction of DDL, insert and select commits all of it', async () => {
  await withDb(async (db, file) => {
    const seen = await db.transaction(async (trx) => {
      await trx.schema.createTable('a', (t) => {
        t.increments('id');
        t.string('name').defaultTo('x;y');
        t.index(['name']);
      });
      const [id] = await trx('a').insert({ name: 'first' });
      return { id, rows: await trx('a').select('name') };
    });
    assert.deepEqual(seen, { id: 1, rows: [{ name: 'first' }] });
    assert.deepEqual(await userTables(file), ['a']);
  });
});

test('sqlite3 client: a failing statement rolls the whole transaction back, and the connection goes on', async () => {
  await withDb(async (db, file) => {
    await assert.rejects(
      db.transaction(async (trx) => {
        await trx.schema.createTable('a', (t) => t.increments('id'));
        await trx.schema.createTable('a', (t) => t.increments('id'));
      }),
      (err: Error) => /create table `a`/.test(err.message) && /already exists/.test(err.message),
    );
    assert.deepEqual(await userTables(file), []);
    await db.transaction(async (trx) => trx.schema.createTable('b', (t) => t.increments('id')));
    assert.deepEqual(await userTables(file), ['b']);
  });
});

test('sqlite3 client: empty transactions, reads first, and savepoints right after BEGIN', async () => {
  await withDb(async (db, file) => {
    await db.transaction(async () => undefined);
    await db.transaction(async (trx) => trx.rollback()).catch(() => undefined);
    const read = await db.transaction(async (trx) => trx.raw('select 41 + 1 as n'));
    assert.deepEqual(read, [{ n: 42 }]);
    await db.transaction(async (trx) => {
      await trx.transaction(async (inner) => {
        await inner.schema.createTable('kept', (t) => t.increments('id'));
      });
      await trx
        .transaction(async (inner) => {
          await inner.schema.createTable('undone', (t) => t.increments('id'));
          throw new Error('inner fails');
        })
        .catch(() => undefined);
    });
    assert.deepEqual(await userTables(file), ['kept']);
    // A transaction left open would make this BEGIN fail.
    await db.transaction(async (trx) => trx.schema.createTable('after', (t) => t.increments('id')));
  });
});

test('sqlite3 client: migrations see the client named "sqlite3", and raw SQL runs as under knex', async () => {
  await withDb(async (db, file) => {
    assert.equal(db.client.config.client, 'sqlite3');
    await db.transaction(async (trx) => assert.equal(trx.client.config.client, 'sqlite3'));
    // knex's sqlite3 client runs only the first statement of a raw string; so does this one.
    await db.raw('create table one (id integer); create table two (id integer)');
    assert.deepEqual(await userTables(file), ['one']);
    await db.raw('create table three (id integer);');
    assert.deepEqual(await userTables(file), ['one', 'three']);
  });
});
