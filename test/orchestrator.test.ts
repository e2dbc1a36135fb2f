// Migration services and the orchestrator an app's start-up runs: the database first, then what
// plugins bring (here a search index kept in a file), in one history, stopping at the first failure.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createMigrator, createOrchestrator, MigrationsError, type MigrationService, type Migrator, type ServiceDefinition } from '../src/lib';
import { migrationFiles, tempWorkspace, userTables } from './helpers';

const migrators: Migrator[] = [];
after(() => Promise.all(migrators.map((m) => m.close())));

function setUp(): { ws: string; db: string; index: string; migrator: Migrator } {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = path.join(ws, 'app.sqlite3');
  const migrator = createMigrator({ workspace: ws, connection: { client: 'sqlite', connection: { filename: 'app.sqlite3' } } });
  migrators.push(migrator);
  return { ws, db, index: path.join(ws, 'search-index.json'), migrator };
}

/** A plugin that keeps a search index in a file: no database change, so outside a transaction. */
function searchIndex(file: string, opts: { fail?: boolean; priority?: number } = {}): ServiceDefinition {
  return {
    name: 'search-index',
    priority: opts.priority,
    migrations: [
      { version: 1, description: 'create the index', transaction: false, up: async () => fs.writeFileSync(file, '[]'), down: async () => fs.rmSync(file) },
      {
        version: 2, description: 'index users', transaction: false,
        up: async () => {
          if (opts.fail) throw new Error('the index server refused');
          fs.writeFileSync(file, '["users"]');
        },
        down: async () => fs.writeFileSync(file, '[]'),
      },
    ],
  };
}

test('the database runs first, then a plugin\'s service; both recorded in one history under their own source', async () => {
  const { db, index, migrator } = setUp();
  const report = await createOrchestrator(migrator, { services: [searchIndex(index)] }).runAll();
  assert.equal(report.ok, true);
  assert.deepEqual(report.services.map((s) => [s.service, s.ok, s.steps.map((st) => st.version)]), [['database', true, [1, 2]], ['search-index', true, [1, 2]]]);
  assert.equal(fs.readFileSync(index, 'utf8'), '["users"]');
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  const rows = await migrator.history();
  assert.deepEqual(rows.map((r) => `${r.source} ${r.version} ${r.success}`), ['versions 1 true', 'versions 2 true', 'search-index 1 true', 'search-index 2 true']);
  const status = await migrator.status();
  assert.deepEqual(status.sources.map((s) => [s.id, s.migrations.map((m) => m.status)]), [['versions', ['applied', 'applied']], ['search-index', ['applied', 'applied']]]);
});

test('a failing service stops the run: the ones before it stay done, it is recorded with its error, the rest do not run', async () => {
  const { db, index, migrator } = setUp();
  let ranLater = false;
  const later: MigrationService = {
    name: 'later', priority: -1,
    hasMigrations: async () => true,
    runMigrations: async () => {
      ranLater = true;
      return { service: 'later', ok: true, steps: [] };
    },
    getMigrationHistory: async () => [],
    rollback: async () => ({ service: 'later', ok: true, steps: [] }),
  };
  const report = await createOrchestrator(migrator, { services: [searchIndex(index, { fail: true }), later] }).runAll();
  assert.equal(report.ok, false);
  assert.deepEqual(report.services.map((s) => [s.service, s.ok, 'notRun' in s]), [['database', true, false], ['search-index', false, false], ['later', false, true]]);
  assert.match((report.services[1] as { error?: string }).error ?? '', /Migration 2 \(search-index\) failed during up\(\): the index server refused/);
  assert.equal(ranLater, false);
  assert.deepEqual(await userTables(db), ['t1', 't2'], 'the database service stays applied');
  const last = (await migrator.history()).at(-1)!;
  assert.deepEqual([last.source, last.version, last.success], ['search-index', 2, false]);
  assert.match(last.error ?? '', /the index server refused/);
});

test('priorities decide the order: a plugin above the database runs before it; a service that throws is reported, not thrown', async () => {
  const { index, migrator } = setUp();
  const broken: MigrationService = {
    name: 'broken', priority: 500,
    hasMigrations: async () => true,
    runMigrations: async () => {
      throw new Error('cannot reach the API');
    },
    getMigrationHistory: async () => [],
    rollback: async () => ({ service: 'broken', ok: true, steps: [] }),
  };
  const first = createOrchestrator(migrator, { services: [searchIndex(index, { priority: 200 })] });
  assert.deepEqual(first.order.map((s) => s.name), ['search-index', 'database']);
  assert.equal((await first.runAll()).ok, true);
  assert.deepEqual((await migrator.history()).map((r) => r.source), ['search-index', 'search-index', 'versions', 'versions']);

  const report = await createOrchestrator(migrator, { services: [broken], databasePriority: 100 }).runAll();
  assert.deepEqual(report.services.map((s) => [s.service, s.ok]), [['broken', false], ['database', false]]);
  assert.match((report.services[0] as { error?: string }).error ?? '', /cannot reach the API/);
});

test('a service rolls back exactly its last applied migration; an older version is refused; hasMigrations follows', async () => {
  const { index, migrator } = setUp();
  const service = migrator.service(searchIndex(index));
  assert.equal(await service.hasMigrations(), true);
  assert.equal((await service.runMigrations()).ok, true);
  assert.equal(await service.hasMigrations(), false);
  await assert.rejects(service.rollback(1), (err: unknown) => err instanceof MigrationsError && err.code === 'usage' && /1 is not the last applied migration \(2 of search-index is\)/.test(err.message));
  assert.deepEqual((await service.rollback(2)).steps.map((s) => `${s.direction} ${s.version}`), ['down 2']);
  assert.equal(fs.readFileSync(index, 'utf8'), '[]');
  assert.deepEqual((await service.rollback()).steps.map((s) => `${s.direction} ${s.version}`), ['down 1']);
  assert.equal(fs.existsSync(index), false);
  assert.deepEqual((await service.rollback()).steps, [], 'nothing left to roll back');
  // The database service was never run: the plugin's rollbacks touched only its own source.
  assert.deepEqual((await migrator.status()).sources.find((s) => s.id === 'versions')?.migrations.map((m) => m.status), ['pending', 'pending']);
  assert.deepEqual((await service.getMigrationHistory()).map((r) => `${r.direction} ${r.version}`), ['up 1', 'up 2', 'down 2', 'down 1']);
});

/** A plugin whose migration writes into the database's table t1: it must run after the database's migrations. */
function needsT1(name: string, priority?: number): ServiceDefinition {
  return { name, priority, migrations: [{ version: 1, description: 'seed t1', up: async (knex) => { await knex('t1').insert({}); }, down: async (knex) => { await knex('t1').del(); } }] };
}

test('migrator.up() orders a service by its priority as the orchestrator does: the database first unless a priority says otherwise; down all is the reverse', async () => {
  // "aplugin" sorts before "versions": by name alone it ran first, before t1 existed.
  const { migrator } = setUp();
  migrator.service(needsT1('aplugin'));
  const report = await migrator.up();
  assert.deepEqual(report.steps.map((s) => `${s.source} ${s.version}`), ['versions 1', 'versions 2', 'aplugin 1']);
  assert.deepEqual((await migrator.status()).sources.map((s) => s.id), ['versions', 'aplugin']);
  const down = await migrator.down({ all: true });
  assert.deepEqual(down.steps.map((s) => `${s.source} ${s.version}`), ['aplugin 1', 'versions 2', 'versions 1']);

  // A priority above the database's (100) runs first, in up() as in the orchestrator.
  const early = setUp();
  const index = path.join(early.ws, 'early-index.json');
  early.migrator.service({ ...searchIndex(index), name: 'zz-early', priority: 200 });
  const orderUp = (await early.migrator.up()).steps.map((s) => s.source);
  assert.deepEqual([...new Set(orderUp)], ['zz-early', 'versions']);
});
