import * as vscode from 'vscode';
import { plural } from './words';
import type { CheckedMigration, DriftReport, VerifyReport } from '../core';
import { toDiagnostic } from './diagnostics';

/**
 * The last Verify, Lint and Check Drift results per folder: the tree shows them on the items, and
 * lint findings are diagnostics on the migration files (on the line of their up()).
 */
export class CheckResults implements vscode.Disposable {
  private readonly checked = new Map<string, Map<string, CheckedMigration>>();
  private readonly drifts = new Map<string, DriftReport>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('migrations-lint');
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** Keeps a report's results (over earlier ones of the same migrations) and shows its lint findings. */
  record(folder: vscode.WorkspaceFolder, report: VerifyReport): void {
    const results = this.checked.get(folder.uri.toString()) ?? new Map<string, CheckedMigration>();
    for (const m of report.migrations) {
      const known = results.get(key(m));
      // Lint and verify each find half: what one found is kept when the other runs.
      results.set(key(m), known && m.outcome === 'checked' ? { ...known, lint: m.lint } : m);
      if (m.path) this.diagnostics.set(vscode.Uri.file(m.path), m.lint.map(lintDiagnostic));
    }
    this.checked.set(folder.uri.toString(), results);
    this.changed.fire();
  }

  recordDrift(folder: vscode.WorkspaceFolder, report: DriftReport): void {
    this.drifts.set(folder.uri.toString(), report);
    this.changed.fire();
  }

  of(folder: vscode.WorkspaceFolder, source: string, version: number): CheckedMigration | undefined {
    return this.checked.get(folder.uri.toString())?.get(key({ source, version }));
  }

  drift(folder: vscode.WorkspaceFolder): DriftReport | undefined {
    return this.drifts.get(folder.uri.toString());
  }

  dispose(): void {
    this.diagnostics.dispose();
    this.changed.dispose();
  }
}

const key = (m: { source: string; version: number }) => `${m.source}\u241f${m.version}`;

/** A finding as the editor's diagnostics are made, under a source of its own (the file's other diagnostics are another collection's). */
function lintDiagnostic(f: CheckedMigration['lint'][number]): vscode.Diagnostic {
  const d = toDiagnostic({ ...f, column: 1 });
  d.source = 'migrations lint';
  return d;
}

/** One line for a notification: how many of each outcome, and the first problem. */
export function checkSummary(report: VerifyReport, what: 'Verify' | 'Lint'): string {
  if (report.migrations.length === 0) return `${what}: nothing pending.`;
  const counts = new Map<string, number>();
  for (const m of report.migrations) counts.set(m.outcome, (counts.get(m.outcome) ?? 0) + 1);
  const findings = report.migrations.flatMap((m) => m.lint);
  const first = report.migrations.find((m) => m.problems.length > 0);
  const parts = what === 'Verify' ? [...counts].map(([o, n]) => `${n} ${o}`) : [plural(findings.filter((f) => f.severity === 'error').length, 'error'), plural(findings.filter((f) => f.severity === 'warning').length, 'warning')];
  return `${what} on ${report.shadow}: ${parts.join(', ')}.${first ? ` ${first.version} ${first.description}: ${first.problems[0]}` : ''}`;
}
