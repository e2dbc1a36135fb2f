// Where the schema snapshot lands, that one database's snapshot never silently replaces another's,
// and that a snapshot rewritten from the tables that changed is byte for byte a full dump.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { SQLITE_CATALOG } from '../src/core/database/dialects/sqlite';
import { introspect } from '../src/core/database/introspect';
import { shortHash } from '../src/core/model/checksum';
import { dumpSchema } from '../src/core/model/schemaDiff';
import { dumpForFile } from '../src/core/verify/schemaDump';
import { cli, engine, migrationFiles, sqliteKnex, tempWorkspace, tsMigration } from './helpers';

test('with two sources the snapshot of the whole database is the workspace root\'s schema.sql, naming its database; not the first source\'s folder', () => {
  const ws = tempWorkspace({
    'plugins/billing/versions/migration_001_invoices.ts': tsMigration(1, 'invoices'),
    'versions/migration_001_users.ts': tsMigration(1, 'users'),
  });
  const up = cli(['up'], { cwd: ws });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(fs.existsSync(path.join(ws, 'plugins', 'billing', 'schema.sql')), false);
  const text = fs.readFileSync(path.join(ws, 'schema.sql'), 'utf8');
  assert.match(text, /^-- Schema dumped by Migration Manager \(SQLite\)\. .*\n-- Database: sqlite \.migrations\/dev\.sqlite3\n\nCREATE TABLE invoices/);
  const again = cli(['schema'], { cwd: ws });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /-- Unchanged: schema\.sql$/m);
});

test('another database\'s schema is not written over the snapshot: schema refuses and says what to do, a run warns and leaves it', () => {
  const ws = tempWorkspace({ 'versions/migration_001_users.ts': tsMigration(1, 'users') });
  assert.equal(cli(['up'], { cwd: ws }).code, 0);
  const file = path.join(ws, 'schema.sql');
  const before = fs.readFileSync(file, 'utf8');
  const other = ['--db', 'other.sqlite3'];
  const refused = cli(['schema', ...other], { cwd: ws });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /schema\.sql is the schema snapshot of sqlite \.migrations\/dev\.sqlite3, not of sqlite other\.sqlite3: it was not replaced\. Set migrations\.schemaFile to a file for this database .*, or delete schema\.sql to start it over\./);
  const run = cli(['up', ...other], { cwd: ws });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /The schema snapshot .*schema\.sql was not written: .*not of sqlite other\.sqlite3/);
  assert.equal(fs.readFileSync(file, 'utf8'), before, 'the first database\'s snapshot is intact');
});

/** A full dump of the database, as `migrations schema` makes it (every table read). */
async function fullDump(db: Knex, database: string): Promise<string> {
  return dumpSchema(await introspect(db, SQLITE_CATALOG), 'SQLite', database);
}

/** What dumpForFile read: whether it read the whole schema, and which tables it read one by one. */
function watchReads(db: Knex): { whole: () => number; tables: () => string[]; stop: () => void } {
  const seen: { sql: string; bindings: unknown[] }[] = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  db.on('query', listener);
  return {
    whole: () => seen.filter((q) => /from sqlite_master m join pragma_table_info/.test(q.sql)).length,
    tables: () => [...new Set(seen.filter((q) => /from \(select \? as name\) m join pragma_table_info/.test(q.sql)).map((q) => String(q.bindings[0])))].sort(),
    stop: () => db.removeListener('query', listener),
  };
}

test('the snapshot after a change reads again only the tables that changed, and is byte for byte a full dump: created, altered, indexed, dropped, renamed, a referenced key changed, a change made outside', async () => {
  const ws = tempWorkspace();
  const file = path.join(ws, 'schema.sql');
  const record = path.join(tempWorkspace(), 'record.json');
  const db = sqliteKnex(path.join(ws, 'dev.sqlite3'));
  try {
    // Any text names a table, `__proto__` too.
    for (const name of ['a', 'b', 'c', 'd', 'e', '__proto__']) await db.raw(`create table "${name}" (id integer primary key, name varchar(20) not null default 'x')`);
    // A foreign key that names no column: its part shows the referenced table's primary key.
    await db.raw('create table child (id integer primary key, a_id integer references a)');
    await db.raw('create table migration_history (id integer primary key)');
    /** One dump as a run makes it, written where the next one finds it. */
    const dump = async (database = 'sqlite dev.sqlite3') => {
      const reads = watchReads(db);
      const text = await dumpForFile(db, SQLITE_CATALOG, 'SQLite', database, file, record).finally(reads.stop);
      fs.writeFileSync(file, text);
      assert.equal(text, await fullDump(db, database), 'the snapshot is what a full dump gives');
      return { whole: reads.whole(), tables: reads.tables() };
    };

    assert.deepEqual(await dump(), { whole: 1, tables: [] }, 'no record yet: the whole schema is read');
    assert.deepEqual(await dump(), { whole: 0, tables: [] }, 'nothing changed: nothing is read');
    await db.raw('create table f (id integer primary key)');
    assert.deepEqual(await dump(), { whole: 0, tables: ['f'] });
    await db.raw('alter table b add column note text');
    await db.raw('create unique index c_name on c (name)');
    assert.deepEqual(await dump(), { whole: 0, tables: ['b', 'c'] });
    await db.raw('drop table d');
    assert.deepEqual(await dump(), { whole: 0, tables: [] }, 'a dropped table is left out without reading anything');
    await db.raw('alter table e rename to e2');
    assert.deepEqual(await dump(), { whole: 0, tables: ['e2'] });
    assert.match(fs.readFileSync(file, 'utf8'), /CREATE TABLE e2 \(/);
    // The referenced table's key changes: the child's part (which shows it) is read again, with it.
    await db.raw('create table a2 (id integer, code text, primary key (id, code))');
    await db.raw('drop table a');
    await db.raw('alter table a2 rename to a');
    assert.deepEqual(await dump(), { whole: 0, tables: ['a', 'child'] });
    assert.match(fs.readFileSync(file, 'utf8'), /FOREIGN KEY \(a_id\) REFERENCES a \(id, code\)/);
    // Another database's name in the header: the parts are kept, the header is new.
    assert.deepEqual(await dump('sqlite other.sqlite3'), { whole: 0, tables: [] });
  } finally {
    await db.destroy();
  }
});

test('a snapshot file that is not the recorded dump (edited, checked out from another branch) is dumped afresh from the whole schema', async () => {
  const ws = tempWorkspace();
  const file = path.join(ws, 'schema.sql');
  const record = path.join(tempWorkspace(), 'record.json');
  const db = sqliteKnex(path.join(ws, 'dev.sqlite3'));
  try {
    for (const name of ['a', 'b']) await db.raw(`create table ${name} (id integer primary key)`);
    fs.writeFileSync(file, await dumpForFile(db, SQLITE_CATALOG, 'SQLite', 'sqlite dev.sqlite3', file, record));
    // A branch's snapshot lists a table this database does not have.
    fs.appendFileSync(file, '\nCREATE TABLE zz (\n  id integer\n);\n');
    await db.raw('create table c (id integer primary key)');
    const reads = watchReads(db);
    const text = await dumpForFile(db, SQLITE_CATALOG, 'SQLite', 'sqlite dev.sqlite3', file, record).finally(reads.stop);
    assert.equal(reads.whole(), 1);
    assert.equal(text, await fullDump(db, 'sqlite dev.sqlite3'));
    assert.doesNotMatch(text, /zz/);
  } finally {
    await db.destroy();
  }
});

test('runs that create, rename and drop one table of many leave schema.sql byte for byte what `schema` dumps afresh, and so do their rollbacks', async () => {
  const ws = tempWorkspace({
    ...migrationFiles([1, 2, 3, 4, 5, 6]),
    'versions/migration_007_rename_t3.ts': tsMigration(7, 't3', { up: "await knex.schema.renameTable('t3', 't3b');", down: "await knex.schema.renameTable('t3b', 't3');" }),
    'versions/migration_008_drop_t2.ts': tsMigration(8, 't2', { up: "await knex.schema.dropTable('t2');", down: "await knex.schema.createTable('t2', (t) => { t.increments('id'); });" }),
  });
  const env = { XDG_CACHE_HOME: tempWorkspace() };
  const file = path.join(ws, 'schema.sql');
  const fresh = async () => {
    const e = engine(ws);
    try {
      return (await e.schema()).text;
    } finally {
      await e.close();
    }
  };
  for (const args of [['up', '--to', '5'], ['up', '--to', '6'], ['up', '--to', '7'], ['up'], ['down'], ['down']]) {
    const run = cli(args, { cwd: ws, env });
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(fs.readFileSync(file, 'utf8'), await fresh(), `after ${args.join(' ')}`);
  }
  // The runs kept their record beside the workspace's other cached results, not in the workspace.
  assert.ok(fs.existsSync(path.join(env.XDG_CACHE_HOME, 'migration-manager', `${shortHash(ws)}.schema.json`)));
  assert.deepEqual(fs.readdirSync(ws).sort(), ['.migrations', 'schema.sql', 'versions']);
});
