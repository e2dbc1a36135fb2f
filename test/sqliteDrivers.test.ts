import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { databaseTarget, openSqlite as openDatabase, type DatabaseTarget } from '../src/core/database/database';
import { ConfigError } from '../src/core/model/errors';
import { DEFAULT_SETTINGS } from '../src/core/config/settings';
import { ROOT, tempWorkspace } from './helpers';

// Every SQLite driver must behave as knex's own sqlite3 client: these run on real files.
// `sqlite` is Node's built-in node:sqlite through our knex client; `sqlite3` (our fewer-trips
// subclass) and `better-sqlite3` come from a user's project, here this repository's dev dependencies.

type Driver = 'sqlite' | 'sqlite3' | 'better-sqlite3';
// scripts/node-versions.mjs leaves better-sqlite3 out on Node 22.13, where that package crashes.
const DRIVERS = (process.env.MIGRATIONS_TEST_DRIVERS || 'sqlite,sqlite3,better-sqlite3').split(',') as Driver[];

function target(driver: Driver, file: string): DatabaseTarget {
  return { client: driver, filename: file, driverFrom: driver === 'sqlite' ? undefined : ROOT, label: file };
}

/**
 * User tables, read through the same connection: opening the file with another SQLite library in
 * this process would break the driver's POSIX locks (see sqliteKnex in helpers.ts).
 */
async function userTables(db: Knex): Promise<string[]> {
  const rows = (await db('sqlite_master').where({ type: 'table' }).select('name')) as { name: string }[];
  return rows.map((r) => r.name).filter((n) => !n.startsWith('sqlite_')).sort();
}

async function withDb<T>(driver: Driver, fn: (db: Knex, file: string) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
  const file = path.join(tempWorkspace(), 'x.sqlite3');
  const db = openDatabase(target(driver, file), mode)!;
  try {
    return await fn(db, file);
  } finally {
    await db.destroy();
  }
}

for (const driver of DRIVERS) {
  test(`${driver}: a transaction of DDL, insert and select commits all of it`, async () => {
    await withDb(driver, async (db) => {
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
      assert.deepEqual(await userTables(db), ['a']);
    });
  });

  test(`${driver}: a failing statement rolls the whole transaction back, and the connection goes on`, async () => {
    await withDb(driver, async (db) => {
      await assert.rejects(
        db.transaction(async (trx) => {
          await trx.schema.createTable('a', (t) => t.increments('id'));
          await trx.schema.createTable('a', (t) => t.increments('id'));
        }),
        (err: Error) => /create table `a`/.test(err.message) && /already exists/.test(err.message),
      );
      assert.deepEqual(await userTables(db), []);
      await db.transaction(async (trx) => trx.schema.createTable('b', (t) => t.increments('id')));
      assert.deepEqual(await userTables(db), ['b']);
    });
  });

  test(`${driver}: empty transactions, reads first, and savepoints right after BEGIN`, async () => {
    await withDb(driver, async (db) => {
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
      assert.deepEqual(await userTables(db), ['kept']);
      // A transaction left open would make this BEGIN fail.
      await db.transaction(async (trx) => trx.schema.createTable('after', (t) => t.increments('id')));
    });
  });

  test(`${driver}: migrations see the client named "sqlite3", and raw SQL runs as under knex`, async () => {
    await withDb(driver, async (db) => {
      const name = driver === 'sqlite' ? 'sqlite3' : driver;
      assert.equal(db.client.config.client, name);
      await db.transaction(async (trx) => assert.equal(trx.client.config.client, name));
      // knex's sqlite3 client runs only the first statement of a raw string; so do node:sqlite
      // and ours (better-sqlite3 refuses such a string).
      if (driver !== 'better-sqlite3') {
        await db.raw('create table one (id integer); create table two (id integer)');
        assert.deepEqual(await userTables(db), ['one']);
      }
      await db.raw('create table three (id integer);');
      assert.deepEqual(await userTables(db), driver === 'better-sqlite3' ? ['three'] : ['one', 'three']);
    });
  });

  test(`${driver}: WAL, synchronous=NORMAL and a busy timeout on a write connection`, async () => {
    await withDb(driver, async (db) => {
      const first = async (sql: string) => Object.values(((await db.raw(sql)) as Record<string, unknown>[])[0])[0];
      assert.equal(await first('PRAGMA journal_mode'), 'wal');
      assert.equal(await first('PRAGMA synchronous'), 1);
      assert.equal(await first('PRAGMA busy_timeout'), 5000);
      // As with knex's sqlite3 client; better-sqlite3 turns them on by default, as under knex too.
      assert.equal(await first('PRAGMA foreign_keys'), driver === 'better-sqlite3' ? 1 : 0);
    });
  });

  test(`${driver}: a read connection creates nothing and cannot write`, async () => {
    const ws = tempWorkspace();
    const file = path.join(ws, 'x.sqlite3');
    assert.equal(openDatabase(target(driver, file), 'read'), undefined);
    const writer = openDatabase(target(driver, file), 'write')!;
    await writer.schema.createTable('t', (t) => t.integer('n'));
    await writer.destroy();
    // A reader of a WAL file may add its -wal/-shm companions (SQLite's own), nothing else.
    const files = () => fs.readdirSync(ws).filter((f) => !/-(wal|shm)$/.test(f)).sort();
    const before = files();
    const reader = openDatabase(target(driver, file), 'read')!;
    try {
      assert.deepEqual(await reader('t').select('n'), []);
      await assert.rejects(reader('t').insert({ n: 1 }), /SQLITE_READONLY|readonly/i);
      assert.deepEqual(await userTables(reader), ['t']);
    } finally {
      await reader.destroy();
    }
    assert.deepEqual(files(), before);
  });

  test(`${driver}: bindings as knex's sqlite3 binds them, rows as plain objects`, async () => {
    await withDb(driver, async (db) => {
      await db.schema.createTable('b', (t) => {
        t.increments('id');
        t.boolean('flag');
        t.datetime('at');
        t.string('note');
        t.binary('blob');
      });
      const at = new Date('2026-01-02T03:04:05.678Z');
      const [id] = await db('b').insert({ flag: true, at, note: undefined, blob: Buffer.from([1, 2]) });
      assert.equal(id, 1);
      await db('b').insert({ flag: false, at, note: 'two' });
      const rows = await db('b').select('flag', 'at', 'note').orderBy('id');
      assert.deepEqual(rows, [{ flag: 1, at: at.valueOf(), note: null }, { flag: 0, at: at.valueOf(), note: 'two' }]);
      assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
      assert.equal(await db('b').where({ flag: true }).update({ note: 'x' }), 1);
      assert.equal(await db('b').where({ id: 2 }).del(), 1);
      assert.deepEqual(await db('b').insert({ flag: true }).returning('id'), [{ id: 3 }]);
      assert.deepEqual(await db('b').count({ n: '*' }), [{ n: 2 }]);
      assert.deepEqual(await db('b').pluck('id'), [1, 3]);
      assert.equal(await db.schema.hasTable('b'), true);
      assert.equal(await db.schema.hasColumn('b', 'note'), true);
    });
  });

  test(`${driver}: knex's table rebuilds (drop, alter, rename a column; rename a table) keep the data`, async () => {
    await withDb(driver, async (db) => {
      await db.schema.createTable('people', (t) => {
        t.increments('id');
        t.string('name').notNullable();
        t.integer('age');
        t.string('old');
      });
      await db('people').insert([{ name: 'ann', age: 30, old: 'x' }, { name: 'bob', age: 40, old: 'y' }]);
      await db.transaction(async (trx) => {
        await trx.schema.alterTable('people', (t) => t.dropColumn('old'));
        await trx.schema.alterTable('people', (t) => t.string('age').alter());
        await trx.schema.alterTable('people', (t) => t.renameColumn('name', 'full_name'));
      });
      await db.schema.renameTable('people', 'persons');
      assert.deepEqual(await userTables(db), ['persons']);
      assert.deepEqual(await db('persons').select('full_name', 'age').orderBy('id'), [{ full_name: 'ann', age: '30' }, { full_name: 'bob', age: '40' }]);
      assert.equal(await db.schema.hasColumn('persons', 'old'), false);
    });
  });
}

test('sqlite: a database file locked by another connection waits, then fails with SQLITE_BUSY', async () => {
  await withDb('sqlite', async (db, file) => {
    await db.schema.createTable('t', (t) => t.integer('n'));
    const { DatabaseSync } = await import('node:sqlite');
    const other = new DatabaseSync(file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      await assert.rejects(db('t').insert({ n: 1 }), (err: Error & { code?: string }) => err.code === 'SQLITE_BUSY' && /SQLITE_BUSY: database is locked/.test(err.message));
      assert.ok(Date.now() - started >= 4500, 'waited for the busy timeout');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});

test('a setting naming a SQLite driver the project lacks fails, naming the package and the fix', () => {
  const ws = tempWorkspace();
  for (const client of ['sqlite3', 'better-sqlite3'] as const) {
    const t = databaseTarget(ws, { ...DEFAULT_SETTINGS, client });
    assert.equal(t.label, `${client} ${path.join(ws, '.migrations', 'dev.sqlite3')}`);
    assert.throws(() => openDatabase(t, 'write'), (err: Error) =>
      err instanceof ConfigError && err.message.includes(`"${client}" is not installed in ${ws}`) && err.message.includes(`npm install ${client}`) && err.message.includes('"sqlite"'));
  }
  assert.equal(databaseTarget(ws, DEFAULT_SETTINGS).client, 'sqlite');
});
