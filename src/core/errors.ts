import type { Direction, LockHolder, Problem } from './types';

/** Base of every error the engine throws on purpose; `message` is always fit to show a user. */
export class MigrationsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting or flag is wrong. */
export class ConfigError extends MigrationsError {}

/** Files that must be fixed before anything can run. */
export class InvalidMigrationsError extends MigrationsError {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `${problems.length} migration problem(s) must be fixed before running:\n` +
        problems.map((p) => `  ${p.file}:${p.line}:${p.column} ${p.message}`).join('\n'),
    );
  }
}

/** `up()` or `down()` threw; its changes were rolled back unless it ran outside a transaction. */
export class MigrationRunError extends MigrationsError {
  constructor(
    readonly source: string,
    readonly version: number,
    readonly direction: Direction,
    readonly file: string | undefined,
    readonly transactional: boolean,
    cause: unknown,
  ) {
    const advice = transactional
      ? 'Its changes were rolled back; fix the migration and run again.'
      : 'It ran outside a transaction (transaction: false), so part of it may have been applied: repair the schema by hand before running again.';
    super(`Migration ${version} (${source}) failed during ${direction}(): ${describeError(cause)}. ${advice}`, { cause });
  }
}

/** Another runner holds the database lock. */
export class LockBusyError extends MigrationsError {
  constructor(readonly holder: LockHolder, waitedMs: number) {
    super(
      `The database is locked by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${holder.acquiredAt}, ` +
        `last heartbeat ${holder.heartbeat}; waited ${Math.round(waitedMs / 1000)} s. Wait for it to finish, or if that process is gone run "migrations unlock" ("unlock --force" to release a live lock).`,
    );
  }
}

/** Text for any thrown value: never `[object Object]`. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object') {
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    try {
      return JSON.stringify(err);
    } catch {
      /* circular: fall through */
    }
  }
  return String(err);
}
