import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCommonJs, type MigrationState } from '../core';
import { VERIFY_SOURCE } from './checks';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import type { MigrationsModel } from './model';
import { sumFollows } from './sum';

const CLASS_RE = /^\s*(?:export\s+(?:default\s+)?)?class\s+([A-Za-z_$][\w$]*)/m;
const MIGRATION_FILES: vscode.DocumentSelector = { scheme: 'file', pattern: '**/versions/migration_*' };

/** Quick fix "Add getMigration()" returning the file's migration class. */
class AddGetMigration implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const diagnostic = context.diagnostics.find((d) => d.source === DIAGNOSTIC_SOURCE && d.code === 'missing-get-migration');
    const className = CLASS_RE.exec(doc.getText())?.[1];
    if (!diagnostic || !className) return [];
    const action = new vscode.CodeAction('Add getMigration()', vscode.CodeActionKind.QuickFix);
    action.diagnostics = [diagnostic];
    action.isPreferred = true;
    action.edit = new vscode.WorkspaceEdit();
    const end = doc.lineAt(doc.lineCount - 1).range.end;
    const lead = doc.lineAt(doc.lineCount - 1).text.trim() === '' ? '' : '\n';
    action.edit.insert(doc.uri, end, lead + getMigrationSource(doc, className));
    return [action];
  }
}

/** ES module syntax for TS and ESM files, `exports.` for CommonJS ones. */
export function getMigrationSource(doc: vscode.TextDocument, className: string): string {
  return isCommonJs(doc.fileName, doc.getText())
    ? `\nexports.getMigration = () => ${className};\n`
    : `\nexport function getMigration() {\n  return ${className};\n}\n`;
}

/**
 * "Update migrations.sum" on a file added without the sum (`sum-added`) or a migration not applied
 * yet edited behind it (`sum-edited`): Rehash of its source. Not on an applied migration edited:
 * there the fix is to restore the file, or add a new migration.
 */
class UpdateSum implements vscode.CodeActionProvider {
  constructor(private readonly model: MigrationsModel) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const diagnostic = context.diagnostics.find((d) => d.source === DIAGNOSTIC_SOURCE && (d.code === 'sum-added' || d.code === 'sum-edited'));
    const hit = this.model.migrations().find((m) => m.state.path === doc.uri.fsPath);
    if (!diagnostic || !hit || !sumFollows(hit.state)) return [];
    const action = new vscode.CodeAction('Update migrations.sum', vscode.CodeActionKind.QuickFix);
    action.diagnostics = [diagnostic];
    action.isPreferred = true;
    const source = { kind: 'source', folder: hit.folder, id: hit.state.source, dir: path.dirname(doc.uri.fsPath) };
    action.command = { command: 'migrations.rehash', title: 'Update migrations.sum', arguments: [source] };
    return [action];
  }
}

/** "Verify Again" on a Verify finding: the new result replaces it (its diagnostic goes when it is fixed). */
class VerifyAgain implements vscode.CodeActionProvider {
  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const found = context.diagnostics.filter((d) => d.source === VERIFY_SOURCE);
    if (found.length === 0 || !vscode.workspace.isTrusted) return [];
    const action = new vscode.CodeAction('Verify Again', vscode.CodeActionKind.QuickFix);
    action.diagnostics = found;
    action.command = { command: 'migrations.verify', title: 'Verify Again', arguments: [doc.uri] };
    return [action];
  }
}

/**
 * "Apply" / "Roll back" above the migration class, as its state allows (trusted workspaces only):
 * the same states as the tree item's inline actions; none on an invalid file or one the model does
 * not know yet.
 */
class MigrationLenses implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly model: MigrationsModel) {
    this.onDidChangeCodeLenses = model.onDidChange;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted) return [];
    const state = this.model.migrations().find((m) => m.state.path === doc.uri.fsPath)?.state;
    const m = CLASS_RE.exec(doc.getText());
    if (!m || !state) return [];
    const line = doc.positionAt(m.index + m[0].length).line;
    const range = new vscode.Range(line, 0, line, 0);
    return [
      ...(APPLY_FROM.includes(state.status) ? [new vscode.CodeLens(range, { title: '$(play) Apply', command: 'migrations.applyTo', arguments: [doc.uri] })] : []),
      ...(ROLL_BACK_FROM.includes(state.status) ? [new vscode.CodeLens(range, { title: '$(debug-step-back) Roll back', command: 'migrations.rollbackToHere', arguments: [doc.uri, { including: true }] })] : []),
    ];
  }
}

/** As package.json's `when` of the items' Apply Up to Here and Roll Back to Here. */
const APPLY_FROM: readonly MigrationState['status'][] = ['pending', 'out-of-order', 'failed'];
const ROLL_BACK_FROM: readonly MigrationState['status'][] = ['applied', 'modified'];

export function registerCodeActions(model: MigrationsModel): vscode.Disposable[] {
  const quickFix = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };
  return [
    vscode.languages.registerCodeActionsProvider(MIGRATION_FILES, new AddGetMigration(), { providedCodeActionKinds: AddGetMigration.kinds }),
    vscode.languages.registerCodeActionsProvider(MIGRATION_FILES, new UpdateSum(model), quickFix),
    vscode.languages.registerCodeActionsProvider(MIGRATION_FILES, new VerifyAgain(), quickFix),
    vscode.languages.registerCodeLensProvider(MIGRATION_FILES, new MigrationLenses(model)),
  ];
}
