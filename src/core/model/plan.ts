import { ConfigError, MigrationsError } from './errors';
import type { Direction, MigrationFile, MigrationState, Source } from './types';

/** One migration to run in one direction. */
export interface Step {
  readonly source: Source;
  readonly file: MigrationFile;
  readonly direction: Direction;
  /** Description recorded at apply time (the file may since have changed). */
  readonly description: string;
  /** The last run passed over it already: passing over it again records nothing. */
  readonly skippedBefore?: boolean;
}

export interface SourceState {
  readonly source: Source;
  readonly states: readonly MigrationState[];
}

export interface UpTarget {
  readonly to?: number;
  /** Also apply migrations that sort before the newest applied one. */
  readonly outOfOrder?: boolean;
  /** Of the tagged migrations, only those with one of these tags run (the others are recorded as skipped); untagged ones always run. */
  readonly tags?: readonly string[];
  /**
   * Apply migrations that match the applied history of a source no folder holds any more (a
   * folder moved or renamed), which are otherwise refused: the caller says they are other migrations.
   */
  readonly notMoved?: boolean;
  /** Run although files differ from their folder's migrations.sum, which otherwise refuses the run. */
  readonly allowSumMismatch?: boolean;
}

export type DownTarget = { readonly to: number } | { readonly all: true } | { readonly last: true };

/** Pending (and, when asked, out-of-order) migrations, sources in run order, versions ascending. */
export function planUp(sources: readonly SourceState[], target: UpTarget): Step[] {
  const steps: Step[] = [];
  for (const { source, states } of sources) {
    for (const s of states) {
      if (s.applied || s.path === null) continue;
      if (target.to !== undefined && s.version > target.to) continue;
      if (s.status === 'out-of-order' && !target.outOfOrder) continue;
      // Known to be for another environment and recorded so: nothing to do (not even to load it).
      if (s.status === 'skipped' && s.skippedAt) continue;
      steps.push(stepFor(source, s, 'up'));
    }
  }
  return steps;
}

/** Out-of-order migrations (older than one applied) that `planUp` leaves out unless asked: a run says it passed over them. */
export function passedOver(sources: readonly SourceState[], target: UpTarget): Step[] {
  if (target.outOfOrder) return [];
  return sources.flatMap(({ source, states }) => states
    .filter((s) => s.status === 'out-of-order' && !s.applied && s.path !== null && (target.to === undefined || s.version <= target.to))
    .map((s) => stepFor(source, s, 'up')));
}

/** Applied migrations to undo, newest first. */
export function planDown(sources: readonly SourceState[], target: DownTarget, appliedOrder: (s: MigrationState) => number): Step[] {
  const applied = sources.flatMap(({ source, states }) => states.filter((s) => s.applied).map((s) => ({ source, s })));
  let chosen: typeof applied;
  if ('last' in target) {
    chosen = applied.sort((a, b) => appliedOrder(b.s) - appliedOrder(a.s)).slice(0, 1);
  } else if ('to' in target) {
    chosen = applied.filter(({ s }) => s.version > target.to).sort((a, b) => b.s.version - a.s.version);
  } else {
    chosen = applied.sort((a, b) => sourceIndex(sources, b.source) - sourceIndex(sources, a.source) || b.s.version - a.s.version);
  }
  return chosen.map(({ source, s }) => {
    if (s.path === null) {
      throw new MigrationsError(`Cannot roll back ${s.version} (${source.id}): its file is gone (status missing). Restore the file, or roll back only newer migrations.`);
    }
    return stepFor(source, s, 'down');
  });
}

/** With several sources a version number is ambiguous: ask for one. */
export function requireOneSource(sources: readonly SourceState[], what: string): void {
  if (sources.length > 1) {
    throw new ConfigError([`${what} needs a source when there are several (${sources.map((s) => s.source.id).join(', ')}): `, { do: 'name-source' }, '.'], {}, 'usage');
  }
}

function stepFor(source: Source, s: MigrationState, direction: Direction): Step {
  const file = source.migrations.find((m) => m.version === s.version && m.path === s.path)!;
  return { source, file, direction, description: s.description, ...(s.skippedAt && { skippedBefore: true }) };
}

function sourceIndex(sources: readonly SourceState[], source: Source): number {
  return sources.findIndex((s) => s.source === source);
}
