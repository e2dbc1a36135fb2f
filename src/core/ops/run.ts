import { checksumOf } from '../model/checksum';
import { ConfigError, corruptHistory, InvalidMigrationsError } from '../model/errors';
import { HistorySnapshot } from '../model/history';
import { plural } from '../model/naming';
import { passedOver, planDown, planUp, type DownTarget, type SourceState, type Step, type UpTarget } from '../model/plan';
import { refuseHalfDone, refuseMoved } from '../model/repair';
import { refuseRollbackPastElsewhere } from '../model/elsewhere';
import { isStale } from '../database/lock';
import { runSteps, withBlocked, type RunEvents, type RunReport } from '../run/runner';
import { sumMismatch } from '../sources/integrity';
import type { ProjectConfig } from '../config/project';
import type { HistoryRead } from '../model/history';
import type { Source } from '../model/types';
import { checkOptions, done, type OpContext, type Operation } from './operation';
import { loadBySource, loadKey, refOf, requireVersion, stepsOf, type StepRef } from './steps';
import { writeSchemaAfterRun } from './schemaFile';

/**
 * What a run decided on a read, before any code ran: plain data, so that the runner child runs
 * this plan, on these files, unless the history changed while it waited for the lock.
 */
export interface RunPrecheck {
  /** The folder sources as discovered (the child does not discover again). */
  readonly discovered: readonly Source[];
  readonly steps: readonly StepRef[];
  /** Steps of sources whose history cannot be trusted: left out, and said so. */
  readonly blocked: readonly StepRef[];
  /** The history the plan was made on, as a fingerprint: the same under the lock, the plan stands. */
  readonly seen: string;
  /** Out-of-order migrations an up passed over (said in the report). */
  readonly passedOver: readonly { source: string; version: number; description: string }[];
  /** Sources linking out of the workspace: never run, said in the report. */
  readonly outside: readonly string[];
}

type Planner<A> = (ctx: OpContext, args: A, states: SourceState[], history: HistorySnapshot, all: readonly Source[]) => Step[];

/**
 * A run: planned on a read first (nothing to do opens no writer and loads nothing), then run
 * under the lock, here or in the runner child, with the history read again there: the plan is
 * made again only when that history changed (another runner applied some of it meanwhile).
 */
function runOperation<A extends { source?: string }>(name: 'up' | 'down' | 'redo', args: Operation<A, RunReport, RunPrecheck>['args'], plan: Planner<A>, extra?: (ctx: OpContext, args: A, states: SourceState[]) => Step[]): Operation<A, RunReport, RunPrecheck> {
  return {
    name,
    executesCode: 'Running migrations',
    args,
    async precheck(ctx, args) {
      const all = ctx.sources.sources();
      const sources = args.source === undefined ? all : ctx.sources.sources(args.source);
      // A folder linking out of the workspace is never run (Discovery.readSource): the report of an up says so, once.
      const outside = name === 'up' ? sources.filter((s) => s.problems.some((p) => p.code === 'outside-workspace')).map((s) => s.id) : [];
      const { target } = ctx;
      return target.guard(async () => {
        const read = await target.snapshot({ lock: true });
        const seen = new HistorySnapshot(read.rows, read.unreadable);
        const states = seen.states(sources, ctx.sources.settings.environment);
        const { steps, blocked } = runnable(plan(ctx, args, states, seen, all), seen, target.label);
        ctx.logger.debug(`Planned ${plural(steps.length, 'step')} on a read of ${target.label}.`);
        refuseHalfDone(steps, seen, false);
        const left = extra?.(ctx, args, states) ?? [];
        const pre: RunPrecheck = {
          discovered: all.filter((s) => !ctx.sources.registeredIds().includes(s.id)), steps: steps.map(refOf), blocked: blocked.map(refOf), seen: fingerprint(read),
          passedOver: left.map((s) => ({ source: s.source.id, version: s.file.version, description: s.description })), outside,
        };
        // A runner killed after its last commit left its lock row: the next run takes it over even
        // with nothing to do (see run), as one with work would, so no dead holder's row outlives it.
        if (steps.length === 0 && !(read.lock && isStale(read.lock, ctx.sources.settings.staleLockMs))) return done(settle(ctx, pre, { ok: true, steps: [] }));
        return pre;
      });
    },
    async run(ctx, args, pre, io) {
      const { target, sources: { settings } } = ctx;
      // The folder sources the precheck read: not discovered again (here, or in the child).
      const all = ctx.sources.sources(undefined, pre.discovered);
      const sources = args.source === undefined ? all : ctx.sources.sources(args.source, pre.discovered);
      const before = stepsOf(pre.steps, all);
      return target.guard(async () => {
        if (before.length === 0) return target.underLock(async () => ({ ok: true, steps: [] }));
        // Loaded before the lock: a run refused for its files creates no database file and no table.
        const early = loadBySource(before, ctx.sources.cache);
        if (early.loaded.length === 0 && early.problems.length > 0) throw new InvalidMigrationsError(early.problems);
        const preloaded = new Map(early.results.map((r, i) => [loadKey(before[i]), r]));
        return target.underLock(async (knex, history, lock) => {
          const read = await target.snapshot();
          const now = new HistorySnapshot(read.rows, read.unreadable);
          const replan = () => {
            ctx.logger.debug(`The history of ${target.label} changed since the plan: planned again under the lock.`);
            return runnable(plan(ctx, args, now.states(sources, settings.environment), now, all), now, target.label);
          };
          // Another runner may have applied some of the plan while this one waited: then it is made again.
          const { steps: planned, blocked: unreadable } = fingerprint(read) === pre.seen
            ? { steps: before, blocked: stepsOf(pre.blocked, all) }
            : replan();
          refuseHalfDone(planned, now);
          // A source with a bad file blocks only itself; when nothing else is left, nothing runs.
          const { loaded: steps, blocked: invalid, problems: loadProblems } = loadBySource(planned, ctx.sources.cache, preloaded);
          if (steps.length === 0 && loadProblems.length > 0) throw new InvalidMigrationsError(loadProblems);
          const blocked = [...unreadable, ...invalid];
          const problems = [...new Set(unreadable.map((s) => s.source))].flatMap((s) => now.problemsOf(s)).concat(loadProblems);
          ctx.logger.info(`Running ${plural(steps.length, 'migration')} on ${target.label}.`);
          const report = await runSteps(steps, {
            knex, history, events: withHooks(io.events, ctx.sources.project?.hooks), signal: io.signal, between: (db) => lock.heartbeat(db), timeoutMs: settings.migrationTimeoutMs,
            dialect: target.dialect, selection: { environment: settings.environment, tags: (args as UpTarget).tags },
            databaseFailure: (err) => (ownCall(err) ? undefined : target.failure(err)),
          });
          for (const s of report.steps) if (s.outcome === 'failed') ctx.logger.error(s.error ?? 'failed');
          if (report.ok && report.steps.some((s) => s.outcome === 'done')) await writeSchemaAfterRun(ctx, knex);
          return blocked.length === 0 ? report : withBlocked(report, blocked, problems);
        });
      });
    },
    finish: (ctx, _args, pre, report) => settle(ctx, pre, report),
    discovered: (pre) => pre.discovered,
  };
}

export const up = runOperation<UpTarget & { source?: string }>('up', (raw) => {
  checkOptions('up', raw, ['to', 'outOfOrder', 'tags', 'notMoved', 'allowSumMismatch', 'source', 'events', 'signal']);
  const { tags, to } = raw as UpTarget;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t !== ''))) throw new ConfigError(`up: tags must be a list of tag names, not ${JSON.stringify(tags)}.`, {}, 'usage');
  if (to !== undefined && (!Number.isSafeInteger(to) || to < 1)) throw new ConfigError(`up: to must be a version (a whole number of 1 or more), not ${JSON.stringify(to)}.`, {}, 'usage');
  const { source, outOfOrder, notMoved, allowSumMismatch } = raw as UpTarget & { source?: string };
  return { source, to, outOfOrder, tags, notMoved, allowSumMismatch };
}, (_ctx, opts, states, history, all) => {
  if (opts.to !== undefined) requireVersion(states, 'Applying up to a version', opts.to);
  const steps = planUp(states, opts);
  // Like Atlas: files that differ from their sources' migrations.sum do not run, unless said so.
  const mismatch = opts.allowSumMismatch ? undefined : sumMismatch(steps.map((s) => s.source));
  if (mismatch) throw mismatch;
  // Against every source (not only those asked for): a source held here has not moved.
  if (!opts.notMoved) refuseMoved(steps, () => all, history);
  return steps;
}, (_ctx, opts, states) => passedOver(states, opts));

/** Rolls back the last applied migration; `{ to: V }` down to V (which stays applied); `{ all: true }` everything. */
export const down = runOperation<{ source?: string; target: DownTarget }>('down', (raw) => {
  checkOptions('down', raw, ['to', 'all', 'last', 'source', 'events', 'signal']);
  const opts = raw as { to?: number; all?: boolean; last?: boolean; source?: string };
  if (opts.to !== undefined && (!Number.isSafeInteger(opts.to) || opts.to < 0)) throw new ConfigError(`down: to must be a version (a whole number of 0 or more), not ${JSON.stringify(opts.to)}.`, {}, 'usage');
  if ([opts.to !== undefined, opts.all === true, opts.last === true].filter(Boolean).length > 1) throw new ConfigError('down: pass one of to, all and last.', {}, 'usage');
  return { source: opts.source, target: opts.to !== undefined ? { to: opts.to } : opts.all ? { all: true } : { last: true } };
}, (_ctx, { source, target }, states, history, all) => {
  // Down to 0 rolls everything back; any other version must be one there is.
  if ('to' in target) requireVersion(states, 'Rolling back to a version', target.to || undefined);
  else if (source === undefined) refuseRollbackPastElsewhere(target, all, history);
  return planDown(states, target, (s) => history.appliedOrder(s));
});

/** Rolls the last applied migration back and applies it again, under one lock. */
export const redo = runOperation<{ source?: string }>('redo', (raw) => ({ source: raw.source as string | undefined }), (_ctx, { source }, states, history, all) => {
  if (source === undefined) refuseRollbackPastElsewhere({ last: true }, all, history);
  const down = planDown(states, { last: true }, (s) => history.appliedOrder(s));
  return [...down, ...down.map((s) => ({ ...s, direction: 'up' as const }))];
});

/** What the report of a run says in the caller's process only (the runner child does not say it too). */
function settle(_ctx: OpContext, pre: RunPrecheck, report: RunReport): RunReport {
  const outside = pre.outside.length === 0 ? [] : pre.discovered.filter((s) => pre.outside.includes(s.id));
  const refused = outside.length === 0 ? report : withBlocked(report, [], outside.flatMap((s) => s.problems), pre.outside);
  // Never silent: what this up left pending for being out of order.
  return refused.passedOver || pre.passedOver.length === 0 ? refused : { ...refused, passedOver: pre.passedOver };
}

/** The history a plan was made on, as a fingerprint: any write since (a row, a marker finished) changes it. */
function fingerprint(read: HistoryRead): string {
  return checksumOf(JSON.stringify([read.rows, read.unreadable]));
}

/**
 * The plan without the steps of sources whose history cannot be trusted (rows we did not write, a
 * migration applied twice): those are blocked, the others run. When only blocked steps were
 * planned, the rows are the error; so they are for a rollback, whose order across sources a
 * blocked source would break.
 */
function runnable(planned: readonly Step[], history: HistorySnapshot, where: string): { steps: Step[]; blocked: Step[] } {
  const bad = new Set(history.unreadable.map((u) => u.source));
  const steps = planned.filter((s) => !bad.has(s.source.id));
  const blocked = planned.filter((s) => bad.has(s.source.id));
  if (blocked.length > 0 && (steps.length === 0 || planned.some((s) => s.direction === 'down'))) throw corruptHistory(where, history.unreadable.filter((u) => blocked.some((s) => s.source.id === u.source)));
  return { steps, blocked };
}

/** The config's hooks around the caller's events: the config's first, each awaited. */
function withHooks(events: RunEvents | undefined, hooks: ProjectConfig['hooks']): RunEvents | undefined {
  if (!hooks) return events;
  return {
    ...events,
    beforeMigration: async (step, index, total, info) => {
      await hooks.beforeMigration?.(step);
      await events?.beforeMigration?.(step, index, total, info);
    },
    afterMigration: async (step, index, total) => {
      await hooks.afterMigration?.(step);
      await events?.afterMigration?.(step, index, total);
    },
  };
}

/**
 * An error of the migration's own call into Node (a file it wrote, a service it called: they carry
 * `path` or `syscall`), which is its failure, not the database's; the drivers' own are told apart
 * by their codes and words (see databaseError).
 */
function ownCall(err: unknown): boolean {
  const e = err as { path?: unknown; syscall?: unknown } | null;
  return typeof e?.path === 'string' || typeof e?.syscall === 'string';
}
