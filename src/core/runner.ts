import type { Knex } from 'knex';
import { describeError, MigrationRunError, MigrationsError } from './errors';
import type { HistoryStore } from './history';
import type { Step } from './plan';
import type { Direction, Migration } from './types';

/** A step with its loaded migration, ready to run. */
export interface LoadedStep extends Step {
  readonly migration: Migration;
}

export type StepOutcome = 'done' | 'failed' | 'not-run';

export interface StepReport {
  readonly source: string;
  readonly version: number;
  readonly description: string;
  readonly direction: Direction;
  readonly path: string | null;
  readonly outcome: StepOutcome;
  readonly durationMs?: number;
  readonly error?: string;
}

/** Hooks for progress and logs, called around every migration. */
export interface RunEvents {
  beforeMigration?(step: StepReport, index: number, total: number): void;
  afterMigration?(step: StepReport, index: number, total: number): void;
}

export interface RunReport {
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  /** Set when the run stopped early: the failure, or cancellation. */
  readonly error?: string;
  readonly cancelled?: boolean;
}

export interface RunContext {
  readonly knex: Knex;
  readonly history: HistoryStore;
  readonly events?: RunEvents;
  readonly signal?: AbortSignal;
  /** Called between migrations (the lock's heartbeat). */
  readonly between?: () => Promise<void>;
}

/**
 * Runs steps in order. A transactional migration and its history row commit together;
 * a failure is rolled back, recorded as a failed row, and stops the run.
 */
export async function runSteps(steps: readonly LoadedStep[], ctx: RunContext): Promise<RunReport> {
  const reports: StepReport[] = steps.map((s) => reportOf(s, 'not-run'));
  for (let i = 0; i < steps.length; i++) {
    if (ctx.signal?.aborted) return { ok: false, steps: reports, cancelled: true, error: `Cancelled after ${i} of ${steps.length} migration(s).` };
    await ctx.between?.();
    const step = steps[i];
    ctx.events?.beforeMigration?.(reports[i], i, steps.length);
    const started = Date.now();
    const error = await runOne(step, ctx, started);
    reports[i] = { ...reports[i], outcome: error ? 'failed' : 'done', durationMs: Date.now() - started, error: error?.message };
    ctx.events?.afterMigration?.(reports[i], i, steps.length);
    if (error) return { ok: false, steps: reports, error: error.message };
  }
  return { ok: true, steps: reports };
}

async function runOne(step: LoadedStep, ctx: RunContext, started: number): Promise<MigrationRunError | undefined> {
  const { migration, direction } = step;
  const transactional = migration.transaction !== false;
  const row = (success: boolean, error: string | null) => ({
    source: step.source.id,
    version: step.file.version,
    description: migration.description,
    checksum: step.file.checksum || null,
    direction,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    success,
    error,
    transactional,
  });
  try {
    if (transactional) {
      await ctx.knex.transaction(async (trx) => {
        await invoke(migration, direction, trx);
        await ctx.history.append(row(true, null), trx);
      });
    } else {
      await invoke(migration, direction, ctx.knex);
      await ctx.history.append(row(true, null));
    }
    return undefined;
  } catch (err) {
    const failure = new MigrationRunError(step.source.id, step.file.version, direction, step.file.path || undefined, transactional, err);
    await ctx.history.append(row(false, failure.message));
    return failure;
  }
}

async function invoke(migration: Migration, direction: Direction, knex: Knex): Promise<void> {
  const fn = direction === 'up' ? migration.up : migration.down;
  if (typeof fn !== 'function') throw new MigrationsError(`the migration has no ${direction}()`);
  await fn.call(migration, knex);
}

/**
 * Runs the steps inside one transaction that is always rolled back, collecting the SQL.
 * Nothing is written, not even history rows.
 */
export async function captureSql(steps: readonly LoadedStep[], knex: Knex): Promise<{ step: StepReport; sql: string[] }[]> {
  const captured: { step: StepReport; sql: string[] }[] = [];
  const rollback = new Error('dry run rollback');
  try {
    await knex.transaction(async (trx) => {
      for (const step of steps) {
        const sql: string[] = [];
        const listener = (q: { sql: string; bindings?: unknown[] }) => sql.push(inline(knex, q));
        trx.on('query', listener);
        try {
          await invoke(step.migration, step.direction, trx);
        } catch (err) {
          throw new MigrationRunError(step.source.id, step.file.version, step.direction, step.file.path, true, err);
        } finally {
          trx.removeListener('query', listener);
        }
        captured.push({ step: reportOf(step, 'not-run'), sql });
      }
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return captured;
}

function inline(knex: Knex, q: { sql: string; bindings?: unknown[] }): string {
  if (!q.bindings || q.bindings.length === 0) return q.sql;
  try {
    return knex.raw(q.sql, q.bindings as Knex.RawBinding[]).toQuery();
  } catch {
    return `${q.sql} -- bindings: ${describeError(q.bindings)}`;
  }
}

export function reportOf(step: Step & { migration?: Migration }, outcome: StepOutcome): StepReport {
  return {
    source: step.source.id,
    version: step.file.version,
    description: step.migration?.description ?? step.description,
    direction: step.direction,
    path: step.file.path || null,
    outcome,
  };
}
