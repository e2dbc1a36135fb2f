import type { HistoryRow, MigrationFile, MigrationState, MigrationStatus, Source } from './types';

/** What the history says about one (source, version). */
export interface Applied {
  /** The successful `up` still in effect, if any. */
  readonly up?: HistoryRow;
  /** The newest attempt of any kind. */
  readonly last: HistoryRow;
}

/** What a run is for: its environment, and the tags it selects among tagged migrations (none: every migration). */
export interface Selection {
  readonly environment?: string;
  readonly tags?: readonly string[];
}

/**
 * False when a migration declares other environments than the run's, or it is tagged and the run
 * names tags it has none of. Tags work as Liquibase's contexts: an untagged migration runs in
 * every run (a seed tagged `seed` needs the untagged tables before it), a tag selects tagged ones.
 */
export function runsIn(m: { readonly environments?: readonly string[]; readonly tags?: readonly string[] }, sel: Selection): boolean {
  if (m.environments && sel.environment !== undefined && !m.environments.includes(sel.environment)) return false;
  return !sel.tags?.length || !m.tags?.length || m.tags.some((t) => sel.tags!.includes(t));
}

/** Folds the history into the current state per `source␟version`. */
export function foldHistory(rows: readonly HistoryRow[]): Map<string, Applied> {
  const state = new Map<string, { up?: HistoryRow; last: HistoryRow }>();
  for (const row of rows) {
    const key = keyOf(row.source, row.version);
    const entry = state.get(key) ?? { last: row };
    entry.last = row;
    // A skip ran nothing: what was in effect stays.
    if (row.success && !row.skipped) entry.up = row.direction === 'up' ? row : undefined;
    state.set(key, entry);
  }
  return state;
}

export function keyOf(source: string, version: number): string {
  return `${source}\u241f${version}`;
}

/**
 * The status of every migration in a source: files on disk joined with the history,
 * plus ghost entries for applied migrations whose file is gone.
 */
export function sourceStatus(source: Source, applied: ReadonlyMap<string, Applied>, environment?: string): MigrationState[] {
  const appliedVersions = [...applied.entries()]
    .filter(([key, a]) => a.up && key.startsWith(source.id + '\u241f'))
    .map(([, a]) => a.up!.version);
  const newestApplied = appliedVersions.length > 0 ? Math.max(...appliedVersions) : 0;
  const states: MigrationState[] = source.migrations.map((file) => fileState(source.id, file, applied.get(keyOf(source.id, file.version)), newestApplied, environment));
  const onDisk = new Set(source.migrations.map((m) => m.version));
  for (const [, a] of applied) {
    if (!a.up || a.up.source !== source.id || onDisk.has(a.up.version)) continue;
    states.push({
      source: source.id, version: a.up.version, description: a.up.description, path: null, checksum: null, status: 'missing', applied: true, problems: [],
      appliedAt: a.up.finishedAt, durationMs: a.up.durationMs, lastError: a.last.success ? null : a.last.error,
    });
  }
  return states.sort((x, y) => x.version - y.version || (x.path ?? '').localeCompare(y.path ?? ''));
}

function fileState(source: string, file: MigrationFile, a: Applied | undefined, newestApplied: number, environment?: string): MigrationState {
  const invalid = file.problems.some((p) => p.severity === 'error');
  const failed = a !== undefined && !a.last.success;
  // A half-done migration outranks a file problem: the database needs repair either way.
  const partial = failed && a.last.partial;
  let status: MigrationStatus;
  // Its marker is the newest row: the attempt never recorded how it ended.
  if (partial && a.last.running) status = 'interrupted';
  else if (partial) status = 'failed-partial';
  else if (a?.up) status = invalid ? 'invalid' : failed ? 'failed' : a.up.checksum && file.checksum && a.up.checksum !== file.checksum ? 'modified' : 'applied';
  // Passed over on purpose by an earlier run, it is not out of order when its environment comes.
  else status = invalid ? 'invalid' : failed ? 'failed' : !runsIn(file, { environment }) ? 'skipped' : file.version < newestApplied && !a?.last.skipped ? 'out-of-order' : 'pending';
  return {
    source,
    version: file.version,
    description: a?.up?.description ?? file.description ?? humanize(file.name),
    path: file.path,
    checksum: file.checksum || null,
    status,
    applied: a?.up !== undefined,
    problems: file.problems,
    appliedAt: a?.up?.finishedAt ?? null,
    durationMs: a?.up?.durationMs ?? null,
    lastError: failed ? a!.last.error : null,
    ...(file.environments && { environments: file.environments }),
    ...(file.tags && { tags: file.tags }),
    ...(a?.last.skipped && !a.up && { skippedAt: a.last.finishedAt }),
  };
}

/** `add_is_spammer` → `add is spammer`: what a file name says before the module is loaded. */
export function humanize(name: string): string {
  return name.replace(/_/g, ' ');
}
