import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { plural } from './words';
import type { CheckedMigration, DriftReport, StatusReport, VerifyReport } from '../core';
import { toDiagnostic } from './diagnostics';

/** The source of Verify's findings as diagnostics (lint's are "migrations lint"). */
export const VERIFY_SOURCE = 'migrations verify';

/**
 * What a check result was computed for: the database, and the history as the model read it (what
 * is applied, what failed); a migration's result also belongs to its file's content (checksum).
 */
export interface CheckStamp {
  readonly database: string;
  readonly history: string;
  readonly checksums: ReadonlyMap<string, string | null>;
}

/** The stamp of a folder's status as read now. */
export function stampOf(database: string, report: StatusReport): CheckStamp {
  const migrations = report.sources.flatMap((s) => s.migrations);
  return {
    database,
    // A run, a rollback, Mark Applied or Forget changes this; editing a pending file does not.
    history: JSON.stringify(migrations.map((m) => [m.source, m.version, m.applied, m.appliedAt, m.lastError, m.skippedAt ?? null])),
    checksums: new Map(migrations.map((m) => [key(m), m.checksum])),
  };
}

/**
 * The last Verify, Lint and Check Drift results per folder: the tree shows them on the items, and
 * their findings are diagnostics on the migration files (lint's on the line of up(), Verify's on
 * down()'s), published from the results kept. Each result is dropped as soon as what it was
 * computed for changes (`prune`): it never outlives its file content, its database or its history
 * state, and a result dropped takes its diagnostics with it.
 */
export class CheckResults implements vscode.Disposable {
  private readonly checked = new Map<string, Map<string, { result: CheckedMigration; stamp: CheckStamp }>>();
  private readonly drifts = new Map<string, { report: DriftReport; stamp: CheckStamp }>();
  /**
   * What Verify found wrong with a down(): a fact about the file's code on that database, so it
   * outlives a run (the rollback it warns about comes after an apply), not an edit or a switch.
   */
  private readonly verdicts = new Map<string, Map<string, { result: CheckedMigration; stamp: CheckStamp }>>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('migrations-lint');
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly publishing = this.changed.event(() => this.publish());

  /** Keeps a report's results (over earlier ones of the same migrations) and shows its lint findings. */
  record(folder: vscode.WorkspaceFolder, report: VerifyReport, stamp: CheckStamp): void {
    const results = this.checked.get(folder.uri.toString()) ?? new Map<string, { result: CheckedMigration; stamp: CheckStamp }>();
    for (const m of report.migrations) {
      const known = results.get(key(m));
      // Lint and verify each find half: what one found is kept when the other runs (on the same file, database and history).
      const same = known && sameFor(known.stamp, stamp, key(m));
      results.set(key(m), { result: same && m.outcome === 'checked' ? { ...known.result, lint: m.lint } : m, stamp });
      const verdicts = this.verdicts.get(folder.uri.toString()) ?? new Map<string, { result: CheckedMigration; stamp: CheckStamp }>();
      if (m.outcome === 'irreversible' || m.outcome === 'no-down') verdicts.set(key(m), { result: m, stamp });
      else if (m.outcome === 'reversible') verdicts.delete(key(m));
      this.verdicts.set(folder.uri.toString(), verdicts);
    }
    this.checked.set(folder.uri.toString(), results);
    this.changed.fire();
  }

  recordDrift(folder: vscode.WorkspaceFolder, report: DriftReport, stamp: CheckStamp): void {
    this.drifts.set(folder.uri.toString(), { report, stamp });
    this.changed.fire();
  }

  /**
   * Drops the folder's results computed for another database, history or file content than `now`
   * (all of them when the folder cannot be read); true when any was dropped.
   */
  prune(folder: vscode.WorkspaceFolder, now: CheckStamp | undefined): boolean {
    const id = folder.uri.toString();
    let dropped = false;
    const drift = this.drifts.get(id);
    if (drift && !(now && drift.stamp.database === now.database && drift.stamp.history === now.history)) {
      this.drifts.delete(id);
      dropped = true;
    }
    for (const [k, { stamp }] of this.checked.get(id) ?? []) {
      if (now && sameFor(stamp, now, k)) continue;
      this.checked.get(id)!.delete(k);
      dropped = true;
    }
    for (const [k, { stamp }] of this.verdicts.get(id) ?? []) {
      if (!now || stamp.database !== now.database || stamp.checksums.get(k) !== now.checksums.get(k)) this.verdicts.get(id)!.delete(k);
    }
    if (dropped) this.publish();
    return dropped;
  }

  of(folder: vscode.WorkspaceFolder, source: string, version: number): CheckedMigration | undefined {
    return this.checked.get(folder.uri.toString())?.get(key({ source, version }))?.result;
  }

  /** Verify's finding that a migration's down() is irreversible or missing, while its file and the database are the same. */
  verdict(folder: vscode.WorkspaceFolder, source: string, version: number): CheckedMigration | undefined {
    return this.verdicts.get(folder.uri.toString())?.get(key({ source, version }))?.result;
  }

  drift(folder: vscode.WorkspaceFolder): DriftReport | undefined {
    return this.drifts.get(folder.uri.toString())?.report;
  }

  /** Every kept result's findings as diagnostics, and nothing for results no longer kept. */
  private publish(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const results of this.checked.values()) {
      for (const { result: m } of results.values()) {
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

/** The same database and history, and the migration's file unchanged. */
function sameFor(then: CheckStamp, now: CheckStamp, migration: string): boolean {
  return then.database === now.database && then.history === now.history && then.checksums.get(migration) === now.checksums.get(migration);
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

/**
 * One line for a notification: what was checked and how it went, what failed, and what was not
 * checked and why (a count of zero problems never stands for migrations that did not run); then the first problem.
 */
export function checkSummary(report: VerifyReport, what: 'Verify' | 'Lint'): string {
  if (report.migrations.length === 0) return `${what}: nothing pending.`;
  const ran = report.migrations.filter((m) => m.outcome !== 'failed' && m.outcome !== 'not-run');
  const failed = report.migrations.filter((m) => m.outcome === 'failed').length;
  const notRun = report.migrations.filter((m) => m.outcome === 'not-run').length;
  const sources = new Set(report.migrations.map((m) => m.source)).size;
  const name = (m: CheckedMigration) => `${sources > 1 ? `${m.source} ` : ''}${m.version} ${m.description}`;
  let text: string;
  if (what === 'Verify') {
    const counts = new Map<string, number>();
    for (const m of report.migrations) if (m.outcome !== 'not-run') counts.set(m.outcome, (counts.get(m.outcome) ?? 0) + 1);
    text = `Verify on ${report.shadow}: ${[...counts].map(([o, n]) => `${n} ${o}`).join(', ') || 'none checked'} in ${plural(ran.length + failed, 'migration')}`;
    if (notRun > 0) text += `; ${notRun} not verified (after a failed migration of the same source)`;
  } else {
    const findings = ran.flatMap((m) => m.lint);
    text = `Lint on ${report.shadow}: ${plural(findings.filter((f) => f.severity === 'error').length, 'error')}, ${plural(findings.filter((f) => f.severity === 'warning').length, 'warning')} in ${plural(ran.length, 'migration')}`;
    if (failed + notRun > 0) text += `; ${failed + notRun} not linted (${[failed > 0 ? `${failed} failed on the shadow` : '', notRun > 0 ? `${notRun} after a failed migration of the same source` : ''].filter(Boolean).join(', ')})`;
  }
  const first = report.migrations.find((m) => m.problems.length > 0);
  return `${text}.${first ? ` ${name(first)}: ${first.problems[0]}` : ''}`;
}
