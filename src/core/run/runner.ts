import type { Knex } from 'knex';
import { describeError, interruptedText, MigrationRunError, MigrationsError, MigrationTimeoutError, type ErrorCode, type ErrorText } from '../model/errors';
import type { Dialect } from '../database/dialect';
import type { HistoryStorage } from '../model/history';
import type { Step } from '../model/plan';
import { runsIn, type Selection } from '../model/status';
import type { Direction, Migration, NewHistoryRow, Problem } from '../model/types';
import { plural } from '../model/naming';
import { changesDatabase, DDL } from '../model/statements';

/** A step with its loaded migration, ready to run. */
export interface LoadedStep extends Step {
  readonly migration: Migration;
}

/** `skipped`: not for the run's environment or tags; recorded as such, nothing run. */
export type StepOutcome = 'done' | 'failed' | 'not-run' | 'skipped';

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

/**
 * Hooks for progress and logs, called around every migration. In the process that runs the
 * migrations a promise they return is awaited, and one that throws stops the run (before the next migration,
 * nothing half-done); across the runner child's pipe they are notifications.
 */
export interface RunEvents {
  /** Once, before the first migration: every step of the run, none run yet. */
  started?(steps: readonly StepReport[]): unknown;
  beforeMigration?(step: StepReport, index: number, total: number, info: StepInfo): unknown;
  /**
   * The running migration made a change that its rollback would not undo (outside a transaction,
   * or DDL that MySQL commits): were it stopped now, it would be half-done. Once per migration.
   */
  partialRisk?(index: number): void;
  afterMigration?(step: StepReport, index: number, total: number): unknown;
}

/** What a process that may have to stop a migration needs to record it truthfully. */
export interface StepInfo {
  readonly transactional: boolean;
  readonly checksum: string | null;
}

export interface RunReport {
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  /** Set when the run stopped early: the failure, or cancellation. */
  readonly error?: string;
  /** The failure's text with its advice as data, for a front end to say in its own terms (see MigrationsError.describe). */
  readonly errorText?: ErrorText;
  /** Sources left out for their problems (each blocks only itself): the problems to fix. */
  readonly problems?: readonly Problem[];
  readonly cancelled?: boolean;
  /** The failure's kind (`database` when the database failed under a migration). */
  readonly code?: ErrorCode;
  /** Out-of-order migrations `up` left pending (set only when there are some). */
  readonly passedOver?: readonly { readonly source: string; readonly version: number; readonly description: string }[];
}

export interface RunContext {
  readonly knex: Knex;
  readonly history: HistoryStorage<Knex.Transaction>;
  readonly events?: RunEvents;
  readonly signal?: AbortSignal;
  /** Called between migrations (the lock's heartbeat), on the connection free at that moment. */
  readonly between?: (db: Knex) => Promise<void>;
  /**
   * What differs by database: DDL in transactions or not, how to stop a statement, and one
   * connection (SQLite), where consecutive transactional migrations share one knex transaction
   * object with COMMIT and BEGIN sent between them (see TransactionSession).
   */
  readonly dialect: Pick<Dialect, 'transactionalDdl' | 'singleConnection' | 'interrupt'>;
  /** Longest one up()/down() may take before it is stopped and rolled back; 0 or unset: no limit. */
  readonly timeoutMs?: number;
  /** The run's environment and tags: a migration for others is recorded as skipped, not run. */
  readonly selection?: Selection;
  /**
   * The database's own failure behind a migration's error (connection lost, disk full…), as the
   * error to record: the migration is then recorded as interrupted by the database, not at fault.
   */
  readonly databaseFailure?: (err: unknown) => MigrationsError | undefined;
}

/**
 * Runs steps in order. A transactional migration and its history row commit together;
 * a failure is rolled back, recorded as a failed row, and stops the run.
 */
export async function runSteps(steps: readonly LoadedStep[], ctx: RunContext): Promise<RunReport> {
  const reports: StepReport[] = steps.map((s) => reportOf(s, 'not-run'));
  const stop = (err: HookError): RunReport => ({ ok: false, steps: reports, error: err.message, errorText: err.text });
  const session = ctx.dialect.singleConnection ? new TransactionSession(ctx.knex) : undefined;
  try {
    await hook('started', () => ctx.events?.started?.(reports));
    for (let i = 0; i < steps.length; i++) {
      if (ctx.signal?.aborted) return { ok: false, steps: reports, cancelled: true, error: `Cancelled after ${i} of ${plural(steps.length, 'migration')}.` };
      const step = steps[i];
      if (step.direction === 'up' && ctx.selection && !runsIn(step.migration, ctx.selection)) {
        if (!step.skippedBefore) await ctx.history.append(skipRow(step), session?.connection);
        reports[i] = { ...reports[i], outcome: 'skipped' };
        continue;
      }
      const transactional = step.migration.transaction !== false;
      // A migration outside a transaction runs on the pool: the session gives its connection back first.
      if (!transactional) await session?.end();
      await ctx.between?.(session?.connection ?? ctx.knex);
      await hook('beforeMigration', () => ctx.events?.beforeMigration?.(reports[i], i, steps.length, { transactional, checksum: step.file.checksum || null }));
      const started = Date.now();
      const error = await runOne(step, ctx, session, started, () => ctx.events?.partialRisk?.(i), i === steps.length - 1);
      reports[i] = { ...reports[i], outcome: error ? 'failed' : 'done', durationMs: Date.now() - started, error: error?.message };
      await hook('afterMigration', () => ctx.events?.afterMigration?.(reports[i], i, steps.length));
      if (error) return { ok: false, steps: reports, error: error.message, errorText: error.text, code: error.code };
    }
    return { ok: true, steps: reports };
  } catch (err) {
    if (err instanceof HookError) return stop(err);
    throw err;
  } finally {
    await session?.end();
  }
}

/**
 * Runs `before` once, on the transaction's own connection, right before the first statement that
 * `matches` is sent. knex gives every transaction a client object of its own, so only this
 * transaction's statements pass through here.
 */
function beforeFirst(trx: Knex.Transaction, matches: (sql: string) => boolean, before: () => Promise<void>): void {
  const client = trx.client as unknown as { query(connection: unknown, query: unknown): Promise<unknown> };
  const query = client.query;
  let done = false;
  client.query = async function (this: unknown, connection: unknown, q: unknown) {
    const sql = typeof q === 'string' ? q : String((q as { sql?: unknown } | null)?.sql ?? '');
    if (!done && matches(sql)) {
      done = true;
      await before();
    }
    return query.call(this, connection, q);
  };
}

/** The history row of a migration a run passed over: nothing ran, it is not applied. */
function skipRow(step: LoadedStep): NewHistoryRow {
  const now = new Date().toISOString();
  return {
    source: step.source.id, version: step.file.version, description: step.migration.description, checksum: step.file.checksum || null, direction: 'up',
    startedAt: now, finishedAt: now, durationMs: 0, success: true, error: null, transactional: true, skipped: true,
  };
}

/** A run hook that threw: the run stops there, with what was done kept and recorded. */
class HookError extends MigrationsError {}

async function hook(name: string, call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (err) {
    throw new HookError(`The ${name} hook failed: ${describeError(err)}. The run stopped there; the migrations before it stay applied.`);
  }
}

/**
 * One knex transaction object kept across migrations on a single connection: each migration gets
 * it after a BEGIN and ends with COMMIT or ROLLBACK, so it still commits with its own history row,
 * but knex builds a transaction (about 0.14 ms on SQLite) once per run instead of once per
 * migration. Between migrations the connection is in autocommit; `end()` hands it back to knex.
 */
class TransactionSession {
  private trx?: Knex.Transaction;
  private open = false;

  constructor(private readonly knex: Knex) {}

  /** The transaction object while the session holds the connection (in autocommit between migrations). */
  get connection(): Knex.Transaction | undefined {
    return this.trx;
  }

  async begin(): Promise<Knex.Transaction> {
    if (!this.trx) this.trx = await this.knex.transaction();
    else await this.trx.raw('BEGIN');
    this.open = true;
    return this.trx;
  }

  /** Commits the running migration; after the run's last one, with knex's own COMMIT, which ends the session. */
  async commit(last: boolean): Promise<void> {
    if (last) {
      const trx = this.trx!;
      await trx.commit();
      this.trx = undefined;
    } else {
      await this.trx!.raw('COMMIT');
    }
    this.open = false;
  }

  /**
   * Completes the knex transaction, so that a late query from a stopped migration is refused
   * rather than run in the next one, and the connection goes back to the pool.
   */
  async end(): Promise<void> {
    const trx = this.trx;
    if (!trx) return;
    this.trx = undefined;
    try {
      if (this.open) await trx.raw('ROLLBACK');
      this.open = false;
      // knex ends what it began with its own COMMIT: of an empty transaction after ours.
      await trx.raw('BEGIN');
      await trx.commit();
    } catch {
      // A connection in a state where that fails: knex's ROLLBACK ends it (its rejection is expected).
      this.open = false;
      trx.executionPromise.catch(() => undefined);
      await trx.rollback().catch(() => undefined);
    }
  }
}

async function runOne(step: LoadedStep, ctx: RunContext, session: TransactionSession | undefined, started: number, partialRisk: () => void, last: boolean): Promise<MigrationRunError | undefined> {
  const { migration, direction } = step;
  const transactional = migration.transaction !== false;
  const startedAt = new Date(started).toISOString();
  const row = (success: boolean, error: string | null, partial = false): NewHistoryRow => ({
    source: step.source.id,
    version: step.file.version,
    description: migration.description,
    checksum: step.file.checksum || null,
    direction,
    startedAt,
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    success,
    error,
    transactional,
    partial,
  });
  // A migration whose rollback would not undo its changes says it has begun, in a row committed
  // before its first statement, which its outcome then replaces: a crash leaves it interrupted,
  // never pending. A transactional one on PostgreSQL or SQLite needs none (its work dies with its
  // transaction) and pays nothing for it; one on MySQL/MariaDB writes it in its transaction right
  // before its first DDL, whose implicit commit commits it (and nothing, if it never gets there).
  let marked = false;
  const mark = async (trx?: Knex.Transaction) => {
    const interrupted = new MigrationsError(interruptedText(step.source.id, step.file.version, direction, transactional, startedAt)).message;
    await ctx.history.start({ ...row(false, interrupted, true), finishedAt: startedAt, durationMs: 0 }, trx);
    marked = true;
  };
  const record = (outcome: NewHistoryRow, trx?: Knex.Transaction) => (marked ? ctx.history.finish(outcome, trx) : ctx.history.append(outcome, trx));
  // What the migration ran that may have changed the database: if it fails, what could not be
  // rolled back (outside a transaction, or DDL that MySQL commits at once) is listed for the repair.
  let risked = false;
  const statements = new Statements((sql) => {
    // Sent, not yet answered: were the process stopped now, the change may be in (the parent's record).
    if (!risked && (!transactional || (DDL.test(sql) && !ctx.dialect.transactionalDdl))) {
      risked = true;
      partialRisk();
    }
  });
  const apply = async (trx: Knex.Transaction) => {
    if (!ctx.dialect.transactionalDdl) beforeFirst(trx, (sql) => DDL.test(sql), () => mark(trx));
    statements.listen(trx);
    try {
      await within(invoke(migration, direction, trx), ctx.timeoutMs, true, () => ctx.dialect.interrupt(ctx.knex, trx));
    } finally {
      statements.unlisten(trx);
    }
    await record(row(true, null), trx);
  };
  try {
    if (!transactional) await mark();
    if (transactional && session) {
      await apply(await session.begin());
      await session.commit(last);
    } else if (transactional) {
      let recorded = false;
      await ctx.knex.transaction(async (trx) => {
        await apply(trx);
        recorded = true;
      });
      if (!recorded) throw new MigrationsError('its transaction was rolled back without an error');
    } else {
      statements.listen(ctx.knex);
      try {
        await within(invoke(migration, direction, ctx.knex), ctx.timeoutMs, false);
      } finally {
        statements.unlisten(ctx.knex);
      }
      await record(row(true, null));
    }
    return undefined;
  } catch (err) {
    // The run stops here: the session's transaction is rolled back and knex's ended first.
    await session?.end();
    const partial = statements.leftChanges(transactional, ctx.dialect.transactionalDdl);
    const failure = new MigrationRunError(step.source.id, step.file.version, direction, step.file.path || undefined, transactional, ctx.databaseFailure?.(err) ?? err, partial, partial ? statements.changed() : []);
    await record(row(false, failure.message, partial));
    return failure;
  }
}

/** What knex hands a 'query', 'query-response' or 'query-error' listener: the SQL with placeholders, and the values apart. */
interface QueryData {
  readonly sql: string;
  readonly bindings?: readonly unknown[];
}

/**
 * The statements one migration ran, as the database answered them: a statement counts as run when
 * its answer came back ('query-response'), not when it was sent ('query'); one the database refused
 * ('query-error') changed nothing. Kept as knex sent them, with placeholders (`?`, `$1`): the values
 * bound to them (a password) never reach the history, the report or a log.
 */
class Statements {
  /** Answered, in order: these may have changed the database. */
  private readonly ran: string[] = [];
  /** Sent and not answered yet: when the migration fails, whether they ran is not known. */
  private readonly unanswered: string[] = [];
  /** A statement MySQL/MariaDB commits at once was sent: it commits what ran before it, even when it is refused itself. */
  private ddlSent = false;
  /** The knex client the statements go through, which wrote values into a refused one's error. */
  private client?: unknown;

  constructor(private readonly onSent: (sql: string) => void) {}

  listen(on: Knex | Knex.Transaction): void {
    this.client = on.client;
    on.on('query', this.sent).on('query-response', this.answered).on('query-error', this.refused);
  }

  unlisten(on: Knex | Knex.Transaction): void {
    on.removeListener('query', this.sent).removeListener('query-response', this.answered).removeListener('query-error', this.refused);
  }

  /** Whether the failed migration left changes that its rollback did not undo. */
  leftChanges(transactional: boolean, transactionalDdl: boolean): boolean {
    const any = this.ran.length > 0 || this.unanswered.length > 0;
    // In a transaction, only MySQL's implicit commits keep anything: the DDL's own, and what ran before or after it.
    return transactional ? any && this.ddlSent && !transactionalDdl : any;
  }

  /** What may have changed the database, for the repair: the statements answered, then any still unanswered. */
  changed(): string[] {
    return [...this.ran, ...this.unanswered.map((sql) => `${sql} -- sent, not answered when the migration failed`)];
  }

  private readonly sent = (q: QueryData) => {
    if (!changesDatabase(q.sql)) return;
    this.unanswered.push(q.sql);
    if (DDL.test(q.sql)) this.ddlSent = true;
    this.onSent(q.sql);
  };

  private readonly answered = (_response: unknown, q: QueryData) => {
    if (!changesDatabase(q.sql)) return;
    this.settle(q.sql);
    this.ran.push(q.sql);
  };

  private readonly refused = (err: unknown, q: QueryData) => {
    if (!changesDatabase(q.sql)) return;
    this.settle(q.sql);
    withoutValues(err, q, this.client);
  };

  private settle(sql: string): void {
    const i = this.unanswered.indexOf(sql);
    if (i >= 0) this.unanswered.splice(i, 1);
  }
}

/**
 * knex puts the failed statement at the head of the driver's error, with its values written in
 * (`insert … values ('secret') - Table … doesn't exist`); the migration's record takes its text from
 * that error, so the statement goes back to its placeholders there. Our own connections ask knex not
 * to (compileSqlOnError: false); an app's own Knex instance may not.
 */
function withoutValues(err: unknown, q: QueryData, client: unknown): void {
  if (!(err instanceof Error) || !q.bindings?.length) return;
  const shown = withValues(q, client);
  if (shown !== undefined && shown !== q.sql && err.message.startsWith(`${shown} - `)) err.message = q.sql + err.message.slice(shown.length);
}

/** The statement as knex writes it into an error (its formatQuery): each `?` replaced by its value, escaped by the client. */
function withValues(q: QueryData, client: unknown): string | undefined {
  const escape = (client as { _escapeBinding?: (value: unknown, options: object) => string } | undefined)?._escapeBinding;
  if (typeof escape !== 'function') return undefined;
  const bindings = q.bindings ?? [];
  let i = 0;
  try {
    return q.sql.replace(/\\?\?/g, (match) => (match === '\\?' ? '?' : i === bindings.length ? match : escape.call(client, bindings[i++], { timeZone: undefined })));
  } catch {
    return undefined;
  }
}

/** Races `work` against `ms`; on time-out runs `onTimeout` (to free the connection) and rejects. */
async function within<T>(work: Promise<T>, ms: number | undefined, stoppable: boolean, onTimeout?: () => Promise<void>): Promise<T> {
  if (!ms) return work;
  let timer: NodeJS.Timeout | undefined;
  // Made when the time is up, not before: an Error captures a stack, ~30 µs for each of 1000 migrations.
  let timedOut: MigrationTimeoutError | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject((timedOut = new MigrationTimeoutError(ms, stoppable))), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } catch (err) {
    if (timedOut && err === timedOut) await onTimeout?.().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function invoke(migration: Migration, direction: Direction, knex: Knex): Promise<void> {
  const fn = direction === 'up' ? migration.up : migration.down;
  if (typeof fn !== 'function') throw new MigrationsError(`the migration has no ${direction}()`);
  try {
    await fn.call(migration, knex);
  } catch (err) {
    // knex treats a transaction handler rejecting with `undefined` as a plain rollback and
    // resolves it: the failure would pass for success. Only Errors leave a migration.
    throw err instanceof Error ? err : new ThrownValue(err);
  }
}

/** A non-Error value thrown by a migration, carried as an Error. */
class ThrownValue extends Error {
  constructor(readonly value: unknown) {
    super(describeError(value));
  }
}

/**
 * Runs the steps inside one transaction that is always rolled back, collecting the SQL.
 * Nothing is written, not even history rows.
 */
/**
 * Runs one migration's up() or down() on a scratch database (the shadow), in a transaction of its
 * own unless it opts out, and keeps the SQL it sent; nothing is recorded anywhere.
 */
export async function tryOn(knex: Knex, migration: Migration, direction: Direction, timeoutMs?: number): Promise<{ sql: string[]; error?: unknown }> {
  const sql: string[] = [];
  const listener = (q: { sql: string }) => sql.push(q.sql);
  try {
    if (migration.transaction === false) {
      knex.on('query', listener);
      try {
        await within(invoke(migration, direction, knex), timeoutMs, false);
      } finally {
        knex.removeListener('query', listener);
      }
    } else {
      await knex.transaction(async (trx) => {
        trx.on('query', listener);
        await within(invoke(migration, direction, trx), timeoutMs, true);
      });
    }
    return { sql };
  } catch (error) {
    return { sql, error };
  }
}

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
    let bindings: string;
    try {
      bindings = JSON.stringify(q.bindings);
    } catch {
      bindings = String(q.bindings);
    }
    return `${q.sql} -- bindings: ${bindings}`;
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

/** A run that left sources out for their problems: not ok, saying which, with their steps not run. */
export function withBlocked(report: RunReport, blocked: readonly Step[], problems: readonly Problem[], alsoSources: readonly string[] = []): RunReport {
  const sources = [...new Set([...blocked.map((s) => s.source.id), ...alsoSources])];
  const error = `Not run: ${sources.join(', ')} (${plural(problems.length, 'problem')} to fix first: ${problems.map((p) => `${p.file}:${p.line} ${p.message}`).join('; ')}).`;
  return {
    ...report,
    ok: false,
    steps: [...report.steps, ...blocked.map((s) => reportOf(s, 'not-run'))],
    error: report.error ? `${report.error}\n${error}` : error,
    errorText: report.errorText && [...report.errorText, `\n${error}`],
    problems,
  };
}
