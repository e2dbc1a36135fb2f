import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CheckedMigration, DriftReport, VerifyReport } from '../core';
import { toDiagnostic } from './diagnostics';

/** The source of Verify's findings as diagnostics (lint's are "migrations lint"). */
export const VERIFY_SOURCE = 'migrations verify';

/**
 * The last Verify, Lint and Check Drift results per folder: the tree shows them on the items, and
 * their findings are diagnostics on the migration files (lint's on the line of up(), Verify's on
 * down()'s), published from the results kept: a result dropped takes its diagnostics with it.
 */
export class CheckResults implements vscode.Disposable {
  private readonly checked = new Map<string, Map<string, CheckedMigration>>();
  private readonly drifts = new Map<string, DriftReport>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('migrations-lint');
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly publishing = this.changed.event(() => this.publish());

  /** Keeps a report's results (over earlier ones of the same migrations) and shows its lint findings. */
  record(folder: vscode.WorkspaceFolder, report: VerifyReport): void {
    const results = this.checked.get(folder.uri.toString()) ?? new Map<string, CheckedMigration>();
    for (const m of report.migrations) {
      const known = results.get(key(m));
      // Lint and verify each find half: what one found is kept when the other runs.
      results.set(key(m), known && m.outcome === 'checked' ? { ...known, lint: m.lint } : m);
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

  /** Every kept result's findings as diagnostics, and nothing for results no longer kept. */
  private publish(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const results of this.checked.values()) {
      for (const m of results.values()) {
        if (m.path) byFile.set(m.path, [...(byFile.get(m.path) ?? []), ...m.lint.map(lintDiagnostic), ...verifyDiagnostics(m)]);
      }
    }
    this.diagnostics.clear();
    for (const [file, diagnostics] of byFile) this.diagnostics.set(vscode.Uri.file(file), diagnostics);
  }

  dispose(): void {
    this.publishing.dispose();
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

/**
 * What Verify found, on the line of the method it is about: what down() leaves (or got wrong) on
 * down(), up() failing on up(); a missing down() on up() unless lint already says so there.
 */
function verifyDiagnostics(m: CheckedMigration): vscode.Diagnostic[] {
  if (!['irreversible', 'failed', 'no-down'].includes(m.outcome) || !m.path) return [];
  if (m.outcome === 'no-down' && m.lint.some((f) => f.code === 'no-down')) return [];
  let text = '';
  try {
    text = fs.readFileSync(m.path, 'utf8');
  } catch {
    // A file gone: its result is about to be dropped; until then the findings stay on line 1.
  }
  return m.problems.map((problem) => {
    const method = m.outcome === 'irreversible' || /^down\(\)/.test(problem) ? 'down' : 'up';
    const d = toDiagnostic({ line: lineOf(text, method), column: 1, severity: m.outcome === 'failed' ? 'error' : 'warning', code: m.outcome, message: problem });
    d.source = VERIFY_SOURCE;
    return d;
  });
}

/** The 1-based line of a migration's up() or down() (as lint finds up()), 1 when there is none. */
function lineOf(text: string, method: 'up' | 'down'): number {
  const at = new RegExp(`\\b${method}\\s*(?:\\(|=|:)`).exec(text);
  return at ? text.slice(0, at.index).split('\n').length : 1;
}

/** One line for a notification: how many of each outcome, and the first problem. */
export function checkSummary(report: VerifyReport, what: 'Verify' | 'Lint'): string {
  if (report.migrations.length === 0) return `${what}: nothing pending.`;
  const counts = new Map<string, number>();
  for (const m of report.migrations) counts.set(m.outcome, (counts.get(m.outcome) ?? 0) + 1);
  const findings = report.migrations.flatMap((m) => m.lint);
  const first = report.migrations.find((m) => m.problems.length > 0);
  const parts = what === 'Verify' ? [...counts].map(([o, n]) => `${n} ${o}`) : [`${findings.filter((f) => f.severity === 'error').length} error(s)`, `${findings.filter((f) => f.severity === 'warning').length} warning(s)`];
  return `${what} on ${report.shadow}: ${parts.join(', ')}.${first ? ` ${first.version} ${first.description}: ${first.problems[0]}` : ''}`;
}
