import { ConfigError, corruptHistory } from '../model/errors';
import type { HistorySnapshot } from '../model/history';
import type { IsolateOptions } from '../run/isolated';
import type { RunEvents } from '../run/runner';
import type { Logger, Source } from '../model/types';
import type { SourcesContext } from './sources';
import type { TargetContext } from './target';

/** What every operation runs with: which migrations, which database, and how this process runs code. */
export interface OpContext {
  readonly sources: SourcesContext;
  readonly target: TargetContext;
  readonly logger: Logger;
  /** Names the lock holder and the schema file's rule: "cli", "editor" or "app". */
  readonly runner?: string;
  /** Folder with the migration templates when the settings name none. */
  readonly templatesDir?: string;
  /** Not trusted (VS Code's Restricted Mode): no operation that executes workspace code runs. */
  readonly untrusted?: boolean;
  /** Run what executes workspace code in a child process or on a worker thread (see perform). */
  readonly isolate?: IsolateOptions;
}

/** What stays in the caller's process: progress callbacks and the cancel signal. */
export interface OpIO {
  readonly events?: RunEvents;
  readonly signal?: AbortSignal;
  /** Each migration's tries on a shadow database begin (and end: undefined). */
  readonly onMigration?: (step: { source: string; version: number } | undefined) => void;
}

/**
 * One thing the engine does, declared once for every front end (MigrationEngine, the CLI, the
 * editor, the runner child). `perform` checks the arguments, refuses code in an untrusted
 * workspace, runs the precheck here and `run` here or in the child: no front end repeats any of it.
 */
export interface Operation<Args = unknown, Result = unknown, Pre = undefined> {
  readonly name: string;
  /**
   * Executes workspace code (migration files, a config's code): what it is, for the refusal in an
   * untrusted workspace. An isolated context runs it in the runner child.
   */
  readonly executesCode?: string;
  /** Works on a shadow database: a cancel ends its runner at once, and what a stopped one left is dropped. */
  readonly onShadow?: boolean;
  /** The arguments as given (plain data, and the OpIO keys it takes), checked: a mistake is a usage error. */
  args(raw: Record<string, unknown>): Args;
  /**
   * Read-only decisions in the caller's process, before any code runs (plain data: it travels with
   * the request to the child, which does not decide them again). `done()` ends the operation here.
   */
  precheck?(ctx: OpContext, args: Args): Promise<Pre | Done<Result>>;
  run(ctx: OpContext, args: Args, pre: Pre, io: OpIO): Promise<Result>;
  /** After the result, in the caller's process only (what the child must not say a second time). */
  finish?(ctx: OpContext, args: Args, pre: Pre, result: Result): Result;
  /** Folder sources the precheck read: sent to the child, which then runs no discovery. */
  discovered?(pre: Pre): readonly Source[] | undefined;
}

/** An operation that neither reads a database nor runs code: called as it is (create, rehash). */
export interface LocalOperation<Args, Result> {
  readonly name: string;
  args(raw: Record<string, unknown>): Args;
  run(ctx: OpContext, args: Args): Result;
}

const DONE = Symbol('done');
export interface Done<R> {
  readonly [DONE]: R;
}

/** A precheck's answer that ends the operation: nothing is left to run. */
export function done<R>(result: R): Done<R> {
  return { [DONE]: result };
}

export function isDone<R>(value: unknown): value is Done<R> {
  return typeof value === 'object' && value !== null && DONE in value;
}

export function resultOf<R>(value: Done<R>): R {
  return value[DONE];
}

/** An option the call does not take is a mistake to report, not to ignore (`down({ version: 3 })` once rolled back everything). */
export function checkOptions(call: string, opts: object, known: readonly string[]): void {
  const unknown = Object.keys(opts).filter((k) => !known.includes(k) && (opts as Record<string, unknown>)[k] !== undefined);
  if (unknown.length > 0) throw new ConfigError(`${call}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; it takes ${known.join(', ')}.`, {}, 'usage');
}

/** Recording by hand is refused while the history holds rows we did not write. */
export function refuseUnreadable(history: HistorySnapshot, where: string): HistorySnapshot {
  if (history.unreadable.length > 0) throw corruptHistory(where, history.unreadable);
  return history;
}

/** Whatever executes a migration file (or a config's code): never in a workspace that is not trusted. */
export function requireTrust(ctx: OpContext, what: string): void {
  if (ctx.untrusted) throw new ConfigError(`${what} executes the workspace's code, and this workspace is not trusted: trust it (Manage Workspace Trust) first.`);
}

