import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { api, fixtureText, modelShows, states, waitFor, workspacePath } from './helpers';

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? d.code.value : d.code);
const ours = (uri: vscode.Uri, code: string) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'migrations' && codeOf(d) === code);

suite('Diagnostics and the quick fix', () => {
  const file = workspacePath('versions', 'migration_006_no_get_migration.ts');
  const uri = vscode.Uri.file(file);

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(file, { force: true });
  });

  test('a migration file without getMigration gets a missing-get-migration error', async () => {
    fs.writeFileSync(file, fixtureText('no-get-migration.ts.txt', { version: 6 }));
    // Nothing opens the file: the watcher and the model publish it.
    const [diagnostic] = await waitFor('a missing-get-migration diagnostic', () => {
      const found = ours(uri, 'missing-get-migration');
      return found.length > 0 ? found : undefined;
    });
    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostic.message, /getMigration/);
    const { model } = await api();
    assert.equal(states(model).get(6)?.status, 'invalid');
  });

  test('"Add getMigration()" adds the export and the diagnostic goes away', async () => {
    const { model } = await api();
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const [diagnostic] = ours(uri, 'missing-get-migration');
    assert.ok(diagnostic, 'the diagnostic is gone before the fix');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diagnostic.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions?.find((a) => a.title === 'Add getMigration()');
    assert.ok(fix?.edit, `no "Add getMigration()" among ${JSON.stringify(actions?.map((a) => a.title))}`);
    assert.equal(fix.isPreferred, true);
    assert.equal(await vscode.workspace.applyEdit(fix.edit), true);
    assert.match(doc.getText(), /export function getMigration\(\) \{\n {2}return AddNicknames;\n\}\n$/);
    assert.equal(await doc.save(), true);
    await waitFor('the diagnostic to go away', () => ours(uri, 'missing-get-migration').length === 0);
    await modelShows(model, '006 pending', () => states(model).get(6)?.status === 'pending');
    // The file was written outside the editor, so migrations.sum does not list it (sum-added): that is not this fix's.
    assert.deepEqual(vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'migrations' && d.severity === vscode.DiagnosticSeverity.Error && !String(d.code).startsWith('sum-')), []);
  });
});
