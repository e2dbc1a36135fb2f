import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DB, cli, engine, migrationFiles, tempWorkspace, tsMigration, userTables } from './helpers';

test('a dry run refuses a migration with transaction = false, names it, and nothing of it runs', async () => {
  const workspace = tempWorkspace({
    ...migrationFiles([1]),
    'versions/migration_002_create_t2.ts': tsMigration(2, 't2', { transaction: false, up: "require('node:fs').writeFileSync(__dirname + '/../ran.txt', 'x'); await knex.schema.createTable('t2', (t) => t.increments('id'));" }),
  });
  await assert.rejects(engine(workspace).sql('up'), /Migration 2 \(versions\) sets transaction = false, so a dry run would really apply it: it cannot be previewed\. Preview the migrations before it \(--to 1\)/);
  assert.equal(fs.existsSync(path.join(workspace, 'ran.txt')), false, "the migration's code ran");
  assert.deepEqual(await userTables(DEFAULT_DB(workspace)), []);
  // The ones before it can be previewed.
  assert.equal((await engine(workspace).sql('up', { to: 1 })).steps.length, 1);
});

test("the preview's text says first that migration code ran and only the database work was rolled back", () => {
  const workspace = tempWorkspace(migrationFiles([1]));
  const out = cli(['sql', 'up', '--dir', workspace]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.split('\n');
  assert.match(lines[0], /^-- Dry run: each migration's code ran inside a transaction that was rolled back/);
  assert.match(lines[1], /anything the code did outside it \(files, network calls, logs\) did happen/);
  assert.ok(lines.some((l) => /^create table `t1`|^create table "t1"/.test(l)), out.stdout);
});
