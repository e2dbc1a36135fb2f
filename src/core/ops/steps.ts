import { loadMigrations, type LoadResult } from '../loading/loader';
import { ConfigError, InvalidMigrationsError, MigrationsError } from '../model/errors';
import { planUp, requireOneSource, type SourceState, type Step } from '../model/plan';
import type { LoadedStep } from '../run/runner';
import { HistorySnapshot } from '../model/history';
import { runsIn } from '../model/status';
import type { OpContext } from './operation';
import type { ResultCache } from '../sources/cache';
import type { Direction, Problem, Source } from '../model/types';

/** Loads every step's migration before the first runs, so a bad file stops nothing half-way. */
export function load(steps: readonly Step[], cache: ResultCache | undefined): LoadedStep[] {
  const { loaded, problems } = loadBySource(steps, cache);
  if (problems.length > 0) throw new InvalidMigrationsError(problems);
  return loaded;
}

/**
 * Loads every step; a source with a problem in play (a file that cannot run, a duplicate
 * version) is left out whole, so it blocks only itself. Its steps and problems are returned.
 */
export function loadBySource(steps: readonly Step[], cache: ResultCache | undefined, preloaded?: ReadonlyMap<string, LoadResult>): { loaded: LoadedStep[]; blocked: Step[]; problems: Problem[]; results: LoadResult[] } {
  const problemsOf = new Map<Source, Problem[]>();
  const add = (source: Source, ...found: Problem[]) => problemsOf.set(source, [...(problemsOf.get(source) ?? []), ...found]);
  for (const source of new Set(steps.map((s) => s.source))) {
    add(source, ...source.migrations.flatMap((m) => m.problems.filter((p) => p.code === 'duplicate-version')));
  }
  // Files loaded already (before the lock) are not executed a second time.
  const missing = steps.filter((s) => !preloaded?.has(loadKey(s)));
  const fresh = loadMigrations(missing.map((s) => s.file), cache);
  let next = 0;
  const results = steps.map((s) => preloaded?.get(loadKey(s)) ?? fresh[next++]);
  const all = steps.map((step, i) => {
    const result = results[i];
    // Duplicates are already listed above, once per file.
    add(step.source, ...result.problems.filter((p) => p.severity === 'error' && p.code !== 'duplicate-version'));
    if (result.migration && step.direction === 'down' && typeof result.migration.down !== 'function') {
      add(step.source, { ...result.problems.find((p) => p.code === 'missing-down')!, severity: 'error',
        message: `Cannot roll back ${step.file.version}: it has no down(). Add a down(knex) that undoes up(), or roll back only newer migrations.` });
    }
    return { ...step, migration: result.migration! };
  });
  const bad = (step: Step) => (problemsOf.get(step.source)?.length ?? 0) > 0;
  return { loaded: all.filter((s) => !bad(s)), blocked: steps.filter(bad), problems: [...problemsOf.values()].flat(), results };
}

/** A step's file and direction: redo's down and up each get an instance of their own, as when loaded under the lock. */
export function loadKey(step: Step): string {
  return `${step.direction}:${step.source.id}:${step.file.path}:${step.file.version}`;
}

/** A step as plain data (it crosses to the runner child): its source's id and its file's version and path. */
export interface StepRef {
  readonly source: string;
  readonly version: number;
  readonly path: string;
  readonly direction: Direction;
  readonly description: string;
  readonly skippedBefore?: boolean;
}

export function refOf(step: Step): StepRef {
  return { source: step.source.id, version: step.file.version, path: step.file.path, direction: step.direction, description: step.description, skippedBefore: step.skippedBefore };
}

/** The steps again, on these sources' objects (the child's, or this process's). */
export function stepsOf(refs: readonly StepRef[], sources: readonly Source[]): Step[] {
  const byId = new Map(sources.map((s) => [s.id, s]));
  return refs.map((r) => {
    const source = byId.get(r.source)!;
    // An applied migration whose file is gone is planned from the history alone: its file is a stand-in.
    const file = source.migrations.find((m) => m.version === r.version && m.path === r.path) ?? source.migrations.find((m) => m.version === r.version)!;
    return { source, file, direction: r.direction, description: r.description, ...(r.skippedBefore ? { skippedBefore: true } : {}) };
  });
}

/**
 * A run to version `to` needs one source, which must have that version (a file, or an applied
 * one whose file is gone): `up --to 99` with no 99 would otherwise apply everything.
 */
export function requireVersion(states: readonly SourceState[], what: string, to: number | undefined): void {
  requireOneSource(states, what);
  if (to === undefined) return;
  const [one] = states;
  const versions = one ? [...new Set(one.states.map((m) => m.version))] : [];
  if (!versions.includes(to)) {
    throw new ConfigError(`There is no migration ${to} in ${one?.source.id ?? 'this workspace'}; ${versions.length > 0 ? `its versions are ${versions.join(', ')}` : 'it has none'}.`, { source: one?.source.id, version: to }, 'usage');
  }
}

/** Every migration of the workspace in run order, as a fresh database gets them. */
export function everyStep(ctx: OpContext): LoadedStep[] {
  const { settings } = ctx.sources;
  const steps = planUp(new HistorySnapshot([]).states(ctx.sources.sources(), settings.environment), {});
  return load(steps, ctx.sources.cache).filter((s) => runsIn(s.migration, { environment: settings.environment }));
}

/**
 * The applied migrations as steps, in the order they were applied: what a shadow replays to rebuild
 * the schema the database has (checks, generate --from-database). An applied one whose file is gone
 * cannot be replayed: refused, naming it.
 */
export function appliedInOrder(states: readonly SourceState[], history: HistorySnapshot): Step[] {
  return states.flatMap(({ source, states: s }) => s.filter((m) => m.applied).map((m) => ({ source, m })))
    .sort((a, b) => history.appliedOrder(a.m) - history.appliedOrder(b.m))
    .map(({ source, m }) => {
      const file = source.migrations.find((f) => f.version === m.version && f.path === m.path);
      if (!file) throw new MigrationsError(`Applied migration ${m.version} (${source.id}) has no file any more, so the schema cannot be rebuilt to check against. Restore the file.`, { facts: { source: source.id, version: m.version } });
      return { source, file, direction: 'up' as const, description: m.description };
    });
}
