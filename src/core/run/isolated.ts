import { CancelledError, ConfigError, describeError, InvalidMigrationsError, MigrationRunError, MigrationsError, MigrationTimeoutError, type ErrorCode, type ErrorFacts, type ErrorText } from '../model/errors';
import type { RunEvents, RunReport, StepInfo, StepReport } from './runner';
import type { Settings } from '../config/settings';
import type { ProjectConfig } from '../config/project';
import type { Logger, Problem } from '../model/types';
import { plural } from '../model/naming';
import { RunnerThread, type LastResort } from './thread';

/**
 * How to start the process that executes migration files: VS Code's own runtime
 * (`process.execPath` with `ELECTRON_RUN_AS_NODE=1`, as language clients start their servers), or
 * the CLI's Node. `entry` is the bundled `runner.js`.
 */
export interface IsolateOptions {
  readonly execPath: string;
  readonly entry: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Runtime flags for the child (the CLI's Node; VS Code's runtime is started without any). */
  readonly execArgv?: readonly string[];
  /**
   * Run `entry` on a worker thread of this process instead of a child process (the CLI): one
   * Node heap fewer. Terminating the thread stops a synchronous loop and closes its connections
   * (SQLite rolls the open transaction back); only a single native call that never returns (a
   * long SQLite statement) outlives it, and then the whole process has to end (see thread.ts).
   */
  readonly thread?: { readonly maxYoungGenerationSizeMb?: number };
}

/** What runInChild needs of the process or thread that runs the engine. */
export interface RunnerProcess {
  readonly connected: boolean;
  readonly pid?: number;
  send(message: ParentMessage<unknown>): void;
  /**
   * Ends it at once. `lastResort` is for a runner that shares this process: if it cannot be ended
   * alone, the process ends, after saying so and handing the record of the stopped migration on
   * (without one, a runner that cannot be ended is left to end when it can).
   */
  kill(signal?: NodeJS.Signals, lastResort?: () => LastResort): void;
  on(event: 'message', listener: (message: ChildMessage) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/** What the child needs to build the same engine (plain data: it crosses a pipe). */
export interface ChildEngineConfig {
  readonly workspace: string;
  readonly settings: Settings;
  readonly db?: string;
  readonly runner?: string;
  readonly templatesDir?: string;
  /** Use the CLI's parse/transpile cache in the user's cache folder. */
  readonly cache: boolean;
  /** A server password from the editor's secret storage, sent over the pipe, never in argv or env. */
  readonly password?: string;
  /**
   * The workspace's `migrations.config.*`: as plain data when it holds no code (the parent executed
   * it once), or `true`: the child executes it (its migrations in code and hooks cannot cross).
   */
  readonly project?: ProjectConfig | true;
}

/** Messages from the child. */
export type ChildMessage =
  | { readonly type: 'started'; readonly steps: readonly StepReport[] }
  | { readonly type: 'before'; readonly step: StepReport; readonly index: number; readonly total: number; readonly info: StepInfo }
  | { readonly type: 'partial-risk'; readonly index: number }
  | { readonly type: 'after'; readonly step: StepReport; readonly index: number; readonly total: number }
  | { readonly type: 'log'; readonly level: keyof Logger; readonly message: string }
  /** A migration's tries on a shadow database begin (verify, lint, drift), or end (`step` unset). */
  | { readonly type: 'trying'; readonly step?: { readonly source: string; readonly version: number } }
  | { readonly type: 'result'; readonly value: unknown }
  | { readonly type: 'error'; readonly error: SerializedError };

/** Messages to the child: `Request` is what the operations table says it may be asked. */
export type ParentMessage<Request> = { readonly type: 'start'; readonly config: ChildEngineConfig; readonly request: Request } | { readonly type: 'cancel' };

/** An error as data, to cross the pipe: its code, facts and text come out the same on the other side. */
export interface SerializedError {
  readonly name: string;
  readonly code: ErrorCode;
  readonly facts: ErrorFacts;
  readonly text: ErrorText;
  readonly problems?: readonly Problem[];
}

export function serializeError(err: unknown): SerializedError {
  const own = err instanceof MigrationsError ? err : undefined;
  return {
    name: own?.name ?? 'Error',
    code: own?.code ?? 'error',
    facts: own?.facts ?? {},
    text: own?.text ?? [describeError(err)],
    problems: err instanceof InvalidMigrationsError ? err.problems : undefined,
  };
}

function deserializeError(e: SerializedError): Error {
  if (e.problems) return new InvalidMigrationsError(e.problems);
  // Its code too: a usage error found in the child is one (the CLI exits 2 on it).
  if (e.name === 'ConfigError') return new ConfigError(e.text, e.facts, e.code === 'usage' ? 'usage' : 'config');
  const err = new MigrationsError(e.text, { code: e.code, facts: e.facts });
  if (e.name !== 'Error') err.name = e.name;
  return err;
}

/** A migration stopped from outside (killed on time-out or cancel): what to write into the history. */
export interface StoppedStep {
  readonly step: StepReport;
  readonly info: StepInfo;
  readonly startedAt: Date;
  readonly partial: boolean;
  readonly error: string;
}

export interface ChildRunOptions {
  readonly events?: RunEvents;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** One up()/down() longer than this (plus a grace for the child's own clean stop) ends the child. */
  readonly timeoutMs: number;
  /** Records a migration whose process was ended, with the lock taken over from the dead child. */
  readonly recordStopped: (stopped: StoppedStep) => Promise<void>;
  /**
   * A cancel ends the child at once, whatever it is doing: for work on a shadow database, which
   * has nothing to record or roll back (and may be stuck in a migration's synchronous loop).
   */
  readonly killOnCancel?: boolean;
  /** What a runner that ended without answering (stopped, or died) may have left behind: dropped here, by its pid. */
  readonly leftBehind?: (pid: number) => Promise<void>;
}

/**
 * The child stops an async migration itself when it times out (cancelling its statement and
 * rolling back cleanly); only one that keeps the child's thread busy (a synchronous loop, a long
 * statement on a synchronous driver) is still running this long after, and the child is ended.
 */
export const KILL_GRACE_MS = 2000;

/**
 * A runner has answered and closed its channel: it ends within milliseconds unless something a
 * migration started keeps its event loop alive (a timer, a socket). Past this, it is ended, or the
 * CLI (and the editor's Apply) would wait on it for ever.
 */
export const SETTLED_GRACE_MS = 1000;

/**
 * Runs one engine operation in a child process and streams its progress back. A cancel, or a
 * migration past its time limit, ends the child: the database rolls that migration's
 * transaction back (the process and its connection are gone), and the failure is recorded here.
 */
export async function runInChild<T, Request>(child: RunnerProcess, config: ChildEngineConfig, request: Request, opts: ChildRunOptions): Promise<T> {
  let steps: StepReport[] = [];
  let running: { index: number; info: StepInfo; startedAt: Date; partial: boolean } | undefined;
  let stopping: { reason: 'timeout' | 'cancel' } | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let settled: { value?: unknown; error?: SerializedError } | undefined;
  let trying: { source: string; version: number } | undefined;
  let lingering: NodeJS.Timeout | undefined;
  const answered = (answer: { value?: unknown; error?: SerializedError }) => {
    settled = answer;
    lingering = setTimeout(() => {
      opts.logger.warn(`The migrations runner was still running ${SETTLED_GRACE_MS / 1000} s after it finished (a timer or a connection a migration left open?); it was stopped. Clear timers and close connections before up() and down() return.`);
      child.kill('SIGKILL');
    }, SETTLED_GRACE_MS);
  };

  const stop = (reason: 'timeout' | 'cancel') => {
    if (stopping || settled) return;
    stopping = { reason };
    child.kill('SIGKILL', () => {
      if (!running) return { message: uninterruptible(reason, opts.timeoutMs, undefined, trying) };
      const stop = stoppedStep(reason, steps, running, opts.timeoutMs);
      // No password in a helper's environment (a SQLite statement is the only thing that gets here).
      return { message: uninterruptible(reason, opts.timeoutMs, stop, trying), record: { pid: process.pid, config: { ...config, password: undefined }, stopped: stop } };
    });
  };
  const onAbort = () => (running || opts.killOnCancel ? stop('cancel') : send(child, { type: 'cancel' }));
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  child.on('message', (m: ChildMessage) => {
    switch (m.type) {
      case 'started':
        steps = [...m.steps];
        return opts.events?.started?.(m.steps);
      case 'before':
        running = { index: m.index, info: m.info, startedAt: new Date(), partial: false };
        if (opts.timeoutMs > 0) watchdog = setTimeout(() => stop('timeout'), opts.timeoutMs + KILL_GRACE_MS);
        return opts.events?.beforeMigration?.(m.step, m.index, m.total, m.info);
      case 'partial-risk':
        if (running) running.partial = true;
        return opts.events?.partialRisk?.(m.index);
      case 'after':
        clearTimeout(watchdog);
        running = undefined;
        steps[m.index] = m.step;
        return opts.events?.afterMigration?.(m.step, m.index, m.total);
      case 'log':
        return opts.logger[m.level](m.message);
      case 'trying':
        // Up, down and up again on the shadow: each try has the limit, and the child stops an async one itself.
        clearTimeout(watchdog);
        trying = m.step;
        if (trying && opts.timeoutMs > 0) watchdog = setTimeout(() => stop('timeout'), 3 * opts.timeoutMs + KILL_GRACE_MS);
        return;
      case 'result':
        return answered({ value: m.value });
      case 'error':
        return answered({ error: m.error });
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  send(child, { type: 'start', config, request });
  try {
    const { code, signal } = await exited;
    if (!settled && opts.leftBehind && child.pid !== undefined) {
      await opts.leftBehind(child.pid).catch((err: unknown) => opts.logger.warn(`Could not clean up after the stopped migrations runner: ${describeError(err)}`));
    }
    if (settled?.error) throw deserializeError(settled.error);
    if (settled) return settled.value as T;
    if (stopping?.reason === 'timeout' && trying) {
      throw new MigrationsError(`Migration ${trying.version} (${trying.source}) kept the process trying it on a shadow database busy past migrations.migrationTimeoutMs (${opts.timeoutMs} ms, a synchronous loop?); the process was stopped. Nothing but the shadow was touched.`, { code: 'timeout', facts: { source: trying.source, version: trying.version } });
    }
    if (stopping && opts.killOnCancel) throw new MigrationsError('Cancelled: the process trying the migrations on a shadow database was stopped. Nothing but the shadow was touched.', { code: 'error' });
    if (stopping && running) return (await stopped(stopping.reason, steps, running, opts)) as T;
    if (stopping) return { ok: false, steps, cancelled: true, error: `Cancelled after ${steps.filter((s) => s.outcome === 'done').length} of ${plural(steps.length, 'migration')}.` } as T;
    throw new MigrationsError(`The process running the migrations ended unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}). Check the database's status before running again: a migration that was running was rolled back if it ran in a transaction.`);
  } finally {
    clearTimeout(watchdog);
    clearTimeout(lingering);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Starts the runner child, which loads its bundle while waiting for a request: a run forks it
 * before its own checks, so the two overlap. `kill()` it when there is nothing to ask after all.
 */
export function forkRunner(isolate: IsolateOptions): RunnerProcess {
  if (isolate.thread) return new RunnerThread(isolate.entry, KILL_GRACE_MS, isolate.thread.maxYoungGenerationSizeMb);
  // Required here, not at the top: a status never starts a child, and loading it costs ~1.5 ms.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fork } = require('node:child_process') as typeof import('node:child_process');
  return fork(isolate.entry, [], {
    execPath: isolate.execPath,
    execArgv: [...(isolate.execArgv ?? [])],
    env: isolate.env ?? process.env,
    // JSON over the pipe: settings from VS Code are read-only proxies, which structured clone refuses.
    // What migration code prints goes to stderr (fd 2), never into the parent's own output.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
}

/** The migration that was running when its runner was ended, as it is recorded. */
function stoppedStep(reason: 'timeout' | 'cancel', steps: StepReport[], running: { index: number; info: StepInfo; startedAt: Date; partial: boolean }, timeoutMs: number): StoppedStep & { readonly text: ErrorText } {
  const step = steps[running.index];
  const cause = reason === 'timeout' ? new MigrationTimeoutError(timeoutMs, true) : new CancelledError();
  const failure = new MigrationRunError(step.source, step.version, step.direction, step.path ?? undefined, running.info.transactional, cause, running.partial);
  return { step, info: running.info, startedAt: running.startedAt, partial: running.partial, error: failure.message, text: failure.text };
}

/** Records the migration that was running when its process was ended, and reports the run. */
async function stopped(reason: 'timeout' | 'cancel', steps: StepReport[], running: { index: number; info: StepInfo; startedAt: Date; partial: boolean }, opts: ChildRunOptions): Promise<RunReport> {
  const stop = stoppedStep(reason, steps, running, opts.timeoutMs);
  await opts.recordStopped(stop);
  steps[running.index] = { ...stop.step, outcome: 'failed', durationMs: Date.now() - running.startedAt.valueOf(), error: stop.error };
  opts.events?.afterMigration?.(steps[running.index], running.index, steps.length);
  opts.logger.error(stop.error);
  return { ok: false, steps, error: stop.error, errorText: stop.text, cancelled: reason === 'cancel' || undefined };
}

/** What a process says as it ends itself because its runner thread is stuck in one native call. */
function uninterruptible(reason: 'timeout' | 'cancel', timeoutMs: number, running: StoppedStep | undefined, trying: { source: string; version: number } | undefined): string {
  const which = running?.step ?? trying;
  const what = which ? `Migration ${which.version} (${which.source})` : 'A migration';
  const why = reason === 'timeout' ? `past migrations.migrationTimeoutMs (${timeoutMs} ms)` : 'when it was cancelled';
  const outcome = !running
    ? 'nothing but the shadow database was touched'
    : `${running.info.transactional ? 'the database rolls its transaction back' : 'what it changed before this statement stays (it runs outside a transaction)'}, and a helper process records it as ${running.partial ? 'failed-partial' : 'failed'} once this one is gone (the lock is taken over)`;
  return `${what} was inside one database statement ${why}, which SQLite cannot interrupt. This process ends now: ${outcome}.`;
}

function send(child: RunnerProcess, message: ParentMessage<unknown>): void {
  if (child.connected) child.send(message);
}
