import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/core';
import { api, folder, query, waitFor, workspacePath } from './helpers';

// The project config is code: the editor has the runner child execute it and describe it, and
// shows what it declares exactly as the CLI does. Its own database keeps the other suites' apart.
const CONFIG = `
import * as fs from 'node:fs';
import * as path from 'node:path';
const log = (line: string) => fs.appendFileSync(path.join(__dirname, '.migrations', 'config-hooks.log'), line + '\\n');
export default {
  database: { client: 'sqlite', connection: { filename: '.migrations/project.sqlite' } },
  sources: [
    { id: 'core', dir: 'versions' },
    { id: 'seed', priority: 10, migrations: [{
      version: 1, description: 'Seed settings', up: async (knex: any) => { await knex.schema.createTable('seeded', (t: any) => t.integer('id')); },
      down: async (knex: any) => { await knex.schema.dropTable('seeded'); } }] },
  ],
  hooks: { afterMigration: (s: { source: string; version: number }) => log(s.source + ' ' + s.version) },
};
`;

suite('The project config (migrations.config.ts)', () => {
  const file = workspacePath('migrations.config.ts');
  const projectDb = workspacePath('.migrations', 'project.sqlite');
  suiteTeardown(() => fs.rmSync(file, { force: true }));

  const sourceIds = async () => {
    const { model } = await api();
    return model.states.flatMap((f) => f.report?.sources.map((s) => s.id) ?? []);
  };

  test('its sources, ids and database show in the tree as soon as it is written; Apply All runs its code source and hooks', async () => {
    const { model } = await api();
    fs.writeFileSync(file, CONFIG);
    await waitFor('the config sources in the model', async () => (await sourceIds()).join() === 'core,seed');
    const report = model.states[0].report!;
    assert.match(report.database, /project\.sqlite$/, "the config's database, over the settings'");
    assert.deepEqual(report.sources[1].migrations.map((m) => `${m.version} ${m.description} ${m.status}`), ['1 Seed settings pending']);
    const run = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.equal(run?.ok, true, JSON.stringify(run));
    const rows = await query<{ source: string; version: number }>(projectDb, 'select source, version from migration_history where success = 1 order by id');
    assert.equal(rows.at(-1)?.source, 'seed');
    assert.ok(rows.some((r) => r.source === 'core'), 'the folder ran under its declared id');
    assert.match(fs.readFileSync(workspacePath('.migrations', 'config-hooks.log'), 'utf8'), /^seed 1$/m);
    await waitFor('everything applied in the tree', () => model.states[0].report?.sources.every((s) => s.migrations.every((m) => m.status === 'applied')));
    assert.deepEqual((await model.engine(folder()).history({ source: 'seed' })).map((r) => `${r.direction} ${r.version}`), ['up 1']);
    // The config chooses the database: Select Database says so instead of writing settings it would overrule.
    const before = vscode.workspace.getConfiguration('migrations', folder().uri).inspect('database')?.workspaceFolderValue;
    assert.equal(await vscode.commands.executeCommand('migrations.selectDatabase', undefined, { client: 'sqlite', database: 'other.sqlite3' }), undefined);
    assert.equal(vscode.workspace.getConfiguration('migrations', folder().uri).inspect('database')?.workspaceFolderValue, before);
  });

  test('a config that fails to load is said in the tree, naming its file and line; removing it restores the settings', async () => {
    const { model } = await api();
    fs.writeFileSync(file, 'export default { sources: [ ;\n');
    await waitFor('the config error in the model', () => /migrations\.config\.ts:1: Syntax error/.test(model.states[0].error ?? ''));
    fs.rmSync(file);
    await waitFor('the folder source back under its path', async () => (await sourceIds()).join() === 'versions');
  });
});
