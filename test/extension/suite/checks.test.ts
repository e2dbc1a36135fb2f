import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { DriftReport, VerifyReport } from '../../../src/core';
// The tree as compiled beside this suite: the same code as the bundle's, in this host.
import { MigrationsTree, type Node } from '../../../src/extension/tree';
import { api, dbFile, folder, tables, waitFor, workspacePath, migrationSource } from './helpers';

const file = migrationSource;

// Verify, Lint and Check Drift from the editor: results on the tree items, lint findings as
// diagnostics, drift and the live schema as nodes of the Migrations view.
suite('Checks on a shadow database', () => {
  const irreversible = workspacePath('versions', 'migration_050_leaves_a_table.ts');
  const noDown = workspacePath('versions', 'migration_051_no_down.ts');
  const sum = workspacePath('versions', 'migrations.sum');
  suiteTeardown(async () => {
    for (const f of [irreversible, noDown, sum]) fs.rmSync(f, { force: true });
    // The next suite starts from the sample's own files: wait until the model has let these go.
    const { model } = await api();
    await model.refresh();
    await waitFor('migrations 50 and 51 gone from the model', () => !model.migrations().some((m) => m.state.version >= 50));
  });

  const nodeOf = async (version: number): Promise<Node> => {
    const { model } = await api();
    const state = await waitFor(`migration ${version} in the model`, () => model.migrations().find((m) => m.state.version === version)?.state);
    return { kind: 'migration', folder: folder(), state, last: false };
  };

  test('Verify on a tree item names what down() leaves, and the item shows it', async () => {
    const { model } = await api();
    fs.writeFileSync(irreversible, file(50, 'Leaves a table', "await knex.schema.createTable('verify_left', (t) => t.increments('id'));", ''));
    const node = await nodeOf(50);
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.verify', node);
    assert.deepEqual(report.migrations.map((m) => [m.version, m.outcome, m.problems]), [[50, 'irreversible', ['down() leaves table verify_left']]]);
    assert.equal(report.shadow, 'a SQLite database in memory');
    const tree = new MigrationsTree(model);
    try {
      const item = tree.getTreeItem(await nodeOf(50));
      assert.equal(item.description, 'pending · irreversible');
      assert.match((item.tooltip as vscode.MarkdownString).value, /down\\\(\\\) leaves table verify\\_left/);
    } finally {
      tree.dispose();
    }
    assert.equal((await tables(dbFile())).includes('verify_left'), false, 'the real database is untouched');
  });

  test('Lint puts its findings on the file, on the line of up()', async () => {
    fs.writeFileSync(noDown, file(51, 'No down', "await knex.schema.createTable('no_down', (t) => t.increments('id'));", null));
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.lint', await nodeOf(51));
    assert.deepEqual(report.migrations.at(-1)?.lint.map((f) => f.code), ['no-down']);
    const diagnostics = await waitFor('the lint diagnostic', () => vscode.languages.getDiagnostics(vscode.Uri.file(noDown)).filter((d) => d.source === 'migrations lint'));
    assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start.line, d.severity]), [['no-down', 4, vscode.DiagnosticSeverity.Warning]]);
  });

  test('Check Drift shows a table made by hand as a node of the view; the Schema node lists the live tables', async () => {
    const { model } = await api();
    const db = new DatabaseSync(dbFile());
    db.exec('create table hand_made (id integer)');
    db.close();
    try {
      const report = await vscode.commands.executeCommand<DriftReport>('migrations.checkDrift');
      assert.ok(report.changes.some((c) => c.summary === 'exists only in the database: table hand_made'), JSON.stringify(report.changes));
      const tree = new MigrationsTree(model);
      try {
        const top = await tree.getChildren();
        const drift = top.find((n) => n.kind === 'drift')!;
        assert.match(String(tree.getTreeItem(drift).label), /^Drift: (1 difference|\d+ differences)$/);
        assert.ok((await tree.getChildren(drift)).some((n) => n.kind === 'difference' && n.text === 'exists only in the database: table hand_made'));
        const schema = top.find((n) => n.kind === 'schema')!;
        const tables = (await tree.getChildren(schema)).flatMap((n) => (n.kind === 'table' ? [n.table.name] : []));
        assert.ok(tables.includes('hand_made') && tables.includes('migration_history') === false, tables.join());
        const columns = await tree.getChildren((await tree.getChildren(schema)).find((n) => n.kind === 'table' && n.table.name === 'hand_made'));
        assert.deepEqual(columns.map((n) => (n.kind === 'column' ? n.text : n.kind)), ['id  integer']);
      } finally {
        tree.dispose();
      }
    } finally {
      const again = new DatabaseSync(dbFile());
      again.exec('drop table hand_made');
      again.close();
    }
  });

  test('Rehash writes migrations.sum; a file edited behind its back gets a diagnostic until the next rehash', async () => {
    const { model } = await api();
    await vscode.commands.executeCommand('migrations.rehash');
    assert.match(fs.readFileSync(sum, 'utf8'), /^h1:\S+\nmigration_001_/);
    fs.appendFileSync(irreversible, '// edited\n');
    await model.refresh();
    const edited = await waitFor('the sum-edited diagnostic', () => vscode.languages.getDiagnostics(vscode.Uri.file(irreversible)).find((d) => d.code === 'sum-edited'));
    // An error: a migration file that differs from migrations.sum blocks runs until the sum is updated.
    assert.equal(edited.severity, vscode.DiagnosticSeverity.Error);
    await vscode.commands.executeCommand('migrations.rehash');
    await waitFor('the diagnostic gone', () => !vscode.languages.getDiagnostics(vscode.Uri.file(irreversible)).some((d) => d.code === 'sum-edited'));
  });
});
