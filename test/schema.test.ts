// Schema introspection, diff and dump. The same knex-built schema is read from SQLite,
// PostgreSQL and MariaDB and must come out as the exact model each test spells out. A server
// that does not answer FAILS its tests (CI has both): a skipped schema test would hide a broken read.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Knex } from 'knex';
import type { Catalog } from '../src/core/database/catalog';
import { MYSQL_CATALOG } from '../src/core/database/dialects/mysql';
import { POSTGRES_CATALOG } from '../src/core/database/dialects/postgres';
import { SQLITE_CATALOG } from '../src/core/database/dialects/sqlite';
import { introspect } from '../src/core/database/introspect';
import type { SchemaModel, TableModel } from '../src/core/model/schema';
import { describeChanges, diffSchemas, dumpSchema } from '../src/core/model/schemaDiff';
import { sqliteKnex, tempWorkspace } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

type Kind = 'sqlite' | 'pg' | 'mysql';

/** What each database reports for the schema `build` makes: the rest is the same everywhere. */
interface Reported {
  readonly serial: string;
  readonly int: string;
  readonly bigint: string;
  readonly bool: string;
  readonly timestamp: string;
  /** knex writes `default '0'`; SQLite keeps that text, the servers store the number. */
  readonly zero: string;
  /** What a foreign key's unspecified rule reads as. */
  readonly noRule: string;
  /** MySQL/MariaDB index a foreign key's columns themselves, under the constraint's name. */
  readonly foreignKeyIndex: boolean;
}

const REPORTED: Record<Kind, Reported> = {
  sqlite: { serial: 'integer', int: 'integer', bigint: 'bigint', bool: 'boolean', timestamp: 'datetime', zero: "'0'", noRule: 'no action', foreignKeyIndex: false },
  pg: { serial: 'integer', int: 'integer', bigint: 'bigint', bool: 'boolean', timestamp: 'timestamptz', zero: '0', noRule: 'no action', foreignKeyIndex: false },
  mysql: { serial: 'int(10) unsigned', int: 'int(11)', bigint: 'bigint(20)', bool: 'tinyint(1)', timestamp: 'timestamp', zero: '0', noRule: 'restrict', foreignKeyIndex: true },
};

/** Two tables with every kind of thing the model holds, beside the tool's and knex's bookkeeping tables. */
async function build(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email').notNullable();
    t.integer('score').notNullable().defaultTo(0);
    t.string('status').defaultTo('open');
    t.boolean('active');
    t.timestamp('created_at', { useTz: true });
    t.string('bio', 100);
    t.unique(['email']);
    t.index(['active', 'score']);
  });
  await db.schema.createTable('posts', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable();
    t.foreign('user_id').references('users.id').onDelete('CASCADE');
  });
  for (const name of ['migration_history', 'migration_lock', 'knex_migrations', 'knex_migrations_lock']) await db.schema.createTable(name, (t) => t.increments('id'));
}

function expectedModel(kind: Kind): SchemaModel {
  const r = REPORTED[kind];
  const posts: TableModel = {
    name: 'posts',
    columns: [
      { name: 'id', type: r.serial, nullable: false, default: null },
      { name: 'user_id', type: kind === 'mysql' ? 'int(10) unsigned' : r.int, nullable: false, default: null },
    ],
    primaryKey: ['id'],
    indexes: r.foreignKeyIndex ? [{ name: 'posts_user_id_foreign', unique: false, columns: ['user_id'] }] : [],
    foreignKeys: [{ columns: ['user_id'], table: 'users', references: ['id'], onDelete: 'cascade', onUpdate: r.noRule }],
  };
  const users: TableModel = {
    name: 'users',
    columns: [
      { name: 'id', type: r.serial, nullable: false, default: null },
      { name: 'email', type: 'varchar(255)', nullable: false, default: null },
      { name: 'score', type: r.int, nullable: false, default: r.zero },
      // PostgreSQL reports 'open'::character varying, MariaDB 'open' with its quotes.
      { name: 'status', type: 'varchar(255)', nullable: true, default: "'open'" },
      { name: 'active', type: r.bool, nullable: true, default: null },
      { name: 'created_at', type: r.timestamp, nullable: true, default: null },
      { name: 'bio', type: 'varchar(100)', nullable: true, default: null },
    ],
    primaryKey: ['id'],
    indexes: [
      { name: 'users_active_score_index', unique: false, columns: ['active', 'score'] },
      { name: 'users_email_unique', unique: true, columns: ['email'] },
    ],
    foreignKeys: [],
  };
  return { tables: [posts, users] };
}

const SQLITE_DUMP = `-- Schema dumped by Migration Manager (SQLite). Do not edit: it is rewritten after every run.

CREATE TABLE posts (
  id integer NOT NULL,
  user_id integer NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE users (
  id integer NOT NULL,
  email varchar(255) NOT NULL,
  score integer NOT NULL DEFAULT '0',
  status varchar(255) DEFAULT 'open',
  active boolean,
  created_at datetime,
  bio varchar(100),
  PRIMARY KEY (id)
);
CREATE INDEX users_active_score_index ON users (active, score);
CREATE UNIQUE INDEX users_email_unique ON users (email);
`;

interface Target {
  readonly name: string;
  readonly kind: Kind;
  /** Its dialect's catalog queries. */
  readonly catalog: Catalog;
  /** A fresh, empty database of the test's own, closed (and dropped) after the suite. */
  open(): Promise<Knex>;
  close(): Promise<void>;
}

function sqliteTarget(): Target {
  const opened: Knex[] = [];
  return {
    name: 'SQLite',
    kind: 'sqlite',
    catalog: SQLITE_CATALOG,
    async open() {
      const db = sqliteKnex(path.join(tempWorkspace(), 'schema.sqlite3'));
      opened.push(db);
      return db;
    },
    close: async () => void (await Promise.all(opened.map((db) => db.destroy()))),
  };
}

function serverTarget(server: (typeof SERVERS)[number]): Target {
  const databases: TestDatabase[] = [];
  let reachable: Promise<string | undefined> | undefined;
  return {
    name: server.name,
    kind: server.client === 'pg' ? 'pg' : 'mysql',
    catalog: server.client === 'pg' ? POSTGRES_CATALOG : MYSQL_CATALOG,
    async open() {
      const why = await (reachable ??= probe(server));
      if (why) assert.fail(why);
      const database = await TestDatabase.create(server);
      databases.push(database);
      return database.db;
    },
    close: async () => void (await Promise.all(databases.map((d) => d.drop()))),
  };
}

for (const target of [sqliteTarget(), ...SERVERS.map(serverTarget)]) {
  describe(`introspect on ${target.name}`, () => {
    after(() => target.close());
    const { kind, catalog } = target;

    test('reads the knex-built schema as the exact model, without the tool\'s and knex\'s bookkeeping tables', async () => {
      const db = await target.open();
      await build(db);
      assert.deepEqual(await introspect(db, catalog), expectedModel(kind));
    });

    test('defaults read as SQL text, the same whatever cast or quoting the database adds; a default of NULL is none', async () => {
      const db = await target.open();
      await db.schema.createTable('defaults', (t) => {
        t.bigIncrements('id');
        t.bigInteger('big').defaultTo(0);
        t.integer('neg').defaultTo(-1);
        t.string('quote', 20).defaultTo("it's");
        t.timestamp('at').notNullable().defaultTo(db.fn.now());
        t.boolean('flag').notNullable().defaultTo(false);
        t.string('nul', 10).defaultTo(null);
      });
      const { columns } = (await introspect(db, catalog)).tables[0];
      const reported = {
        sqlite: [['integer', null], ['bigint', "'0'"], ['integer', "'-1'"], ['varchar(20)', "'it''s'"], ['datetime', 'CURRENT_TIMESTAMP'], ['boolean', "'0'"], ['varchar(10)', null]],
        // PostgreSQL stores '0'::bigint, '-1'::integer and 'it''s'::character varying; the sequence's nextval() is no default.
        pg: [['bigint', null], ['bigint', '0'], ['integer', '-1'], ['varchar(20)', "'it''s'"], ['timestamptz', 'CURRENT_TIMESTAMP'], ['boolean', 'false'], ['varchar(10)', null]],
        // MariaDB reports a nullable column's missing default as the text NULL.
        mysql: [['bigint(20) unsigned', null], ['bigint(20)', '0'], ['int(11)', '-1'], ['varchar(20)', "'it''s'"], ['timestamp', 'current_timestamp()'], ['tinyint(1)', '0'], ['varchar(10)', null]],
      }[kind];
      const declared = [['id', false], ['big', true], ['neg', true], ['quote', true], ['at', false], ['flag', false], ['nul', true]] as const;
      assert.deepEqual(columns, declared.map(([name, nullable], i) => ({ name, type: reported[i][0], nullable, default: reported[i][1] })));
    });

    test('opts.tables reads only the tables named; missing and bookkeeping ones are absent', async () => {
      const db = await target.open();
      await build(db);
      const [posts] = expectedModel(kind).tables;
      assert.deepEqual(await introspect(db, catalog, { tables: ['posts', 'no_such_table'] }), { tables: [posts] });
      assert.deepEqual(await introspect(db, catalog, { tables: ['migration_history', 'migration_lock'] }), { tables: [] });
      assert.deepEqual(await introspect(db, catalog, { tables: [] }), { tables: [] });
    });

    test('alter table add/drop/change column, add index and drop table read as exactly those changes', async () => {
      const db = await target.open();
      await build(db);
      const before = await introspect(db, catalog);
      await db.schema.alterTable('users', (t) => {
        t.string('nickname', 50);
      });
      await db.schema.alterTable('users', (t) => {
        t.dropColumn('bio');
      });
      // alter() redeclares the column: nullability and default must be said again to change only the type.
      await db.schema.alterTable('users', (t) => {
        t.bigInteger('score').notNullable().defaultTo(0).alter();
      });
      await db.schema.alterTable('users', (t) => {
        t.index(['nickname']);
      });
      await db.schema.dropTable('posts');
      const changes = diffSchemas(before, await introspect(db, catalog));
      assert.deepEqual(describeChanges(changes), [
        'removed table posts',
        'added column users.nickname',
        'removed column users.bio',
        `changed column users.score: type ${REPORTED[kind].int} → ${REPORTED[kind].bigint}`,
        'added index users_nickname_index on users (nickname)',
      ]);
      assert.deepEqual(changes.find((c) => c.kind === 'column-changed'), {
        kind: 'column-changed',
        table: 'users',
        name: 'score',
        detail: `type ${REPORTED[kind].int} → ${REPORTED[kind].bigint}`,
        text: `column users.score: type ${REPORTED[kind].int} → ${REPORTED[kind].bigint}`,
      });
    });

    test('two reads of one schema dump to byte-identical text', async () => {
      const db = await target.open();
      await build(db);
      const first = dumpSchema(await introspect(db, catalog), target.name);
      const second = dumpSchema(await introspect(db, catalog), target.name);
      assert.equal(second, first);
      assert.match(first, /^CREATE TABLE users \($/m);
      assert.doesNotMatch(first, /migration_|knex_/);
      if (kind === 'sqlite') assert.equal(first, SQLITE_DUMP);
    });

    if (kind === 'sqlite') {
      test('a whole-schema read costs the same few queries for 2 tables as for 22 (none per table or column)', async () => {
        const db = await target.open();
        await build(db);
        const count = async () => {
          let queries = 0;
          const onQuery = () => void queries++;
          db.on('query', onQuery);
          try {
            await introspect(db, catalog);
          } finally {
            db.off('query', onQuery);
          }
          return queries;
        };
        const few = await count();
        for (let i = 0; i < 20; i++) {
          await db.schema.createTable(`extra_${i}`, (t) => {
            t.increments('id');
            t.string('name').unique();
            t.integer('user_id').references('users.id');
          });
        }
        assert.equal(await count(), few);
        assert.ok(few <= 4, `${few} queries`);
      });
    }
  });
}

describe('diffSchemas and describeChanges', () => {
  const col = (name: string, type = 'integer', nullable = false, dflt: string | null = null) => ({ name, type, nullable, default: dflt });
  const table = (name: string, parts: Partial<TableModel> = {}): TableModel => ({ name, columns: [col('id')], primaryKey: ['id'], indexes: [], foreignKeys: [], ...parts });

  const before: SchemaModel = {
    tables: [
      table('posts', { columns: [col('id'), col('user_id')] }),
      table('t1'),
      table('users', {
        columns: [col('id'), col('org'), col('age'), col('name', 'varchar(255)', true), col('status', 'varchar(1)', false, "'a'"), col('email', 'varchar(255)')],
        indexes: [{ name: 'users_name_index', unique: false, columns: ['name'] }],
      }),
    ],
  };
  const after: SchemaModel = {
    tables: [
      table('chat_users', { columns: [col('id'), col('is_spammer', 'boolean')] }),
      table('posts', { columns: [col('id'), col('user_id')], foreignKeys: [{ columns: ['user_id'], table: 'users', references: ['id'], onDelete: 'cascade', onUpdate: 'no action' }] }),
      table('users', {
        columns: [col('id'), col('org'), col('age', 'bigint'), col('name', 'varchar(255)', false), col('status', 'varchar(1)', false, "'b'"), col('email', 'varchar(255)')],
        primaryKey: ['id', 'org'],
        indexes: [
          { name: 'users_email_unique', unique: true, columns: ['email'] },
          { name: 'users_name_index', unique: true, columns: ['name', 'org'] },
        ],
      }),
    ],
  };

  test('lists every change by table, then kind, each readable on its own', () => {
    assert.deepEqual(describeChanges(diffSchemas(before, after)), [
      'added table chat_users',
      'added foreign key posts (user_id) → users (id) on delete cascade',
      'removed table t1',
      'changed column users.age: type integer → bigint',
      'changed column users.name: nullable → not null',
      "changed column users.status: default 'a' → 'b'",
      'added index users_email_unique on users (email)',
      'changed index users_name_index on users: not unique → unique, (name) → (name, org)',
      'changed primary key of users: (id) → (id, org)',
    ]);
  });

  test('the way back names the opposite changes, and a column change says all that differs at once', () => {
    const back = diffSchemas(after, before);
    assert.deepEqual(back.map((c) => c.text), [
      'table chat_users',
      'foreign key posts (user_id) → users (id) on delete cascade',
      'table t1',
      'column users.age: type bigint → integer',
      'column users.name: not null → nullable',
      "column users.status: default 'b' → 'a'",
      'index users_email_unique on users (email)',
      'index users_name_index on users: unique → not unique, (name, org) → (name)',
      'primary key of users: (id, org) → (id)',
    ]);
    assert.deepEqual(back.map((c) => c.kind), ['table-removed', 'foreign-key-removed', 'table-added', 'column-changed', 'column-changed', 'column-changed', 'index-removed', 'index-changed', 'primary-key-changed']);
    const both = diffSchemas({ tables: [table('t', { columns: [col('id'), col('n', 'integer', true)] })] }, { tables: [table('t', { columns: [col('id'), col('n', 'text', false, "'x'")] })] });
    assert.deepEqual(both, [{ kind: 'column-changed', table: 't', name: 'n', detail: "type integer → text, nullable → not null, default none → 'x'", text: "column t.n: type integer → text, nullable → not null, default none → 'x'" }]);
  });

  test('a foreign key whose rule changes is removed and added, with texts that tell them apart', () => {
    const fk = (onDelete: string) => table('posts', { columns: [col('id'), col('user_id')], foreignKeys: [{ columns: ['user_id'], table: 'users', references: ['id'], onDelete, onUpdate: 'no action' }] });
    assert.deepEqual(describeChanges(diffSchemas({ tables: [fk('no action')] }, { tables: [fk('set null')] })), [
      'added foreign key posts (user_id) → users (id) on delete set null',
      'removed foreign key posts (user_id) → users (id)',
    ]);
  });

  test('the same schemas give no changes, and the order does not depend on the input order', () => {
    assert.deepEqual(diffSchemas(after, after), []);
    const shuffled = { tables: [...after.tables].reverse().map((t) => ({ ...t, columns: [...t.columns].reverse(), indexes: [...t.indexes].reverse() })) };
    assert.deepEqual(diffSchemas(before, shuffled), diffSchemas(before, after));
  });
});

describe('dumpSchema', () => {
  test('sorts tables and indexes, quotes only names that need it, and ends with a newline', () => {
    const model: SchemaModel = {
      tables: [
        {
          name: 'Order Items',
          columns: [{ name: 'id', type: 'integer', nullable: false, default: null }, { name: 'we"ird', type: '', nullable: true, default: null }],
          primaryKey: ['id'],
          indexes: [{ name: 'z_index', unique: false, columns: ['we"ird'] }, { name: 'a_index', unique: true, columns: ['id', 'we"ird'] }],
          foreignKeys: [{ columns: ['id'], table: 'orders', references: ['id'], onDelete: 'no action', onUpdate: 'cascade' }],
        },
        { name: 'empty', columns: [], primaryKey: [], indexes: [], foreignKeys: [] },
      ],
    };
    assert.equal(dumpSchema(model, 'PostgreSQL'), `-- Schema dumped by Migration Manager (PostgreSQL). Do not edit: it is rewritten after every run.

CREATE TABLE "Order Items" (
  id integer NOT NULL,
  "we""ird",
  PRIMARY KEY (id),
  FOREIGN KEY (id) REFERENCES orders (id) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX a_index ON "Order Items" (id, "we""ird");
CREATE INDEX z_index ON "Order Items" ("we""ird");

CREATE TABLE empty ();
`);
    assert.equal(dumpSchema({ tables: [] }, 'SQLite'), '-- Schema dumped by Migration Manager (SQLite). Do not edit: it is rewritten after every run.\n');
  });
});
