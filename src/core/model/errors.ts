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

/**
 * `up()` or `down()` threw (or timed out). Transactional changes were rolled back, except when
 * `partial`: the migration ran outside a transaction, or MySQL committed its DDL implicitly.
 */
export class MigrationRunError extends MigrationsError {
  constructor(
    readonly source: string,
    readonly version: number,
    readonly direction: Direction,
    readonly file: string | undefined,
    readonly transactional: boolean,
    cause: unknown,
    /** Changes were made that were NOT rolled back. */
    readonly partial = false,
    /** What changed the database before the failure, for the repair. */
    readonly statements: readonly string[] = [],
  ) {
    const what = `Migration ${version} (${source}) failed during ${direction}()`;
    let text: string;
    if (!partial) {
      text = `${what}: ${describeError(cause)}. ` + (transactional
        ? 'Its changes were rolled back; fix the migration and run again.'
        : 'It ran outside a transaction (transaction: false), but no statement had changed the database yet; fix the migration and run again.');
    } else {
      const why = transactional
        ? 'MySQL/MariaDB commits schema changes immediately, so they were NOT rolled back.'
        : 'It ran outside a transaction (transaction: false), so the statements that ran were NOT rolled back.';
      text = `${what} after changing the ${transactional ? 'schema' : 'database'}: ${describeError(cause)}. ${why} ${repairAdvice(source, version, direction)}`;
      text += formatStatements(statements);
    }
    super(text, { cause });
  }
}

/** What to do about a migration left half-done: repair by hand, then record the outcome. */
export function repairAdvice(source: string, version: number, direction: Direction): string {
  const mark = `"migrations mark-applied ${version} --source ${source}"`;
  const forget = `"migrations forget ${version} --source ${source}"`;
  const seen = 'Repair the database by hand (the statements that ran are listed in the history)';
  return direction === 'up'
    ? `${seen}, then either finish what up() does and run ${mark}, or undo what ran and run ${forget} so that the next "up" runs it again.`
    : `${seen}, then either finish the rollback and run ${forget}, or restore what down() removed and run ${mark} so that it counts as applied again.`;
}

const MAX_STATEMENTS = 20;
const MAX_STATEMENT_CHARS = 500;

function formatStatements(statements: readonly string[]): string {
  if (statements.length === 0) return '';
  const shown = statements.slice(0, MAX_STATEMENTS).map((q) => `  ${q.length > MAX_STATEMENT_CHARS ? q.slice(0, MAX_STATEMENT_CHARS) + '…' : q};`);
  const more = statements.length > MAX_STATEMENTS ? [`  … and ${statements.length - MAX_STATEMENTS} more`] : [];
  return ['', 'Statements that ran before the failure:', ...shown, ...more].join('\n');
}

/** A migration's up()/down() did not settle within `migrations.migrationTimeoutMs`. */
export class MigrationTimeoutError extends MigrationsError {
  constructor(readonly timeoutMs: number, stoppable = true) {
    const end = stoppable ? 'was stopped' : 'was given up on (outside a transaction it cannot be stopped: it may still be running)';
    super(`it did not finish within ${timeoutMs} ms (setting migrations.migrationTimeoutMs; 0 turns the limit off) and ${end}`);
  }
}

/** `migration_history` holds rows Migration Manager never writes; reading them would be a guess. */
export class CorruptHistoryError extends MigrationsError {
  constructor(where: string, readonly rows: readonly string[]) {
    const shown = rows.slice(0, 5).join('; ') + (rows.length > 5 ? `; and ${rows.length - 5} more` : '');
    super(
      `The table migration_history in ${where} holds ${rows.length} row(s) Migration Manager did not write (${shown}). ` +
        'Nothing was changed. Fix or delete those rows (e.g. in the sqlite3 shell), or restore the database from a backup, then run again.',
    );
  }
}

/** The database itself failed (cannot open, locked, read-only, not a database…). */
export class DatabaseError extends MigrationsError {
  constructor(message: string, readonly code: string | undefined, cause: unknown) {
    super(message, { cause });
  }
}

/** Another runner holds the database lock. */
export class LockBusyError extends MigrationsError {
  constructor(
    readonly holder: LockHolder,
    waitedMs: number,
    advice = 'Wait for it to finish, or if that process is gone run "migrations unlock" ("unlock --force" to release a live lock).',
  ) {
    super(
      `The database is locked by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${holder.acquiredAt}, ` +
        `last heartbeat ${holder.heartbeat}; waited ${Math.round(waitedMs / 1000)} s. ${advice}`,
    );
  }
}

/** Text for any thrown value: never `[object Object]`, never empty. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || `${err.name} (without a message)`;
  if (typeof err === 'string') return err || 'an empty string was thrown';
  if (err === undefined || err === null) return `${String(err)} was thrown instead of an Error`;
  if (typeof err === 'object') {
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
    let json: string | undefined;
    try {
      json = JSON.stringify(err);
    } catch {
      /* circular, or a BigInt inside */
    }
    const kind = err.constructor && err.constructor !== Object ? `an object of class ${err.constructor.name}` : 'an object';
    if (json === undefined) return `${kind} that cannot be shown as JSON (circular?) was thrown instead of an Error`;
    return json === '{}' ? `${kind} with no message or fields was thrown instead of an Error` : `${json} (${kind} was thrown instead of an Error)`;
  }
  return `${String(err)} (a ${typeof err} was thrown instead of an Error)`;
}
