import * as assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import { step } from './helpers';

const previewTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'migrations-sql');

suite('Preview SQL', () => {
  test('opens a read-only SQL view (never a dirty untitled document), reused when the same target is previewed again', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const untitledBefore = vscode.workspace.textDocuments.filter((d) => d.isUntitled).length;
    for (let i = 0; i < 2; i++) await step('Preview SQL', vscode.commands.executeCommand('migrations.previewSql', undefined, { version: 1 }));
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'no editor shows the preview');
    const doc = editor.document;
    assert.equal(doc.uri.scheme, 'migrations-sql');
    assert.equal(doc.languageId, 'sql');
    assert.equal(doc.isDirty, false);
    assert.match(doc.getText(), /^-- (Dry run: each migration's code ran|Nothing to run)/);
    assert.equal(previewTabs().length, 1, `tabs: ${previewTabs().map((t) => t.label).join(', ')}`);
    assert.equal(vscode.workspace.textDocuments.filter((d) => d.isUntitled).length, untitledBefore, 'an untitled document was opened');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
