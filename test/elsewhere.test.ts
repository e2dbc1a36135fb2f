import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { createMigrator, type Migrator } from '../src/lib';
import { cli, migrationFiles, tempWorkspace, userTables } from './helpers';

const migrators: Migrator[] = [];
after(() => Promise.all(migrators.map((m) => m.close())));

/** An app that applied the workspace's files, then migrations it registers in code (after them). */
async function appliedByTheApp(): Promise<{ ws: string; db: string }> {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = path.join(ws, 'app.sqlite3');
  const migrator = createMigrator({ workspace: ws, connection: { client: 'sqlite', connection: { filename: 'app.sqlite3' } }, config: false });
  migrators.push(migrator);
  await migrator.up();
  migrator.registerMigrations('app-code', [{
    version: 1, description: 'create audit',
    up: async (knex) => { await knex.schema.createTable('audit', (t) => t.increments('id')); },
    down: async (knex) => { await knex.schema.dropTable('audit'); },
  }]);
  await migrator.up();
  return { ws, db };
}

test('status lists a source the app registered in code, from the history: applied, "registered by the app in code; not loadable here"', async () => {
  const { ws, db } = await appliedByTheApp();
  const text = cli(['status', '--dir', ws, '--db', db]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Source app-code \(registered by the app in code; not loadable here\)\n.*\n\s+001\s+applied\s+create audit/);
  const json = JSON.parse(cli(['status', '--dir', ws, '--db', db, '--json']).stdout);
  const source = json.sources.find((s: { id: string }) => s.id === 'app-code');
  assert.equal(source.elsewhere, 'code');
  assert.deepEqual(source.migrations.map((m: { version: number; status: string }) => `${m.version} ${m.status}`), ['1 applied']);
});

test('down and redo refuse, naming the source, when the last migration applied cannot be loaded here; --source rolls back that source alone', async () => {
  const { ws, db } = await appliedByTheApp();
  for (const args of [['down'], ['down', '--all'], ['redo']]) {
    const out = cli([...args, '--dir', ws, '--db', db]);
    assert.equal(out.code, 2, `${args.join(' ')}: ${out.stdout}${out.stderr}`);
    assert.match(out.stderr, /Nothing was rolled back: .*migration 1 of "app-code", which is registered by the app in code and cannot be loaded here\. Roll it back from the app \(migrator\.down\(\)\), or roll back one source only \(--source versions\)/);
  }
  assert.deepEqual(await userTables(db), ['audit', 't1', 't2']);
  const one = cli(['down', '--source', 'versions', '--dir', ws, '--db', db]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(await userTables(db), ['audit', 't1']);
});
