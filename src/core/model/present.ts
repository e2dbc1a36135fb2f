import { render, type ErrorText, type Terms } from './errors';
import type { Direction, HistoryRow, MigrationState } from './types';

// What the CLI and the editor both show, computed once so they can never disagree: the
// terminal and the tree render these facts in their own words and layout.

/** Waiting to be applied: not applied, and nothing to fix first (not invalid, not half-done). */
export function isPending(state: MigrationState): boolean {
  return !state.applied && (state.status === 'pending' || state.status === 'out-of-order' || state.status === 'failed');
}

/** Left half-done (failed part-way, or interrupted): to repair by hand, then mark-applied or forget. */
export function needsRepair(state: MigrationState): boolean {
  return state.status === 'failed-partial' || state.status === 'interrupted';
}

export interface Summary {
  readonly pending: number;
  readonly invalid: number;
  /** failed-partial or interrupted: left half-done, to repair by hand before anything runs it again. */
  readonly repair: number;
  readonly total: number;
}

export function summarize(states: readonly MigrationState[]): Summary {
  return {
    pending: states.filter(isPending).length,
    invalid: states.filter((s) => s.status === 'invalid').length,
    repair: states.filter(needsRepair).length,
    total: states.length,
  };
}

/** Why a run stopped, with its advice in a front end's terms (the plain text when it carries none). */
export function runError(report: { readonly error?: string; readonly errorText?: ErrorText }, terms: Terms): string | undefined {
  return report.errorText ? render(report.errorText, terms) : report.error;
}

/**
 * A failed attempt the user cancelled: recorded as failed (MigrationRunError's "was cancelled
 * during up(): … nothing needs fixing"), shown as cancelled, since the migration is not at fault.
 */
export function wasCancelled(error: string | null | undefined): boolean {
  return /\bwas cancelled during (?:up|down)\(\)/.test(error ?? '');
}

/** What a history row's attempt came to, in a few words. */
export function historyOutcome(row: HistoryRow): string {
  if (row.manual) return row.direction === 'up' ? 'marked applied' : 'forgotten';
  if (row.skipped) return 'skipped';
  if (row.running) return 'interrupted, not rolled back';
  if (row.success) return 'ok';
  const how = wasCancelled(row.error) ? 'cancelled' : 'failed';
  return row.partial ? `${how}, not rolled back` : `${how}, rolled back`;
}

/** A dry run as a SQL script: one commented block per migration. */
/**
 * A dry run executes the migrations' code: only the database work is rolled back. Said first, so
 * nobody takes a preview for a static reading (a migration that writes a file wrote it).
 */
export const DRY_RUN_HEADER = [
  "-- Dry run: each migration's code ran inside a transaction that was rolled back. The database is",
  '-- unchanged, but anything the code did outside it (files, network calls, logs) did happen.',
].join('\n');

export function sqlPreviewText(steps: readonly { step: { direction: Direction; source: string; version: number; description: string }; sql: readonly string[] }[]): string {
  if (steps.length === 0) return '-- Nothing to run.';
  const statement = (q: string) => (/;\s*$/.test(q) ? q.trimEnd() : `${q};`);
  return [DRY_RUN_HEADER, ...steps.map(({ step, sql }) => [`-- ${step.direction} ${step.source} ${step.version}: ${step.description}`, ...sql.map(statement)].join('\n'))].join('\n\n');
}
