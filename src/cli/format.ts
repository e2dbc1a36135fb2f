import * as path from 'node:path';
import { elsewhereLabel, historyOutcome, needsRepair, runError, type VerifyReport, type HistoryRow, type Problem, type RunReport, type ShadowsReport, type StatusReport, type StepReport, type TemporaryShadow } from '../core';
import { CLI_TERMS } from './terms';

/** Plain-text renderings for a terminal; `--json` bypasses all of this. */
export function formatStatus(report: StatusReport, workspace: string): string {
  const lines = [`Database: ${report.database}`];
  if (report.lock?.stale) lines.push(`Stale lock left by ${report.lock.holder} (pid ${report.lock.pid} on ${report.lock.host}, gone): the next run takes it over, or run "migrations unlock".`);
  else if (report.lock) lines.push(`Locked by ${report.lock.holder} (pid ${report.lock.pid} on ${report.lock.host}) since ${report.lock.acquiredAt}`);
  if (report.sources.length === 0) lines.push('No migrations found (no versions/ folder with migration_<version>_<name>.ts files).');
  for (const source of report.sources) {
    lines.push('', `Source ${source.id}${source.elsewhere ? ` (${elsewhereLabel(source.elsewhere)})` : ''}`);
    const rows = source.migrations.map((m) => [String(m.version).padStart(3, '0'), m.status, m.description, m.appliedAt ?? '']);
    lines.push(...table(['VERSION', 'STATUS', 'DESCRIPTION', 'APPLIED AT'], rows).map((l) => '  ' + l));
    // Its error says what ran, what was not rolled back and how to record the repair.
    const halfDone = source.migrations.filter(needsRepair);
    for (const m of halfDone) {
      lines.push('', `  ${(m.lastError ?? `Migration ${m.version} failed part-way.`).split('\n')[0]}`);
      lines.push(`  Once repaired, ${CLI_TERMS({ do: 'mark-applied', source: source.id, version: m.version })} (its change is in place) or ${CLI_TERMS({ do: 'forget', source: source.id, version: m.version }).replace(/^run /, '')} (it is undone).`);
    }
    const problems = [...source.problems, ...source.migrations.flatMap((m) => m.problems)];
    if (problems.length > 0) lines.push('', ...formatProblems(problems, workspace).map((l) => '  ' + l));
  }
  return lines.join('\n');
}

export function formatProblems(problems: readonly Problem[], workspace: string): string[] {
  return problems.map((p) => `${path.relative(workspace, p.file) || p.file}:${p.line}:${p.column} ${p.severity} [${p.code}] ${p.message}`);
}

export function formatRun(report: RunReport, verb: string): string {
  const done = report.steps.filter((s) => s.outcome === 'done');
  const over = report.passedOver?.length ? ` ${passedOverText(report.passedOver)}` : '';
  // A source refused whole (a folder linking out of the workspace) has no steps: its error is still said.
  if (report.steps.length === 0) return [`Nothing to ${verb}.${over}`, ...(report.ok ? [] : [runError(report, CLI_TERMS) ?? ''])].join('\n');
  const lines = report.steps.map((s) => `  ${mark(s)} ${s.direction.padEnd(4)} ${s.source} ${String(s.version).padStart(3, '0')} ${s.description}${s.durationMs !== undefined ? ` (${s.durationMs} ms)` : ''}`);
  const notRun = report.steps.filter((s) => s.outcome === 'not-run').length;
  const skipped = report.steps.filter((s) => s.outcome === 'skipped').length;
  const summary = report.ok
    ? `${done.length} migration(s) done${skipped ? `, ${skipped} skipped (not for this environment or tags)` : ''}.`
    : `${done.length} done, ${report.steps.filter((s) => s.outcome === 'failed').length} failed, ${notRun} not run.`;
  const error = runError(report, CLI_TERMS);
  return [...lines, summary + over, ...(error ? [error] : [])].join('\n');
}

function passedOverText(over: NonNullable<RunReport['passedOver']>): string {
  const them = over.length === 1 ? 'it' : 'them';
  const list = over.map((m) => `${String(m.version).padStart(3, '0')} ${m.description}${new Set(over.map((o) => o.source)).size > 1 ? ` (${m.source})` : ''}`).join(', ');
  return `Passed over ${over.length} out-of-order migration${over.length === 1 ? '' : 's'} (older than one applied): ${list}; run "migrations up --out-of-order" to apply ${them}.`;
}

function mark(s: StepReport): string {
  return s.outcome === 'done' ? 'ok  ' : s.outcome === 'failed' ? 'FAIL' : s.outcome === 'skipped' ? 'skip' : '--  ';
}

/** verify and lint: a line per migration, its problems and findings below it, then the verdict. */
export function formatCheck(report: VerifyReport, command: 'verify' | 'lint', workspace: string): string {
  if (report.migrations.length === 0) return `Nothing pending to ${command}.`;
  const lines = [`Tried on ${report.shadow}:`];
  for (const m of report.migrations) {
    lines.push(`  ${m.outcome.padEnd(12)} ${m.source} ${String(m.version).padStart(3, '0')} ${m.description}`);
    for (const p of m.problems) lines.push(`      ${p}`);
    for (const f of m.lint) lines.push(`      ${f.file ? `${path.relative(workspace, f.file)}:${f.line} ` : ''}${f.severity} [${f.code}] ${f.message}`);
  }
  lines.push(report.ok ? (command === 'verify' ? 'Every migration is reversible.' : 'No lint errors.') : checkVerdict(report, command));
  return lines.join('\n');
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The last line of a check that did not pass: what was checked, and what was not and why (no "no errors" over migrations that never ran). */
function checkVerdict(report: VerifyReport, command: 'verify' | 'lint'): string {
  const failed = report.migrations.filter((m) => m.outcome === 'failed').length;
  const notRun = report.migrations.filter((m) => m.outcome === 'not-run').length;
  const after = 'after a failed migration of the same source';
  if (command === 'verify') {
    const reversible = report.migrations.filter((m) => m.outcome === 'reversible').length;
    return `${reversible} of ${count(report.migrations.length - notRun, 'migration')} reversible${notRun > 0 ? `; ${notRun} not verified (${after})` : ''}.`;
  }
  const checked = report.migrations.filter((m) => m.outcome === 'checked');
  const errors = checked.flatMap((m) => m.lint).filter((f) => f.severity === 'error').length;
  const why = [failed > 0 ? `${failed} failed on the shadow` : '', notRun > 0 ? `${notRun} ${after}` : ''].filter(Boolean).join(', ');
  return `${errors > 0 ? count(errors, 'lint error') : 'No lint errors'} in ${count(checked.length, 'migration')}${failed + notRun > 0 ? `; ${failed + notRun} not linted (${why})` : ''}.`;
}

export function formatHistory(rows: readonly HistoryRow[]): string {
  if (rows.length === 0) return 'No history yet.';
  return table(
    ['ID', 'STARTED AT', 'SOURCE', 'VERSION', 'DIR', 'MS', 'RESULT', 'ERROR'],
    rows.map((r) => [String(r.id), r.startedAt, r.source, String(r.version), r.direction, String(r.durationMs), historyOutcome(r), (r.error ?? '').split('\n')[0]]),
  ).join('\n');
}

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `migrations shadows`: one line per temporary shadow database; with `--drop`, what became of each. */
export function formatShadows(report: ShadowsReport, drop: boolean): string {
  if (!report.server) return 'SQLite checks use a database in memory: there are no shadow databases to list.';
  if (report.shadows.length === 0) return `No temporary shadow databases on ${report.database}.`;
  if (drop) return report.shadows.map((s) => (s.dropped ? `Dropped ${s.name}.` : `Kept ${s.name}: ${s.kept}.`)).join('\n');
  const lines = report.shadows.map((s) => `  ${s.name}: ${madeBy(s)}; ${RUN[s.run]}.`);
  const droppable = report.shadows.filter((s) => s.run !== 'running').length;
  return [`Temporary shadow databases on ${report.database}:`, ...lines, ...(droppable > 0 ? [`"migrations shadows --drop" drops the ${droppable} not in use by a check running on this machine.`] : [])].join('\n');
}

function madeBy(s: TemporaryShadow): string {
  const where = s.host === 'this' ? 'on this machine' : s.host === 'other' ? 'on another machine' : '(named by an earlier version, without its machine)';
  return `made by pid ${s.pid} ${where}${s.createdAt ? ` at ${s.createdAt}` : ''}`;
}

const RUN: Record<TemporaryShadow['run'], string> = {
  running: 'that check is still running',
  gone: 'that run is gone',
  unknown: 'whether that run is still going cannot be told from here',
};
