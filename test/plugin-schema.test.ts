// A plugin's declared schema brought to the declared state at start-up (registerPluginSchema): on
// SQLite, PostgreSQL and MariaDB, through the orchestrator an app runs, recorded in the history
// under the plugin's name with the schema's version and the SQL it ran. Refused and lint-stopped
// changes leave the tables and the history as they were.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Knex } from 'knex';
import {
  createMigrator, createOrchestrator, defineSchema, increments, integer, string, text,
  type HistoryRow, type Migrator, type MigratorOptions, type Settings,
} from '../src/lib';
import { schemaVersion } from '../src/core/database/generate/declaredSchema';
import { TableLock } from '../src/core/database/tableLock';
import { silentLogger } from '../src/core/model/types';
import { migrationFiles, sqliteKnex, tempWorkspace } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

const open: { close(): Promise<void> }[] = [];
after(() => Promise.all(open.map((o) => o.close())));

const docs = (extra: Record<string, ReturnType<typeof string>> = {}, title = string(100).notNullable()) => defineSchema({
  tables: {
    search_docs: { columns: { id: increments(), title, body: text(), ...extra }, indexes: [{ columns: ['title'] }] },
  },
});
const V1 = docs();
const WITH_LANG = docs({ lang: string(10) });
const NARROWED = docs({}, string(50).notNullable());
const WIDENED = docs({}, string(200).notNullable());
const WITHOUT_BODY = defineSchema({ tables: { search_docs: { columns: { id: increments(), title: string(100).notNullable() }, indexes: [{ columns: ['title'] }] } } });
const WITH_RANK = defineSchema({ tables: { search_docs: { ...V1.tables.search_docs, columns: { ...V1.tables.search_docs.columns, rank: integer().notNullable() } } } });

/** One database to run on: a migrator for a workspace, and a connection to look at what it left. */
interface Place {
  readonly name: string;
  readonly generator: 'sqlite' | 'pg' | 'mysql';
  migrator(ws: string, settings?: Partial<Settings>): Migrator;
  readonly db: Knex;
  columns(table: string): Promise<string[]>;
  type(table: string, column: string): Promise<string>;
}

const PLACES: { name: string; make(): Promise<Place | string> }[] = [
  {
    name: 'SQLite',
    async make() {
      const ws = tempWorkspace();
      const file = path.join(ws, 'app.sqlite3');
      const db = sqliteKnex(file);
      open.push({ close: () => db.destroy() });
      return {
        name: 'SQLite', generator: 'sqlite', db,
        migrator: (workspace, settings) => track(createMigrator({ workspace, connection: { client: 'sqlite', connection: { filename: file } }, settings: { lockTimeoutMs: 300, ...settings } })),
        columns: async (table) => Object.keys(await db(table).columnInfo()).sort(),
        type: async (table, column) => String((await db.raw(`select type from pragma_table_info('${table}') where name = '${column}'`))[0].type).toLowerCase(),
      };
    },
  },
  ...SERVERS.map((server) => ({
    name: server.name,
    async make(): Promise<Place | string> {
      const why = await probe(server);
      if (why) return why;
      const database = await TestDatabase.create(server);
      open.push({ close: () => database.drop() });
      const connection = { client: server.client, connection: database.connection() } as MigratorOptions['connection'];
      return {
        name: server.name, generator: server.client === 'pg' ? 'pg' : 'mysql', db: database.db,
        migrator: (workspace, settings) => track(createMigrator({ workspace, connection, settings: { lockTimeoutMs: 300, ...settings } })),
        columns: (table) => database.columns(table),
        type: async (table, column) => {
          const rows = await database.db('information_schema.columns').where(server.client === 'pg' ? { table_name: table, column_name: column, table_schema: 'public' } : { table_name: table, column_name: column, table_schema: database.name })
            .select(database.db.raw(server.client === 'pg' ? "data_type || coalesce('(' || character_maximum_length || ')', '') as t" : 'column_type as t'));
          return String(rows[0].t).replace('character varying', 'varchar');
        },
      } satisfies Place;
    },
  })),
];

function track(m: Migrator): Migrator {
  open.push(m);
  return m;
}

/** A start-up: the orchestrator with the plugin schemas registered on a fresh migrator. */
async function startUp(place: Place, ws: string, plugins: { name: string; schema: ReturnType<typeof defineSchema>; priority?: number; allowDestructive?: boolean }[], settings?: Partial<Settings>) {
  const migrator = place.migrator(ws, settings);
  for (const p of plugins) migrator.registerPluginSchema(p.name, p.schema, { priority: p.priority, allowDestructive: p.allowDestructive });
  const report = await createOrchestrator(migrator).runAll();
  return { report, migrator, rows: await migrator.history() };
}

const pluginRows = (rows: readonly HistoryRow[], plugin = 'search') => rows.filter((r) => r.source === plugin);
const rowText = (r: HistoryRow) => `${r.version} ${r.direction} ${r.success ? 'ok' : 'failed'}${r.manual ? ' manual' : ''}${r.partial ? ' partial' : ''}`;

for (const spec of PLACES) {
  describe(`plugin schemas at start-up on ${spec.name}`, () => {
    let place: Place;
    let skip: string | undefined;
    const setUp = async () => {
      const made = await spec.make();
      if (typeof made === 'string') skip = made;
      else place = made;
    };

    test('the first start-up creates the tables and records one row (the schema\'s version, the SQL it ran); the next does nothing', async (t) => {
      await setUp();
      if (skip) return t.skip(skip);
      const ws = tempWorkspace();
      const migrator = place.migrator(ws);
      migrator.registerPluginSchema('search', V1);
      assert.equal(await migrator.hasPluginMigrations('search'), true);
      const first = await createOrchestrator(migrator).runAll();
      assert.equal(first.ok, true, JSON.stringify(first));
      const version = schemaVersion(V1);
      assert.ok(Number.isSafeInteger(version) && version >= 1 && version <= 0xfffffff);
      assert.deepEqual(first.services.map((s) => [s.service, s.steps.map((st) => st.version)]), [['database', []], ['search', [version]]]);
      assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'title']);
      const rows = pluginRows(await migrator.history());
      assert.deepEqual(rows.map(rowText), [`${version} up ok`]);
      assert.match(rows[0].statements ?? '', /^create table [`"]?search_docs[`"]?.*;$/m);
      // PostgreSQL and SQLite: create index; MySQL/MariaDB: alter table … add index.
      assert.match(rows[0].statements ?? '', /^(create index|alter table [`"]?search_docs[`"]? add index) [`"]?search_docs_title_index[`"]?.*;$/m);
      assert.match(rows[0].description, /plugin schema: added table search_docs/);
      assert.equal(await migrator.hasPluginMigrations('search'), false);

      const again = await startUp(place, ws, [{ name: 'search', schema: V1 }]);
      assert.equal(again.report.ok, true);
      assert.deepEqual(again.report.services.map((s) => s.steps.length), [0, 0]);
      assert.deepEqual(pluginRows(again.rows).map(rowText), [`${version} up ok`], 'nothing new recorded');
      await assert.rejects(again.migrator.hasPluginMigrations('other'), /no plugin schema is registered as "other"; the registered ones are search/);
    });

    test('an added column is applied additively: the rows stay, the new version is in effect, the old one superseded', async (t) => {
      if (skip) return t.skip(skip);
      const ws = tempWorkspace();
      await place.db.schema.dropTableIfExists('search_docs');
      await place.db('migration_history').delete();
      assert.equal((await startUp(place, ws, [{ name: 'search', schema: V1 }])).report.ok, true);
      await place.db('search_docs').insert({ title: 'kept', body: 'b' });
      const migrator = place.migrator(ws);
      migrator.registerPluginSchema('search', WITH_LANG);
      assert.equal(await migrator.hasPluginMigrations('search'), true);
      const { report, rows } = await startUp(place, ws, [{ name: 'search', schema: WITH_LANG }]);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'lang', 'title']);
      assert.deepEqual((await place.db('search_docs').select('title')).map((r) => r.title), ['kept']);
      const [v1, v2] = [schemaVersion(V1), schemaVersion(WITH_LANG)];
      assert.deepEqual(pluginRows(rows).map(rowText), [`${v1} up ok`, `${v1} down ok manual`, `${v2} up ok`]);
      assert.match(pluginRows(rows)[2].statements ?? '', /^alter table [`"]?search_docs[`"]? add (column )?[`"]?lang[`"]?/m);
      assert.equal(await migrator.hasPluginMigrations('search'), false);

      // Declared back as it was: applied again (destructive, so allowed), and the history stays readable.
      const back = await startUp(place, ws, [{ name: 'search', schema: V1, allowDestructive: true }]);
      assert.equal(back.report.ok, true, JSON.stringify(back.report));
      assert.deepEqual(pluginRows(back.rows).map(rowText).slice(3), [`${v2} down ok manual`, `${v1} up ok`]);
      assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'title']);
      assert.deepEqual((await back.migrator.engine.lint()).migrations, [], 'the history is not "applied twice"');
    });

    test('a dropped column or a narrowed type is refused, nothing changed, unless the plugin allows destructive changes', async (t) => {
      if (skip) return t.skip(skip);
      const ws = tempWorkspace();
      await place.db.schema.dropTableIfExists('search_docs');
      await place.db('migration_history').delete();
      assert.equal((await startUp(place, ws, [{ name: 'search', schema: V1 }])).report.ok, true);
      await place.db('search_docs').insert({ title: 'x'.repeat(80), body: 'b' });
      const before = (await place.migrator(ws).history()).length;

      const dropped = await startUp(place, ws, [{ name: 'search', schema: WITHOUT_BODY }]);
      assert.equal(dropped.report.ok, false);
      const error = (dropped.report.services[1] as { error?: string }).error ?? '';
      assert.match(error, /The schema of plugin "search" \(version \d+\) was not applied: nothing was changed\. Destructive steps are taken only when the plugin allows them/);
      assert.match(error, /dropping column search_docs\.body may lose data/);
      assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'title']);
      assert.equal(dropped.rows.length, before, 'no history row');

      const narrowed = await startUp(place, ws, [{ name: 'search', schema: NARROWED }]);
      assert.equal(narrowed.report.ok, false);
      assert.match((narrowed.report.services[1] as { error?: string }).error ?? '', /narrowing column search_docs\.title \(varchar\(100\) → varchar\(50\)\) may lose data/);
      assert.match(await place.type('search_docs', 'title'), /varchar\(100\)/);
      assert.equal(narrowed.rows.length, before);

      const allowed = await startUp(place, ws, [{ name: 'search', schema: WITHOUT_BODY, allowDestructive: true }]);
      assert.equal(allowed.report.ok, true, JSON.stringify(allowed.report));
      assert.deepEqual(await place.columns('search_docs'), ['id', 'title']);
      assert.deepEqual(pluginRows(allowed.rows).map(rowText).slice(-1), [`${schemaVersion(WITHOUT_BODY)} up ok`]);
    });

    test('a change lint calls an error stops the start-up naming the finding; nothing is applied, no row', async (t) => {
      if (skip) return t.skip(skip);
      const ws = tempWorkspace();
      await place.db.schema.dropTableIfExists('search_docs');
      await place.db('migration_history').delete();
      assert.equal((await startUp(place, ws, [{ name: 'search', schema: V1 }])).report.ok, true);
      await place.db('search_docs').insert({ title: 'has rows', body: 'b' });
      const before = (await place.migrator(ws).history()).length;

      // Widening is additive, and lint's change-column-type a warning: the project's `lint` setting makes it an error.
      const widened = await startUp(place, ws, [{ name: 'search', schema: WIDENED }], { lint: { 'change-column-type': 'error' } });
      assert.equal(widened.report.ok, false);
      assert.match((widened.report.services[1] as { error?: string }).error ?? '', /was not applied: lint calls 1 change an error; nothing was changed\.\n {2}- change-column-type: Changes the type of search_docs\.title \(varchar\(100\) → varchar\(200\)\)/);
      assert.match(await place.type('search_docs', 'title'), /varchar\(100\)/);
      assert.equal(widened.rows.length, before, 'no history row');

      // A NOT NULL column without a default on a table with rows: lint's error (SQLite's generator refuses it first).
      const rank = await startUp(place, ws, [{ name: 'search', schema: WITH_RANK }]);
      assert.equal(rank.report.ok, false);
      assert.match((rank.report.services[1] as { error?: string }).error ?? '', place.generator === 'sqlite'
        ? /SQLite cannot add the NOT NULL column search_docs\.rank without a default/
        : /- add-not-null-column: Adds search_docs\.rank as NOT NULL without a default/);
      assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'title']);
      assert.equal(rank.rows.length, before, 'no history row');
    });

    test('a statement that fails leaves nothing half-applied where DDL is transactional; on MariaDB the row lists what stayed', async (t) => {
      if (skip) return t.skip(skip);
      const ws = tempWorkspace();
      await place.db.schema.dropTableIfExists('search_docs');
      await place.db('migration_history').delete();
      assert.equal((await startUp(place, ws, [{ name: 'search', schema: V1 }])).report.ok, true);
      await place.db('search_docs').insert([{ title: 'same', body: 'a' }, { title: 'same', body: 'b' }]);
      // Adds a column, then a unique index the rows break: the column must not stay (PostgreSQL, SQLite).
      const unique = defineSchema({ tables: { search_docs: { columns: { ...WITH_LANG.tables.search_docs.columns }, indexes: [{ columns: ['title'] }, { columns: ['title'], unique: true }] } } });
      const failed = await startUp(place, ws, [{ name: 'search', schema: unique }]);
      assert.equal(failed.report.ok, false);
      const error = (failed.report.services[1] as { error?: string }).error ?? '';
      const last = pluginRows(failed.rows).at(-1)!;
      assert.equal(last.success, false);
      assert.equal(last.version, schemaVersion(unique));
      if (place.generator === 'mysql') {
        assert.match(error, /failed after changing the tables: .*MySQL\/MariaDB commits schema changes at once, so these were NOT rolled back/s);
        assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'lang', 'title']);
        assert.equal(last.partial, true);
        assert.match(last.statements ?? '', /add [`]?lang[`]?/);
        // The next start-up plans again from the tables as they are: the index only.
        await place.db('search_docs').where({ body: 'b' }).update({ title: 'other' });
        const healed = await startUp(place, ws, [{ name: 'search', schema: unique }]);
        assert.equal(healed.report.ok, true, JSON.stringify(healed.report));
        assert.doesNotMatch(pluginRows(healed.rows).at(-1)!.statements ?? '', /add [`]?lang/);
      } else {
        assert.match(error, /failed: .*Its changes were rolled back; nothing was changed\./s);
        assert.deepEqual(await place.columns('search_docs'), ['body', 'id', 'title']);
        assert.equal(last.partial, false);
        assert.equal(last.statements, undefined, 'what was rolled back is not listed as done');
      }
      // The version in effect is still the one before.
      assert.deepEqual(pluginRows(failed.rows).filter((r) => r.success).map(rowText), [`${schemaVersion(V1)} up ok`]);
    });

    test('two plugins run in their priority order, after the database, each recorded under its own name', async (t) => {
      if (skip) return t.skip(skip);
      const ws = tempWorkspace(migrationFiles([1]));
      await place.db.schema.dropTableIfExists('search_docs');
      await place.db.schema.dropTableIfExists('audit_entries');
      await place.db.schema.dropTableIfExists('t1');
      await place.db('migration_history').delete();
      const audit = defineSchema({ tables: { audit_entries: { columns: { id: increments(), what: string(200).notNullable() } } } });
      const { report, rows, migrator } = await startUp(place, ws, [{ name: 'search', schema: V1, priority: 5 }, { name: 'audit', schema: audit, priority: 10 }]);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual(report.services.map((s) => s.service), ['database', 'audit', 'search']);
      assert.deepEqual(rows.filter((r) => r.success).map((r) => r.source), ['versions', 'audit', 'search']);
      assert.deepEqual(await migrator.hasPluginMigrations('audit'), false);
      // A plugin schema's name is its own: not a source's, not another schema's.
      assert.throws(() => migrator.registerPluginSchema('versions', audit), /"versions" is the name of a migration source or service/);
      assert.throws(() => migrator.registerPluginSchema('audit', audit), /"audit" is the name of a registered plugin schema/);
    });
  });
}

test('SQLite: the lock is held while a plugin schema is applied: another holder keeps it waiting, then out', async () => {
  const ws = tempWorkspace();
  const file = path.join(ws, 'app.sqlite3');
  const holder = sqliteKnex(file);
  const lock = new TableLock(holder, { kind: 'other', timeoutMs: 1000, staleMs: 60_000 }, silentLogger);
  await lock.acquire();
  const migrator = track(createMigrator({ workspace: ws, connection: { client: 'sqlite', connection: { filename: file } }, settings: { lockTimeoutMs: 300 } }));
  migrator.registerPluginSchema('search', V1);
  try {
    const report = await createOrchestrator(migrator).runAll();
    assert.equal(report.ok, false);
    assert.match((report.services.find((s) => s.service === 'search') as { error?: string }).error ?? '', /lock/i);
    assert.equal(await holder.schema.hasTable('search_docs'), false);
  } finally {
    await lock.release();
  }
  assert.equal((await createOrchestrator(migrator).runAll()).ok, true);
  assert.equal(await holder.schema.hasTable('search_docs'), true);
  await holder.destroy();
});
