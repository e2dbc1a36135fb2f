import { ConfigError, MigrationsError, repairAdvice } from './errors';
import type { HistorySnapshot } from './history';
import type { Step } from './plan';
import { problem } from './problems';
import { humanize, keyOf } from './status';
import type { Direction, HistoryRow, MigrationFile, MigrationState, NewHistoryRow, Problem, Source } from './types';

// Half-done migrations (failed-partial, interrupted) and the rows written by hand that settle them:
// `mark-applied` (an up row) and `forget` (a down row), both with nothing run.

/**
 * A migration whose last attempt left changes behind, or never recorded how it ended (interrupted),
 * is not run again until it is repaired and recorded. `locked`: the history was read under the lock.
 * Read without it, an attempt still running may be one another run is making now: that one is left
 * to the check under the lock, where it can only be an attempt whose process is gone.
 */
export function refuseHalfDone(steps: readonly Step[], history: HistorySnapshot, locked = true): void {
  for (const step of steps) {
    const last = history.last(step.source.id, step.file.version);
    if (last && !last.success && last.partial && (locked || !last.running)) {
      const version = step.file.version;
      const source = step.source.id;
      throw new MigrationsError(
        [last.running
          ? `Migration ${version} (${source}) is interrupted: its last ${last.direction}() never recorded how it ended (its process was killed or crashed mid-way), and what it changed by then was not rolled back, so nothing was run. `
          : `Migration ${version} (${source}) is failed-partial: its last ${last.direction}() failed part-way and left changes that were not rolled back, so nothing was run. `,
        ...repairAdvice(source, version, last.direction, !last.running)],
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
  const failed = state.status === 'failed' || state.status === 'failed-partial' || state.status === 'interrupted';
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
 * The rows `mark-applied --to V` appends (Flyway's baseline): every migration of `source` up to
 * V that is not applied, recorded as applied, nothing run. V must be a migration of the source.
 * Migrations for another environment stay as they are; a failed one in the range is refused (its
 * changes may or may not be in the database: that is decided one at a time).
 */
export function baselineRows(source: Source, history: HistorySnapshot, to: number, environment?: string): NewHistoryRow[] {
  const [{ states }] = history.states([source], environment);
  if (!states.some((s) => s.version === to)) {
    throw new ConfigError(`There is no migration ${to} in ${source.id} (no file and no history); check the version.`, { source: source.id, version: to }, 'usage');
  }
  const wanted = states.filter((s) => s.version <= to && !s.applied && s.status !== 'skipped');
  const versions = wanted.map((s) => s.version);
  const twice = versions.find((v, i) => versions.indexOf(v) !== i);
  if (twice !== undefined) throw new MigrationsError(`Two files in ${source.id} have version ${twice}; fix that before you mark it applied.`, { facts: { source: source.id, version: twice } });
  const failed = wanted.find((s) => s.status === 'failed' || s.status === 'failed-partial');
  if (failed) {
    throw new MigrationsError([`Migration ${failed.version} (${source.id}) is ${failed.status}, so nothing was recorded: its last attempt failed, and whether its changes are in the database is for you to check. If they are, `,
      { do: 'mark-applied', source: source.id, version: failed.version }, ' on its own, then mark the others again.'], { facts: { source: source.id, version: failed.version } });
  }
  const now = new Date().toISOString();
  return wanted.map((s) => ({
    source: source.id, version: s.version, description: s.description, checksum: s.checksum, direction: 'up' as const,
    startedAt: now, finishedAt: now, durationMs: 0, success: true, error: null, transactional: true, partial: false, manual: true,
  }));
}

/**
 * A file that is an applied migration of another source: the same version, and the same checksum
 * or, when it was edited since, the same description. A row without a checksum was not a file
 * (a migration registered in code), so it is never taken for a moved one.
 */
function sameMigration(row: HistoryRow, file: MigrationFile): boolean {
  return row.checksum !== null && row.checksum !== '' && file.version === row.version && (file.checksum === row.checksum || (file.description ?? humanize(file.name)) === row.description);
}

/** What a folder's files have of the applied history of a source no source here holds any more. */
export interface MovedMatch {
  readonly from: string;
  readonly to: Source;
  /** Its files not applied here that are applied migrations of `from`. */
  readonly versions: readonly number[];
  /** Every applied migration of `from` has its file here, and this folder has no history: `renameRows` moves it whole. */
  readonly complete: boolean;
}

/**
 * Folders (of `sources`) whose unapplied files match applied migrations of a source that no source
 * of `all` holds any more (a folder moved or renamed): applying them would run them twice.
 */
export function movedMatches(sources: readonly Source[], all: readonly Source[], history: HistorySnapshot): MovedMatch[] {
  const held = new Set(all.map((s) => s.id));
  const appliedOf = new Map<string, HistoryRow[]>();
  for (const a of history.applied.values()) {
    if (!a.up || held.has(a.up.source)) continue;
    appliedOf.set(a.up.source, [...(appliedOf.get(a.up.source) ?? []), a.up]);
  }
  const matches: MovedMatch[] = [];
  for (const to of sources) {
    if (to.dir === '') continue;
    const own = history.rows.some((r) => r.source === to.id);
    for (const [from, rows] of appliedOf) {
      const files = to.migrations.filter((m) => !history.applied.get(keyOf(to.id, m.version))?.up && rows.some((r) => sameMigration(r, m)));
      if (files.length === 0) continue;
      const complete = !own && rows.every((r) => to.migrations.some((m) => sameMigration(r, m)));
      matches.push({ from, to, versions: [...new Set(files.map((m) => m.version))], complete });
    }
  }
  return matches;
}

/** The warning on a folder whose files match the history of `from`: it moved there. */
export function movedProblem(match: MovedMatch): Problem {
  const { from, to } = match;
  return problem(to.dir, 1, 1, 'warning', 'moved-source', match.complete
    ? `These files match the applied history of "${from}", which no folder holds any more: the folder was moved or renamed. Move that history here (rename-source ${from} ${to.id}) instead of applying them again.`
    : `Migration(s) ${match.versions.join(', ')} here match applied migrations of "${from}", which no folder holds any more: if they moved here, they must not be applied again. "up" refuses them until that history moves here (rename-source ${from} ${to.id}) or you say they are other migrations (not moved).`);
}

/**
 * A run never applies as new a migration that another source, no longer held here, applied:
 * the folder moved, and running it again would run it twice (a data migration's rows doubled).
 * Refused, naming both sources, until the history moves or the caller says they are not moved.
 */
export function refuseMoved(steps: readonly Step[], all: () => readonly Source[], history: HistorySnapshot): void {
  const ups = steps.filter((s) => s.direction === 'up');
  const planned = [...new Set(ups.map((s) => s.source))];
  // Every source is listed (discovery) only when the history names one that is not planned here.
  const ids = new Set(planned.map((s) => s.id));
  if (![...history.applied.values()].some((a) => a.up && !ids.has(a.up.source))) return;
  for (const match of movedMatches(planned, all(), history)) {
    const versions = match.versions.filter((v) => ups.some((s) => s.source === match.to && s.file.version === v));
    if (versions.length === 0) continue;
    throw new MigrationsError(
      [`Nothing was run: migration(s) ${versions.join(', ')} of ${match.to.id} match migrations that "${match.from}" applied (same version, and the same checksum or description), ` +
        `and no folder holds "${match.from}" any more: it was moved or renamed, and applying them as new would run them twice. Move that history here (`,
        { do: 'rename-source', from: match.from, to: match.to.id }, '), or if they are other migrations, ', { do: 'override', flag: 'not-moved' }, '.'],
      { code: 'moved-source', facts: { source: match.to.id, version: versions[0] } },
    );
  }
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
    // An edited file moves too: the row keeps the checksum applied, so it shows as modified, as it would have unmoved.
    if (r.checksum && !sameMigration(r, file)) throw new ConfigError(`Migration ${r.version} in "${to.id}" differs from the one "${from}" applied (its checksum and its description); it is not where "${from}" moved.`, { source: to.id, version: r.version }, 'usage');
    const row = { version: r.version, description: r.description, checksum: r.checksum, startedAt: now, finishedAt: now, durationMs: 0, success: true, error: null, transactional: true, partial: false, manual: true } as const;
    return [{ ...row, source: from, direction: 'down' as const }, { ...row, source: to.id, direction: 'up' as const }];
  });
}
