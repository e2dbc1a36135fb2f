import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { Created, MigrationState, RunReport, VerifyReport } from '../../../src/core';
import type { Node } from '../../../src/extension/tree';
import { api, folder, modelShows, states, waitFor, workspacePath } from './helpers';

const codeOf = (d: vscode.Diagnostic) => String(typeof d.code === 'object' ? d.code.value : d.code);
const sumCodes = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).map(codeOf).filter((c) => c.startsWith('sum-'));
// The provider answers only for a document the workbench has loaded ("Illegal argument" otherwise).
const quickFixes = async (uri: vscode.Uri, range: vscode.Range) => {
  await vscode.workspace.openTextDocument(uri);
  return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range, vscode.CodeActionKind.QuickFix.value)) ?? [];
};

const migration = (version: number, className: string, up: string, down: string) => `import type { Knex } from 'knex';

export class ${className} {
  readonly version = ${version};
  readonly description = '${className}';

  async up(knex: Knex): Promise<void> {
    ${up}
  }

  async down(knex: Knex): Promise<void> {
    ${down}
  }
}

export function getMigration() {
  return ${className};
}
`;

/** The model's state of a file, once it has one (and `check` holds). */
const stateOf = async (file: string, what: string, check: (s: MigrationState) => boolean = () => true): Promise<MigrationState> => {
  const { model } = await api();
  return waitFor(`${what} (${file})`, () => model.migrations().find((m) => m.state.path === file && check(m.state))?.state);
};

/** Rolls back `version` (and what follows) when applied, then removes the files and the sum: the next suite starts from the sample. */
async function cleanUp(version: number | undefined, files: readonly string[]): Promise<void> {
  const { model } = await api();
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  const state = version === undefined ? undefined : states(model).get(version);
  if (state?.applied && state.path) await vscode.commands.executeCommand('migrations.rollbackToHere', vscode.Uri.file(state.path), { including: true, confirmed: true });
  for (const f of [...files, workspacePath('versions', 'migrations.sum')]) fs.rmSync(f, { force: true });
  await model.refresh();
  await waitFor('the files gone from the model', () => !model.migrations().some((m) => files.includes(m.state.path ?? '')));
}

// Issue 20 item 1: the sum follows the user's own saves of a migration not applied yet; a file added
// by hand gets a one-click fix; an applied migration edited keeps its warning.
suite('A new migration starts clean (migrations.sum in the editor)', () => {
  let created: Created | undefined;
  const byHand = () => workspacePath('versions', `migration_${String((created?.version ?? 0) + 1).padStart(3, '0')}_by_hand.ts`);
  suiteTeardown(() => cleanUp(created?.version, [created?.path ?? '', byHand()].filter(Boolean)));

  test('Create Migration, edit and save its body: no sum diagnostic, and Apply runs it', async () => {
    const { model } = await api();
    created = await vscode.commands.executeCommand<Created>('migrations.create', undefined, { description: 'starts clean' });
    assert.ok(created, 'Create Migration returned nothing (see the Migrations log)');
    const file = created.path;
    assert.ok(fs.existsSync(workspacePath('versions', 'migrations.sum')), 'Create Migration wrote no migrations.sum');
    const before = await stateOf(file, 'the new migration in the model');
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.fsPath, file);
    const doc = editor.document;
    const at = doc.getText().indexOf('// e.g.');
    assert.ok(at > 0, 'the template has no body comment to replace');
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, doc.lineAt(doc.positionAt(at).line).range, "    await knex.schema.createTable('starts_clean', (t) => t.increments('id'));");
    const downAt = doc.getText().indexOf('// Undo exactly');
    edit.replace(doc.uri, doc.lineAt(doc.positionAt(downAt).line).range, "    await knex.schema.dropTable('starts_clean');");
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    assert.equal(await doc.save(), true);
    // The model has read the saved text (a new checksum): only then is "no sum problem" a finding.
    const after = await stateOf(file, 'the saved body in the model', (s) => s.checksum !== before.checksum);
    assert.deepEqual(after.problems.map((p) => p.code), [], 'the saved pending migration has problems');
    assert.deepEqual(sumCodes(doc.uri), []);
    const report = await vscode.commands.executeCommand<RunReport>('migrations.applyTo', doc.uri);
    assert.ok(report, 'Apply returned nothing (it failed: see the Migrations log)');
    await modelShows(model, `${created.version} applied`, () => states(model).get(created!.version)?.status === 'applied');
  });

  test('a file added by hand: sum-added, with the quick fix "Update migrations.sum" that clears it', async () => {
    assert.ok(created, 'the previous test created no migration');
    const file = byHand();
    const uri = vscode.Uri.file(file);
    fs.writeFileSync(file, migration(created.version + 1, 'ByHand', "await knex.schema.createTable('by_hand', (t) => t.increments('id'));", "await knex.schema.dropTable('by_hand');"));
    const diagnostic = await waitFor('the sum-added diagnostic', () => vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'sum-added'));
    const fix = (await quickFixes(uri, diagnostic.range)).find((a) => a.title === 'Update migrations.sum');
    assert.ok(fix?.command, 'no "Update migrations.sum" quick fix');
    await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
    await waitFor('the sum diagnostic gone', () => sumCodes(uri).length === 0 || undefined);
    assert.deepEqual((await stateOf(file, 'the added file')).problems.map((p) => p.code), []);
  });

  test('an applied migration edited and saved keeps its sum warning: no rehash, no quick fix', async () => {
    assert.ok(created, 'the first test created no migration');
    const sumFile = workspacePath('versions', 'migrations.sum');
    const sumBefore = fs.readFileSync(sumFile, 'utf8');
    const doc = await vscode.workspace.openTextDocument(created.path);
    const original = doc.getText();
    await vscode.window.showTextDocument(doc);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), '// edited after it was applied\n');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    assert.equal(await doc.save(), true);
    const diagnostic = await waitFor('the sum-edited diagnostic on the applied file', () => vscode.languages.getDiagnostics(doc.uri).find((d) => codeOf(d) === 'sum-edited'));
    assert.equal((await stateOf(created.path, 'the applied file as modified', (s) => s.status === 'modified')).applied, true);
    assert.equal(fs.readFileSync(sumFile, 'utf8'), sumBefore, 'migrations.sum was rewritten for an applied migration');
    assert.deepEqual((await quickFixes(doc.uri, diagnostic.range)).filter((a) => a.title === 'Update migrations.sum').length, 0);
    // Back as it was applied: the sum agrees again (and the teardown can roll it back).
    fs.writeFileSync(created.path, original);
    await waitFor('the sum-edited diagnostic gone once restored', () => sumCodes(doc.uri).length === 0 || undefined);
  });

  test('a sum a merge left with conflict markers is not rewritten by the save of a pending migration', async () => {
    const sumFile = workspacePath('versions', 'migrations.sum');
    const merged = `<<<<<<< HEAD\n${fs.readFileSync(sumFile, 'utf8')}=======\nh1:theirs\n>>>>>>> theirs\n`;
    fs.writeFileSync(sumFile, merged);
    const sumUri = vscode.Uri.file(sumFile);
    await waitFor('the sum-invalid diagnostic on migrations.sum', () => vscode.languages.getDiagnostics(sumUri).some((d) => codeOf(d) === 'sum-invalid') || undefined);
    const file = byHand();
    const before = await stateOf(file, 'the pending file added by hand');
    const doc = await vscode.workspace.openTextDocument(file);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), '// edited during the merge\n');
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    assert.equal(await doc.save(), true);
    await stateOf(file, 'the saved file in the model', (s) => s.checksum !== before.checksum);
    assert.equal(fs.readFileSync(sumFile, 'utf8'), merged, 'the save rewrote a sum with conflict markers');
    assert.ok(vscode.languages.getDiagnostics(sumUri).some((d) => codeOf(d) === 'sum-invalid'), 'the conflict is no longer shown');
  });
});

// Issue 20 item 7: Verify's findings are diagnostics on the migration's down(), like lint's on its up().
suite('Verify findings live where problems live', () => {
  const file = workspacePath('versions', 'migration_080_leaves_a_column.ts');
  const uri = vscode.Uri.file(file);
  suiteTeardown(() => cleanUp(undefined, [file]));

  test('Verify on a migration whose down() leaves a column: a diagnostic on the down() line, gone once it is reversible', async () => {
    fs.writeFileSync(file, migration(80, 'LeavesAColumn', "await knex.schema.alterTable('chat_users', (t) => t.string('nickname_080'));", '// nothing undone'));
    const state = await stateOf(file, 'migration 80 in the model');
    const node: Node = { kind: 'migration', folder: folder(), state, last: false };
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.verify', node);
    assert.deepEqual(report?.migrations.map((m) => [m.version, m.outcome, m.problems]), [[80, 'irreversible', ['down() leaves column chat_users.nickname_080']]]);
    const downLine = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => /async down\(/.test(l));
    const diagnostic = await waitFor('the verify diagnostic', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'migrations verify'));
    assert.deepEqual([codeOf(diagnostic), diagnostic.range.start.line, diagnostic.message, diagnostic.severity],
      ['irreversible', downLine, 'down() leaves column chat_users.nickname_080', vscode.DiagnosticSeverity.Warning]);
    const again = (await quickFixes(uri, diagnostic.range)).find((a) => a.title === 'Verify Again');
    assert.deepEqual(again?.command?.command, 'migrations.verify', 'no "Verify Again" quick fix');
    // Fixed: the next result replaces the finding, and its diagnostic goes.
    fs.writeFileSync(file, migration(80, 'LeavesAColumn', "await knex.schema.alterTable('chat_users', (t) => t.string('nickname_080'));", "await knex.schema.alterTable('chat_users', (t) => t.dropColumn('nickname_080'));"));
    await stateOf(file, 'the fixed file in the model', (s) => s.checksum !== state.checksum);
    const fixed = await vscode.commands.executeCommand<VerifyReport>(again.command!.command, ...(again.command!.arguments ?? []));
    assert.deepEqual(fixed?.migrations.map((m) => m.outcome), ['reversible']);
    await waitFor('the verify diagnostic gone', () => !vscode.languages.getDiagnostics(uri).some((d) => d.source === 'migrations verify'));
  });
});
