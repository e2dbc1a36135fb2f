import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/core';
import { MigrationsTree } from '../../../src/extension/tree';
import { api, folder, step, waitFor, workspacePath } from './helpers';

// Issue 20, item 6: a folder with no migrations shows the welcome (Create Migration), no Apply or
// Roll Back buttons, and the first migration created has no TypeScript error without knex.
suite('Empty folder and first run', () => {
  const config = () => vscode.workspace.getConfiguration('migrations', folder().uri);
  suiteTeardown(async () => {
    for (const key of ['versionsDir', 'database']) await config().update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    fs.rmSync(workspacePath('first'), { recursive: true, force: true });
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(workspacePath('.migrations', `first.sqlite3${suffix}`), { force: true });
    const { model } = await api();
    await waitFor('the sample folder again', () => model.migrations().some((m) => m.state.source === 'versions'));
  });

  test('no migrations: the tree is empty (welcome view), no Apply/Roll Back; the first Create Migration has no knex import; Schema says it has no tables', async () => {
    const { model } = await api();
    await config().update('database', '.migrations/first.sqlite3', vscode.ConfigurationTarget.WorkspaceFolder);
    await config().update('versionsDir', ['first/versions'], vscode.ConfigurationTarget.WorkspaceFolder);
    await waitFor('no migrations', () => model.states[0]?.report && model.migrations().length === 0);
    const tree = new MigrationsTree(model);
    try {
      assert.deepEqual(await tree.getChildren(), []);
      assert.deepEqual(model.contextKeys, { 'migrations.empty': true, 'migrations.canApply': false, 'migrations.canRollBack': false });

      const created = await step('Create Migration', vscode.commands.executeCommand<{ path: string }>('migrations.create', undefined, { description: 'first table' }));
      assert.equal(created.path, workspacePath('first', 'versions', 'migration_001_first_table.ts'));
      // The test workspace has no node_modules/knex: the template typed without it.
      assert.doesNotMatch(fs.readFileSync(created.path, 'utf8'), /^import[^\n]*'knex'/m);
      await waitFor('the new migration', () => model.migrations().length === 1);
      assert.deepEqual(model.contextKeys, { 'migrations.empty': false, 'migrations.canApply': true, 'migrations.canRollBack': false });
      const top = await tree.getChildren();
      assert.deepEqual(top.map((n) => n.kind), ['source', 'schema']);
      const schema = await tree.getChildren(top[1]);
      assert.deepEqual(schema.map((n) => (n.kind === 'note' ? n.text : n.kind)), ['No tables yet in sqlite .migrations/first.sqlite3.']);

      const report = await step('Apply All Pending', vscode.commands.executeCommand<RunReport>('migrations.applyAll'), 60_000);
      assert.equal(report.ok, true, report.error);
      await waitFor('applied', () => model.contextKeys['migrations.canRollBack']);
      assert.deepEqual(model.contextKeys, { 'migrations.empty': false, 'migrations.canApply': false, 'migrations.canRollBack': true });
    } finally {
      tree.dispose();
    }
  });
});
