import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/core';
import { connectionDefaults, type DatabaseChoice } from '../../../src/extension/commands/selectDatabase';
import { runMessage } from '../../../src/extension/commands/shared';
import { EDITOR_TERMS } from '../../../src/extension/terms';
import { databaseShown, MigrationsTree } from '../../../src/extension/tree';
import { api, EXTENSION_ID, folder, modelShows, states, step, waitFor, workspacePath } from './helpers';

const select = (choice: DatabaseChoice) => step(`Select Database ${JSON.stringify({ ...choice, password: undefined })}`, vscode.commands.executeCommand<string>('migrations.selectDatabase', undefined, choice));

// Issue 20, item 10: the smaller things of a day's use.
suite('Smaller things', () => {
  const slow = workspacePath('versions', 'migration_070_slow_on_purpose.ts');
  suiteTeardown(async () => {
    const config = vscode.workspace.getConfiguration('migrations', folder().uri);
    for (const key of ['client', 'database', 'connection']) await config.update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    fs.rmSync(slow, { force: true });
    await vscode.commands.executeCommand('migrations.rehash');
    const { model } = await api();
    await model.refresh();
  });

  test('Select Database pre-fills the chosen server\'s port (MySQL after PostgreSQL: 3306), keeping the connection only for the same client', () => {
    const pg = { host: 'db.example', port: 5432, user: 'postgres', database: 'shop' };
    assert.deepEqual(connectionDefaults('mysql2', 'pg', pg), { host: 'db.example', port: 3306 });
    assert.deepEqual(connectionDefaults('pg', 'mysql2', { host: 'h', port: 3306, user: 'root' }), { host: 'h', port: 5432 });
    assert.deepEqual(connectionDefaults('pg', 'pg', pg), pg);
    assert.deepEqual(connectionDefaults('pg', 'sqlite', {}), { host: undefined, port: 5432 });
  });

  test('writing the settings reads the database once, from all of them: never from half (no "no PostgreSQL user name"); the view says which database', async () => {
    const { model } = await api();
    assert.equal(databaseShown(model, folder()), 'sqlite .migrations/dev.sqlite3');
    // Seen on the row itself: a view alone in its container shows no description in code-server.
    const tree = new MigrationsTree(model);
    try {
      assert.equal(tree.getTreeItem({ kind: 'source', folder: folder(), id: 'versions', dir: workspacePath('versions') }).description, 'sqlite .migrations/dev.sqlite3');
    } finally {
      tree.dispose();
    }
    const database = `mm_nosuch_${randomBytes(4).toString('hex')}`;
    const seen: string[] = [];
    const listening = model.onDidChange(() => {
      const state = model.states[0];
      if (state?.error) seen.push(state.error);
    });
    try {
      await select({ client: 'pg', connection: { host: '127.0.0.1', port: 5432, user: 'postgres', database }, password: '' });
      await waitFor(`a read of ${database}`, () => seen.length > 0 || model.states[0]?.report?.database.includes(database));
      assert.ok(seen.every((e) => e.includes(database)), `a read from half the settings: ${seen.filter((e) => !e.includes(database)).join(' | ')}`);
      assert.equal(databaseShown(model, folder()), `pg postgres@127.0.0.1:5432/${database}`);
    } finally {
      listening.dispose();
      await select({ client: 'sqlite' });
    }
    await waitFor('SQLite again', () => model.states[0]?.report?.database.startsWith('sqlite'));
  });

  test('a run cancelled mid-migration shows as cancelled in the tree, not failed', async () => {
    const { model } = await api();
    await step('Apply All Pending', vscode.commands.executeCommand('migrations.applyAll'), 60_000);
    fs.writeFileSync(slow, `export class M70 {
  readonly version = 70;
  readonly description = 'Slow on purpose';
  async up() { await new Promise((resolve) => setTimeout(resolve, 10_000)); }
  async down() {}
}
export function getMigration() { return M70; }
`);
    await vscode.commands.executeCommand('migrations.rehash');
    await modelShows(model, 'migration 70', () => states(model).has(70));
    const abort = new AbortController();
    const report: RunReport = await model.engine(folder()).up({ signal: abort.signal, events: { beforeMigration: (s) => void (s.version === 70 && setTimeout(() => abort.abort(), 500)) } });
    assert.equal(report.cancelled, true, `${JSON.stringify(report)}\n${JSON.stringify(model.migrations().filter((m) => m.state.applied).map((m) => `${m.state.source} ${m.state.version} ${m.state.status}`))}`);
    const message = runMessage('Apply all pending', report, EDITOR_TERMS);
    assert.equal(message.level, 'warning');
    assert.match(message.text, /^Apply all pending was cancelled: stopped: 070 Slow on purpose \(versions\)\. .*was cancelled during up\(\)/);
    await model.refresh();
    const state = states(model).get(70)!;
    assert.equal(state.status, 'failed');
    const tree = new MigrationsTree(model);
    try {
      const item = tree.getTreeItem({ kind: 'migration', folder: folder(), state, last: false });
      assert.equal(item.description, 'cancelled');
      const tooltip = (item.tooltip as vscode.MarkdownString).value;
      assert.match(tooltip, /— cancelled \(nothing needs fixing: run it again\)/);
      assert.doesNotMatch(tooltip, /fix the migration/);
    } finally {
      tree.dispose();
    }
  });

  test('Roll Back Last\'s icon is coloured like the other title actions (no debug icon, which VS Code colours); migrations.environment says what it does', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string; icon?: string }[]; menus: Record<string, { command: string }[]>; configuration: { properties: Record<string, { description: string }> } } };
    const titled = new Set(pkg.contributes.menus['view/title'].map((m) => m.command));
    const icons = pkg.contributes.commands.filter((c) => titled.has(c.command) && c.icon).map((c) => `${c.command} ${c.icon}`);
    assert.ok(icons.some((i) => i.startsWith('migrations.rollbackLast ')), icons.join());
    assert.deepEqual(icons.filter((i) => /\$\(debug-/.test(i)), []);
    const environment = pkg.contributes.configuration.properties['migrations.environment'].description;
    assert.match(environment, /runs only in those/);
    assert.match(environment, /tags/);
  });
});
