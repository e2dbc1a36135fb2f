import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { Created, MigrationState, RunReport, VerifyReport } from '../../../src/core';
// The tree as compiled beside this suite: the same code as the bundle's, in this host.
import { MigrationsTree, type Node } from '../../../src/extension/tree';
import { api, EXTENSION_ID, folder, lastLogLines, metrics, modelShows, states, waitFor, workspacePath } from './helpers';

const codeOf = (d: vscode.Diagnostic) => String(typeof d.code === 'object' ? d.code.value : d.code);
const sumCodes = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).map(codeOf).filter((c) => c.startsWith('sum-'));
// Both providers answer only for a document the workbench has loaded ("Illegal argument" otherwise).
const quickFixes = async (uri: vscode.Uri, range: vscode.Range) => {
  await vscode.workspace.openTextDocument(uri);
  return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range, vscode.CodeActionKind.QuickFix.value)) ?? [];
};
const lenses = async (uri: vscode.Uri) => {
  await vscode.workspace.openTextDocument(uri);
  return ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? []).map((l) => l.command?.title ?? '');
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
  if (state?.applied && state.path) {
    // "This one too" rolls back to the version before it, which need not be version - 1 (81 follows 4 here).
    const report = await vscode.commands.executeCommand<RunReport>('migrations.rollbackToHere', vscode.Uri.file(state.path), { including: true, confirmed: true });
    assert.equal(report?.ok, true, `Roll Back to Here (including ${version}) failed; the log's last lines:\n${lastLogLines()}`);
  }
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
    // The model reads the saved text (a new checksum) as soon as the file watcher fires, possibly
    // before the save's rewrite of the sum is read too: what must hold is where it settles.
    const after = await stateOf(file, 'the saved body in the model, with no problem once the sum follows', (s) => s.checksum !== before.checksum && s.problems.length === 0);
    assert.deepEqual(after.problems, []);
    await waitFor('no sum diagnostic on the saved file', () => sumCodes(doc.uri).length === 0 || undefined);
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

type MenuEntry = { command: string; when?: string; group?: string };

/** `when` of the tree's item menus as VS Code reads them, for the parts they use: view, trust, viewItem. */
function shows(when: string | undefined, contextValue: string): boolean {
  return (when ?? '').split('&&').map((c) => c.trim()).every((c) => {
    if (c === 'view == migrations.view' || c === 'isWorkspaceTrusted') return true;
    const eq = /^viewItem == (\S+)$/.exec(c);
    if (eq) return eq[1] === contextValue;
    const re = /^viewItem =~ \/(.*)\/$/.exec(c);
    if (re) return new RegExp(re[1]).test(contextValue);
    throw new Error(`a when clause this test does not read: ${c}`);
  });
}

// Issue 20 item 9: every action reachable by keyboard (the context menu, Shift+F10), rows read as
// they show, CodeLens by state.
suite('Keyboard and screen readers', () => {
  const menus = () => (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { menus: Record<string, MenuEntry[]> } }).contributes.menus['view/item/context'];
  const files: string[] = [];
  suiteTeardown(() => cleanUp(81, files));

  test('every inline action of a tree item is also in its context menu, for the same when-clause', () => {
    const entries = menus();
    const inline = entries.filter((e) => e.group?.startsWith('inline'));
    assert.ok(inline.length >= 5, 'the manifest lists fewer inline actions than expected');
    const missing = inline.filter((i) => !entries.some((e) => e.command === i.command && e.when === i.when && !e.group?.startsWith('inline')));
    assert.deepEqual(missing.map((m) => m.command), []);
    const count = (contextValue: string) => entries.filter((e) => !e.group?.startsWith('inline') && shows(e.when, contextValue)).map((e) => e.command);
    const reachable = { applied: count('migration:applied:last'), pending: count('migration:pending'), failed: count('migration:failed') };
    for (const [state, commands] of Object.entries(reachable)) metrics[`contextMenuCommands.${state}`] = commands.length;
    console.log(`context-menu commands: ${JSON.stringify(reachable)}`);
    assert.ok(reachable.applied.includes('migrations.rollbackToHere') && reachable.applied.includes('migrations.redo') && reachable.applied.includes('migrations.forget'));
    assert.ok(reachable.pending.includes('migrations.applyTo') && reachable.pending.includes('migrations.verify'));
    assert.ok(reachable.failed.includes('migrations.applyTo') && reachable.failed.includes('migrations.forget'));
  });

  test('CodeLens follows state: Apply when pending, Roll back when applied, none on an invalid file', async () => {
    const { model } = await api();
    const applied = workspacePath('versions', 'migration_081_lens_applied.ts');
    const pending = workspacePath('versions', 'migration_082_lens_pending.ts');
    const invalid = workspacePath('versions', 'migration_083_lens_invalid.ts');
    files.push(applied, pending, invalid);
    fs.writeFileSync(applied, migration(81, 'LensApplied', "await knex.schema.createTable('lens_81', (t) => t.increments('id'));", "await knex.schema.dropTable('lens_81');"));
    fs.writeFileSync(pending, migration(82, 'LensPending', "await knex.schema.createTable('lens_82', (t) => t.increments('id'));", "await knex.schema.dropTable('lens_82');"));
    fs.writeFileSync(invalid, 'export class LensInvalid {\n  readonly version = 83;\n  async up( {\n}\n');
    await stateOf(pending, 'migration 82 in the model');
    await stateOf(invalid, 'migration 83 as invalid', (s) => s.status === 'invalid');
    const report = await vscode.commands.executeCommand<RunReport>('migrations.applyTo', vscode.Uri.file(applied));
    assert.ok(report, 'Apply returned nothing (it failed: see the Migrations log)');
    await modelShows(model, '81 applied', () => states(model).get(81)?.status === 'applied');
    await waitFor('the CodeLens of 81 to follow its state', async () => JSON.stringify(await lenses(vscode.Uri.file(applied))) === JSON.stringify(['$(debug-step-back) Roll back']) || undefined);
    assert.deepEqual(await lenses(vscode.Uri.file(pending)), ['$(play) Apply']);
    assert.deepEqual(await lenses(vscode.Uri.file(invalid)), []);
  });

  test('a tree row is read out as it shows: its label and description, never a path or the tooltip', async () => {
    const { model } = await api();
    const tree = new MigrationsTree(model);
    try {
      const rows: vscode.TreeItem[] = [];
      const walk = async (node?: Node): Promise<void> => {
        for (const child of await tree.getChildren(node)) {
          if (child.kind === 'schema') continue;
          rows.push(tree.getTreeItem(child));
          await walk(child);
        }
      };
      await walk();
      const migrations = rows.filter((r) => String(r.id).startsWith('migration:'));
      assert.ok(migrations.length >= 3, `the tree shows ${migrations.length} migration rows`);
      for (const row of rows) {
        const label = typeof row.label === 'string' ? row.label : row.label?.label;
        const words = [label, ...(typeof row.description === 'string' && row.description ? row.description.split(' · ') : [])].join(', ');
        assert.equal(row.accessibilityInformation?.label, words);
        assert.doesNotMatch(words, /[\\/]versions[\\/]/, 'a path is read out');
      }
      const applied = migrations.find((r) => String(r.id).includes(':versions:81:'));
      assert.equal(applied?.accessibilityInformation?.label, '081 LensApplied, applied');
    } finally {
      tree.dispose();
    }
  });
});
