import * as path from 'node:path';
import { runError, type VerifyReport, type Problem, type RunReport, type StepReport } from '../core';
import { CLI_TERMS } from './terms';

/** Plain-text renderings several commands share; `--json` bypasses all of this. */
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

/** A check (verify, lint): a line per migration, its problems and findings below it, then its `verdict`. */
export function formatCheck(report: VerifyReport, command: string, workspace: string, verdict: () => string): string {
  if (report.migrations.length === 0) return `Nothing pending to ${command}.`;
  const lines = [`Tried on ${report.shadow}:`];
  for (const m of report.migrations) {
    lines.push(`  ${m.outcome.padEnd(12)} ${m.source} ${String(m.version).padStart(3, '0')} ${m.description}`);
    for (const p of m.problems) lines.push(`      ${p}`);
    for (const f of m.lint) lines.push(`      ${f.file ? `${path.relative(workspace, f.file)}:${f.line} ` : ''}${f.severity} [${f.code}] ${f.message}`);
  }
  lines.push(verdict());
  return lines.join('\n');
}

export const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
