import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkText, explain, mergeProblems, parseMigrationName, type MigrationFile, type MigrationState, type Problem } from '../core';
import { EDITOR_TERMS } from './terms';
import type { MigrationsModel } from './model';

export const DIAGNOSTIC_SOURCE = 'migrations';

/**
 * Problems as diagnostics. Static checks follow every keystroke; in a trusted workspace
 * files are also loaded (once per checksum, in the engine's child process) to catch what only
 * running `getMigration()` shows: their diagnostics follow when that load answers.
 */
export function registerDiagnostics(model: MigrationsModel, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  const loaded = new Map<string, { checksum: string; problems: readonly Problem[] }>();
  const loading = new Set<string>();
  const typing = new Map<string, NodeJS.Timeout>();

  const publish = () => {
    const byFile = new Map<string, Problem[]>();
    const add = (p: Problem) => byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
    const dirty = new Set(vscode.workspace.textDocuments.filter((d) => d.isDirty).map((d) => d.uri.fsPath));
    for (const folder of model.states) {
      const toLoad: MigrationFile[] = [];
      for (const source of folder.report?.sources ?? []) {
        source.problems.forEach(add);
        for (const m of source.migrations) {
          // The editor's unsaved text wins: onTyping keeps those diagnostics.
          if (!m.path || dirty.has(m.path)) continue;
          const cached = m.problems.some((p) => p.severity === 'error') ? [] : loadedProblems(m, toLoad);
          mergeProblems(m.problems, cached).forEach(add);
          const warning = statusProblem(m);
          if (warning) add(warning);
        }
      }
      if (toLoad.length > 0) load(folder.folder, toLoad);
    }
    collection.clear();
    for (const [file, problems] of byFile) collection.set(vscode.Uri.file(file), problems.map(toDiagnostic));
  };

  /** What loading found for this content, or nothing yet (the file joins `toLoad`). Trusted workspaces only. */
  const loadedProblems = (m: MigrationState, toLoad: MigrationFile[]): readonly Problem[] => {
    if (!vscode.workspace.isTrusted || !m.path || !m.checksum) return [];
    const cached = loaded.get(m.path);
    if (cached?.checksum === m.checksum) return cached.problems;
    if (!loading.has(`${m.path}\0${m.checksum}`)) toLoad.push({ version: m.version, name: '', path: m.path, checksum: m.checksum, problems: m.problems });
    return [];
  };

  /** Loads files in the engine's child process (never in the extension host), then publishes again. */
  const load = (folder: vscode.WorkspaceFolder, files: MigrationFile[]) => {
    const keys = files.map((f) => `${f.path}\0${f.checksum}`);
    keys.forEach((k) => loading.add(k));
    model.engine(folder).loadProblems(files).then(
      (results) => {
        files.forEach((f, i) => loaded.set(f.path, { checksum: f.checksum, problems: results[i] }));
        publish();
      },
      (err) => log.error(`Loading migration files for their diagnostics failed: ${explain(err, EDITOR_TERMS)}`),
    ).finally(() => keys.forEach((k) => loading.delete(k)));
  };

  const onTyping = (doc: vscode.TextDocument) => {
    const parsed = parseMigrationName(path.basename(doc.uri.fsPath));
    if (!parsed || path.basename(path.dirname(doc.uri.fsPath)) !== 'versions') return;
    clearTimeout(typing.get(doc.uri.toString()));
    typing.set(doc.uri.toString(), setTimeout(() => {
      const file = checkText(doc.uri.fsPath, parsed.version, parsed.name, doc.getText());
      collection.set(doc.uri, file.problems.map(toDiagnostic));
    }, 150));
  };

  return [
    collection,
    model.onDidChange(publish),
    vscode.workspace.onDidChangeTextDocument((e) => onTyping(e.document)),
    vscode.workspace.onDidSaveTextDocument(() => model.scheduleRefresh()),
    { dispose: () => typing.forEach((t) => clearTimeout(t)) },
  ];
}

/** DESIGN's two warnings that come from the history rather than the file itself. */
function statusProblem(m: MigrationState): Problem | undefined {
  if (!m.path) return undefined;
  if (m.status === 'modified') {
    return { file: m.path, line: 1, column: 1, severity: 'warning', code: 'modified',
      message: `This migration was applied ${m.appliedAt ?? ''} and its file has changed since. Restore the file, or add a new migration for the change.` };
  }
  if (m.status === 'out-of-order') {
    return { file: m.path, line: 1, column: 1, severity: 'warning', code: 'out-of-order',
      message: 'This migration sorts before the newest applied one, so "Apply All" skips it. Apply it from its item ("Apply Up to Here") or give it a newer version.' };
  }
  return undefined;
}

export function toDiagnostic(p: Pick<Problem, 'line' | 'column' | 'severity' | 'message'> & { readonly code: string }): vscode.Diagnostic {
  const line = p.line - 1;
  const range = new vscode.Range(line, p.column - 1, line, Number.MAX_SAFE_INTEGER);
  const d = new vscode.Diagnostic(range, p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  return d;
}
