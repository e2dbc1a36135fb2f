import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import { api, dbFile, EXTENSION_ID, metrics, states, statuses, waitFor, workspacePath } from './helpers';

suite('Activation', () => {
  test('activates on a workspace with versions/ and returns the model', async () => {
    // workspaceContains:**/versions/migration_* activates it without any command being run.
    const ext = await waitFor('the extension to activate on its own', () => {
      const found = vscode.extensions.getExtension(EXTENSION_ID);
      return found?.isActive ? found : undefined;
    });
    assert.equal(ext.isActive, true);
    const { model } = await api();
    assert.equal(typeof model.refresh, 'function');
    assert.deepEqual(model.folders.map((f) => f.name), ['workspace']);
    // Activation to the first status the tree draws: the editor's start-up cost of this extension.
    metrics.activationToTreeMs = Math.round(await waitFor('the first status read', () => model.firstReadyMs));
  });

  test('the model lists the three sample migrations, all pending', async () => {
    const { model } = await api();
    await model.refresh();
    const byVersion = states(model);
    assert.deepEqual([...byVersion.keys()], [1, 2, 3]);
    assert.deepEqual(statuses(model), { 1: 'pending', 2: 'pending', 3: 'pending' });
    // Read statically from the `description` literal: nothing is loaded to label the tree.
    assert.deepEqual([...byVersion.values()].map((s) => s.description), ['Create chat_users and chat_messages', 'Add is_spammer flag to chat_users', 'Add JSON metadata to chat_users']);
    assert.deepEqual([...byVersion.values()].map((s) => s.path), [
      workspacePath('versions', 'migration_001_initial_schema.ts'),
      workspacePath('versions', 'migration_002_add_is_spammer_to_chat_users.ts'),
      workspacePath('versions', 'migration_003_add_metadata_to_chat_users.ts'),
    ]);
    for (const s of byVersion.values()) assert.deepEqual(s.problems, [], `problems in ${s.path}`);
    assert.equal(model.states[0].error, undefined);
  });

  test('the Migrations view opens, and reading status created no database', async () => {
    await vscode.commands.executeCommand('migrations.view.focus');
    // A read never writes: status opened nothing, so there is no SQLite file yet.
    assert.equal(fs.existsSync(dbFile()), false, `${dbFile()} exists after a refresh`);
  });
});
