import { ConfigError, MigrationsError, repairAdvice } from './errors';
import type { HistorySnapshot } from './history';
import type { Step } from './plan';
import type { Direction, MigrationState, NewHistoryRow, Source } from './types';

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
    throw new ConfigError(`There is no migration ${version} in ${sources.map((s) => s.id).join(', ') || 'this workspace'} (no file and no history); check the version${sources.length > 1 ? ' and the source' : ''}.`, { version });
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
