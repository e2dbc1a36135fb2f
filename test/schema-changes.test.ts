// `schemaChanges`: generate's comparison without writing (the editor's CodeLens count), on real
// SQLite files: the same changes and rename questions generate reports, and nothing written.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectConfig } from '../src/core';
import { DEFAULT_DB, engine, tempWorkspace, TEMPLATES, tsMigration } from './helpers';

const users = tsMigration(1, 'users', {
  up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email', 255).notNullable(); t.string('nick', 40); });",
  down: "await knex.schema.dropTable('users');",
});

const schemaFile = (columns: string) => `import { defineSchema, increments, string, integer, text } from 'migration-manager';
export default defineSchema({ tables: { users: { columns: { id: increments(), email: string(255).notNullable(), ${columns} } } } });
`;

const CONFIG = `export default { sources: [{ id: 'app', dir: 'versions', schema: 'db/schema.ts' }], settings: { templatesDir: ${JSON.stringify(TEMPLATES)} } };\n`;

function workspace(columns: string): string {
  return tempWorkspace({ 'migrations.config.ts': CONFIG, 'versions/migration_001_users.ts': users, 'db/schema.ts': schemaFile(columns) });
}

const tree = (ws: string) => fs.readdirSync(ws, { recursive: true, encoding: 'utf8' }).sort();

test('schemaChanges counts what generate would write, asks the same rename questions, and writes nothing', async () => {
  const ws = workspace("nickname: string(40), bio: text(), score: integer().notNullable().defaultTo(0)");
  const e = engine(ws, { project: loadProjectConfig(ws) });
  try {
    const files = tree(ws);
    const report = await e.schemaChanges();
    assert.equal(report.source, 'app');
    assert.deepEqual([...report.changes].sort(), ['added column users.bio', 'added column users.nickname', 'added column users.score', 'removed column users.nick'].sort());
    assert.deepEqual(report.questions, [{ table: 'users', from: 'nick', to: 'nickname' }]);
    assert.equal(report.message, '4 changes not in migrations.');
    assert.match(report.before, /nick/);
    assert.match(report.after, /score/);
    // Read-only: no migration file, no sum, no database file.
    assert.deepEqual(tree(ws), files);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
    // generate, answered, writes exactly those changes (a rename counts as one: the drop and add become it).
    const written = await e.generate({ description: 'profile', renames: { 'users.nick': 'users.nickname' } });
    assert.ok(written.created, written.message);
    assert.match(fs.readFileSync(written.created.path, 'utf8'), /renameColumn\('nick', 'nickname'\)/);
    e.invalidate();
    const after = await e.schemaChanges();
    assert.deepEqual(after.changes, []);
    assert.deepEqual(after.questions, []);
    assert.equal(after.message, 'The schema matches the migrations.');
  } finally {
    await e.close();
  }
});

test('schemaChanges names a missing schema file and takes no description or unknown option', async () => {
  const ws = workspace('nick: string(40)');
  fs.rmSync(path.join(ws, 'db', 'schema.ts'));
  const e = engine(ws, { project: loadProjectConfig(ws) });
  try {
    await assert.rejects(e.schemaChanges(), (err: Error) => /db[/\\]schema\.ts: no such file/.test(err.message));
    await assert.rejects(e.schemaChanges({ description: 'x' } as never), /schemaChanges: unknown option description/);
  } finally {
    await e.close();
  }
});

test('schemaChanges is refused in an untrusted workspace (it executes the schema file and the migrations)', async () => {
  const ws = workspace('nick: string(40), bio: text()');
  const e = engine(ws, { untrusted: true, project: loadProjectConfig(ws) });
  try {
    await assert.rejects(e.schemaChanges(), /Comparing the declared schema with the migrations executes the workspace's code, and this workspace is not trusted/);
  } finally {
    await e.close();
  }
});
