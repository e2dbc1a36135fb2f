import { ConfigError, MigrationsError, repairAdvice } from './errors';
import type { HistorySnapshot } from './history';
import type { Step } from './plan';
import { problem } from './problems';
import type { Direction, HistoryRow, MigrationState, NewHistoryRow, Problem, Source } from './types';

// Half-done migrations (failed-partial) and the rows written by hand that settle them:
// `mark-applied` (an up row) and `forget` (a down row), both with nothing run.

/** A migration whose last attempt left changes behind is not run again until it is repaired and recorded. */
export function refuseHalfDone(steps: readonly Step[], history: HistorySnapshot): void {
  for (const step of steps) {
    const last = history.last(step.source.id, step.file.version);
    if (last && !last.success && last.partial) {
      throw new MigrationsError(
        [`Migration ${step.file.version} (${step.source.id}) is failed-partial: its last ${last.direction}() failed part-way and left changes that were not rolled back, so nothing was run. `,
          ...repairAdvice(step.source.id, step.file.version, last.direction)],
        { code: 'half-done', facts: { source: step.source.id, version: step.file.version, direction: last.direction, file: step.file.path } },
      );
    }
  }
}

/** The row `mark-applied` (up) or `forget` (down) would append; no row when the history already says so. */
export function manualRow(direction: Direction, sources: readonly Source[], history: HistorySnapshot, version: number): { source: Source; state: MigrationState; row?: NewHistoryRow } {
  const found = history.states(sources).flatMap(({ source, states }) => states.filter((m) => m.version === version).map((state) => ({ source, state })));
  const verb = direction === 'up' ? 'mark-applied' : 'forget';
  if (found.length === 0) {
    throw new ConfigError(`There is no migration ${version} in ${sources.map((s) => s.id).join(', ') || 'this workspace'} (no file and no history); check the version${sources.length > 1 ? ' and the source' : ''}.`, { version }, 'usage');
  }
  const ids = [...new Set(found.map((f) => f.source.id))];
  if (ids.length > 1) throw new ConfigError([`Migration ${version} exists in several sources (${ids.join(', ')}); `, { do: 'name-source' }, ` to ${verb} one of them.`], { version }, 'usage');
  if (found.length > 1) throw new MigrationsError(`Two files in ${ids[0]} have version ${version}; fix that before you ${verb} it.`);
  const [{ source, state }] = found;
  const failed = state.status === 'failed' || state.status === 'failed-partial';
  // Nothing is run, so a file's own problems do not matter; an edited (modified) file's new checksum is taken.
  const already = direction === 'up' ? state.applied && !failed && state.status !== 'modified' : !state.applied && !failed;
  if (already) return { source, state };
  const now = new Date().toISOString();
  return {
    source,
    state,
    row: {
      source: source.id, version, description: state.description, checksum: state.checksum, direction,
      startedAt: now, finishedAt: now, durationMs: 0, success: true, error: null, transactional: true, partial: false, manual: true,
    },
  };
}

/**
 * Sources the history has applied migrations of, which no folder holds any more (a folder moved
 * or renamed), and the folder each moved to: one whose files have every applied version with the
 * same checksum, and no history of its own.
 */
export function movedSources(sources: readonly Source[], history: HistorySnapshot): { from: string; to: Source }[] {
  const held = new Set(sources.map((s) => s.id));
  const appliedOf = new Map<string, HistoryRow[]>();
  for (const a of history.applied.values()) {
    if (!a.up || held.has(a.up.source)) continue;
    appliedOf.set(a.up.source, [...(appliedOf.get(a.up.source) ?? []), a.up]);
  }
  const fresh = sources.filter((s) => s.dir !== '' && !history.rows.some((r) => r.source === s.id));
  const moves: { from: string; to: Source }[] = [];
  for (const [from, rows] of appliedOf) {
    const to = fresh.find((s) => rows.every((r) => s.migrations.some((m) => m.version === r.version && (!r.checksum || m.checksum === r.checksum))));
    if (to) moves.push({ from, to });
  }
  return moves;
}

/** The warning on a folder whose files match the history of `from`: it moved there. */
export function movedProblem(from: string, to: Source): Problem {
  return problem(to.dir, 1, 1, 'warning', 'moved-source',
    `These files match the applied history of "${from}", which no folder holds any more: the folder was moved or renamed. Move that history here (rename-source ${from} ${to.id}) instead of applying them again.`);
}

/**
 * The rows that move a source's applied history to the folder it moved to, written by hand (nothing
 * runs): each applied migration forgotten under the old id and recorded as applied under the new.
 */
export function renameRows(from: string, to: Source, history: HistorySnapshot): NewHistoryRow[] {
  const applied = [...history.applied.values()].map((a) => a.up).filter((r): r is HistoryRow => r !== undefined && r.source === from);
  if (applied.length === 0) throw new ConfigError(`The history has no applied migration of "${from}"; check the old source id.`, { source: from }, 'usage');
  if (history.rows.some((r) => r.source === to.id)) throw new ConfigError(`"${to.id}" has a history of its own already; a source's history can only move to a folder that has none.`, { source: to.id }, 'usage');
  const now = new Date().toISOString();
  return applied.sort((a, b) => a.version - b.version).flatMap((r) => {
    const file = to.migrations.find((m) => m.version === r.version);
    if (!file) throw new ConfigError(`"${to.id}" has no migration ${r.version}, which "${from}" applied; it is not where "${from}" moved.`, { source: to.id, version: r.version }, 'usage');
    if (r.checksum && file.checksum !== r.checksum) throw new ConfigError(`Migration ${r.version} in "${to.id}" differs from the one "${from}" applied (its checksum); it is not where "${from}" moved.`, { source: to.id, version: r.version }, 'usage');
    const row = { version: r.version, description: r.description, checksum: r.checksum, startedAt: now, finishedAt: now, durationMs: 0, success: true, error: null, transactional: true, partial: false, manual: true } as const;
    return [{ ...row, source: from, direction: 'down' as const }, { ...row, source: to.id, direction: 'up' as const }];
  });
}
