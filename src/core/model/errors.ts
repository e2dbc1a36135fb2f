import type { Direction, LockHolder, Problem } from './types';
import { plural } from './naming';

/** A stable code per kind of error: front ends and scripts branch on it, never on the wording. */
export type ErrorCode =
  /** A setting or the configuration is wrong. */
  | 'config'
  /** The request itself is incomplete or ambiguous: an option the call does not take, several sources and none named (the CLI exits 2). */
  | 'usage'
  /** Files must be fixed before anything runs (`problems`). */
  | 'invalid-migrations'
  /** up() or down() threw or timed out (facts: source, version, direction, file). */
  | 'migration-failed'
  /** A migration left half-done blocks the run until the repair is recorded. */
  | 'half-done'
  | 'timeout'
  | 'corrupt-history'
  /** Files match the applied history of a source no folder holds any more (a moved folder): not applied again. */
  | 'moved-source'
  /** The database failed: cannot open it, locked by another program, read-only, not a database. */
  | 'database'
  /** Another runner holds the migration lock (facts.holder). */
  | 'lock-busy'
  /** Any other error raised on purpose. */
  | 'error';

/** What an error is about, as data. */
export interface ErrorFacts {
  readonly source?: string;
  readonly version?: number;
  readonly direction?: Direction;
  readonly holder?: LockHolder;
  readonly file?: string;
  readonly line?: number;
}

/** An action advice names: each front end says it in its own terms (a flag, a command, a button). */
export type Advice =
  | { readonly do: 'mark-applied' | 'forget'; readonly source: string; readonly version: number }
  | { readonly do: 'unlock'; readonly force: boolean }
  /** Several sources: name the one meant. */
  | { readonly do: 'name-source' }
  /** Where to see what was applied. */
  | { readonly do: 'see-status' }
  /** Point the engine at another SQLite file. */
  | { readonly do: 'choose-database' }
  /** Open or pass an existing workspace folder. */
  | { readonly do: 'choose-workspace' }
  /** Move the applied history of a source no folder holds any more to the folder it moved to. */
  | { readonly do: 'rename-source'; readonly from: string; readonly to: string }
  /** Run anyway: the caller says the check does not apply (`up`'s option of that name). */
  | { readonly do: 'override'; readonly flag: 'not-moved' | 'allow-sum-mismatch' | 'allow-destructive' }
  /** Rewrite each source's migrations.sum from its files. */
  | { readonly do: 'rehash' };

/** An error's text: words, and the actions in it for a front end to name. Plain data: it crosses to and from the runner child. */
export type ErrorText = readonly (string | Advice)[];

/** How a front end names the actions advice refers to. */
export type Terms = (advice: Advice) => string;

/** The engine's own wording (a library's caller, the history table): no front end's flags or buttons. */
export const PLAIN_TERMS: Terms = (a) => {
  switch (a.do) {
    case 'mark-applied':
      return `record migration ${a.version} (${a.source}) as applied`;
    case 'forget':
      return `record migration ${a.version} (${a.source}) as not applied`;
    case 'unlock':
      return a.force ? 'release the lock by force' : 'release the stale lock';
    case 'name-source':
      return 'name the source';
    case 'see-status':
      return 'the status shows what was applied';
    case 'choose-database':
      return 'point migrations.database at the right file';
    case 'choose-workspace':
      return 'pass an existing folder';
    case 'rename-source':
      return `move it with renameSource("${a.from}", "${a.to}")`;
    case 'override':
      return a.flag === 'allow-destructive' ? 'pass allowDestructive: true to generate()' : `pass ${a.flag === 'not-moved' ? 'notMoved' : 'allowSumMismatch'}: true to up()`;
    case 'rehash':
      return 'rewrite it with rehash()';
  }
};

export function render(text: ErrorText, terms: Terms): string {
  return text.map((part) => (typeof part === 'string' ? part : terms(part))).join('');
}

/** Base of every error the engine throws on purpose; `message` is always fit to show a user (in PLAIN_TERMS). */
export class MigrationsError extends Error {
  readonly code: ErrorCode;
  readonly facts: ErrorFacts;
  readonly text: ErrorText;

  constructor(text: string | ErrorText, options: { cause?: unknown; code?: ErrorCode; facts?: ErrorFacts } = {}) {
    const parts = typeof text === 'string' ? [text] : text;
    super(render(parts, PLAIN_TERMS), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.text = parts;
    this.code = options.code ?? 'error';
    this.facts = options.facts ?? {};
  }

  /** The message in a front end's terms. */
  describe(terms: Terms): string {
    return render(this.text, terms);
  }
}

/** Any thrown value as text, with advice in `terms`. */
export function explain(err: unknown, terms: Terms): string {
  return err instanceof MigrationsError ? err.describe(terms) : describeError(err);
}

/** A setting, or the request itself (code `usage`), is wrong. */
export class ConfigError extends MigrationsError {
  constructor(text: string | ErrorText, facts?: ErrorFacts, code: 'config' | 'usage' = 'config') {
    super(text, { code, facts });
  }
}

/** Files that must be fixed before anything can run. */
export class InvalidMigrationsError extends MigrationsError {
  /** The line above the problems, when not the default; `advice` follows them (what else to do). */
  readonly lead?: string;
  readonly advice?: ErrorText;

  constructor(readonly problems: readonly Problem[], opts: { lead?: string; advice?: ErrorText } = {}) {
    super(
      [`${opts.lead ?? `${plural(problems.length, 'migration problem')} must be fixed before running:`}\n` +
        problems.map((p) => `  ${p.file}:${p.line}:${p.column} ${p.message}`).join('\n'), ...(opts.advice ? ['\n', ...opts.advice] : [])],
      { code: 'invalid-migrations', facts: problems[0] && { file: problems[0].file, line: problems[0].line } },
    );
    this.lead = opts.lead;
    this.advice = opts.advice;
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
    // Not every failure is the migration's: the database failed under it, or the user stopped it.
    const byDatabase = cause instanceof DatabaseError;
    const cancelled = cause instanceof CancelledError;
    const what = `Migration ${version} (${source}) ${byDatabase ? 'was interrupted by the database' : cancelled ? 'was cancelled' : 'failed'} during ${direction}()`;
    const next = byDatabase ? 'the migration itself was not at fault: run again once the database is back.'
      : cancelled ? `nothing needs fixing: run again to ${direction === 'up' ? 'apply' : 'roll back'} it.`
      : 'fix the migration and run again.';
    // A DatabaseError's text is a sentence of its own, with its advice for a front end to name.
    const why: ErrorText = byDatabase ? [' ', ...cause.text] : [` ${describeError(cause)}.`];
    let text: ErrorText;
    if (!partial) {
      text = [`${what}:`, ...why, ' ' + (transactional
        ? `Its changes were rolled back; ${next}`
        : `It ran outside a transaction (transaction: false), but no statement had changed the database yet; ${next}`)];
    } else {
      const kept = transactional
        ? 'MySQL/MariaDB commits schema changes immediately, so they were NOT rolled back.'
        : 'It ran outside a transaction (transaction: false), so the statements that ran were NOT rolled back.';
      text = [`${what} after changing the ${transactional ? 'schema' : 'database'}:`, ...why, ` ${kept} `, ...repairAdvice(source, version, direction), formatStatements(statements)];
    }
    super(text, { cause, code: byDatabase ? 'database' : 'migration-failed', facts: { source, version, direction, file } });
  }
}

/**
 * What to do about a migration left half-done: repair by hand, then record the outcome. `listed`:
 * the history lists the statements that ran (a failure); an interrupted attempt's do not.
 */
export function repairAdvice(source: string, version: number, direction: Direction, listed = true): ErrorText {
  const mark: Advice = { do: 'mark-applied', source, version };
  const forget: Advice = { do: 'forget', source, version };
  const seen = listed ? 'Repair the database by hand (the statements that ran are listed in the history)' : 'Check what it changed and repair the database by hand';
  return direction === 'up'
    ? [`${seen}, then either finish what up() does and `, mark, ', or undo what ran and ', forget, ' so that the next "up" runs it again.']
    : [`${seen}, then either finish the rollback and `, forget, ', or restore what down() removed and ', mark, ' so that it counts as applied again.'];
}

/**
 * The text of the marker a migration whose changes its rollback would not undo commits before its
 * first statement (see HistoryStorage.start): what the history says if its process never records the outcome.
 */
export function interruptedText(source: string, version: number, direction: Direction, transactional: boolean, startedAt: string): ErrorText {
  const why = transactional
    ? 'MySQL/MariaDB commits schema changes at once, together with what ran before them, so what it changed may not have been rolled back.'
    : 'It runs outside a transaction (transaction: false), so what it changed before then stays.';
  return [
    `Migration ${version} (${source}) was interrupted during ${direction}(): it started at ${startedAt} and never recorded how it ended (its process was killed or crashed; or it is still running, while the lock is held). ${why} `,
    ...repairAdvice(source, version, direction, false),
  ];
}

const MAX_STATEMENTS = 20;
const MAX_STATEMENT_CHARS = 500;

function formatStatements(statements: readonly string[]): string {
  if (statements.length === 0) return '';
  const shown = statements.slice(0, MAX_STATEMENTS).map((q) => `  ${q.length > MAX_STATEMENT_CHARS ? q.slice(0, MAX_STATEMENT_CHARS) + '…' : q};`);
  const more = statements.length > MAX_STATEMENTS ? [`  … and ${statements.length - MAX_STATEMENTS} more`] : [];
  return ['', 'Statements that ran before the failure:', ...shown, ...more].join('\n');
}

/** The user stopped a running migration (Cancel, Ctrl-C): not a failure of its code. */
export class CancelledError extends MigrationsError {
  constructor() {
    super('the process running it was stopped');
  }
}

/** A migration's up()/down() did not settle within `migrations.migrationTimeoutMs`. */
export class MigrationTimeoutError extends MigrationsError {
  constructor(readonly timeoutMs: number, stoppable = true) {
    const end = stoppable ? 'was stopped' : 'was given up on (outside a transaction it cannot be stopped: it may still be running)';
    super(`it did not finish within ${timeoutMs} ms (setting migrations.migrationTimeoutMs; 0 turns the limit off) and ${end}`, { code: 'timeout' });
  }
}

/**
 * `migration_history` holds rows Migration Manager never writes, or (`duplicates`) applies one
 * migration twice with no rollback between: reading either would be a guess.
 */
export class CorruptHistoryError extends MigrationsError {
  constructor(where: string, readonly rows: readonly string[], readonly duplicates: readonly string[] = []) {
    const list = (items: readonly string[]) => items.slice(0, 5).join('; ') + (items.length > 5 ? `; and ${items.length - 5} more` : '');
    const what = [
      ...(rows.length > 0 ? [`holds ${rows.length} row(s) Migration Manager did not write (${list(rows)})`] : []),
      ...(duplicates.length > 0 ? [`records ${duplicates.length === 1 ? 'a migration' : `${duplicates.length} migrations`} applied twice (${list(duplicates)})`] : []),
    ];
    super(
      `The table migration_history in ${where} ${what.join(' and ')}. ` +
        'Nothing was changed. Fix or delete those rows (e.g. in the sqlite3 shell), or restore the database from a backup, then run again.',
      { code: 'corrupt-history' },
    );
  }
}

/** The error for history rows that cannot be trusted, each kind in its own words. */
export function corruptHistory(where: string, entries: readonly { text: string; duplicate?: boolean }[]): CorruptHistoryError {
  return new CorruptHistoryError(where, entries.filter((e) => !e.duplicate).map((e) => e.text), entries.filter((e) => e.duplicate).map((e) => e.text));
}

/** `migration_history` is a view (or another kind of object), not the table we made: its rows, and any write to it, would be a guess. */
export function historyNotATable(where: string, kind: string): MigrationsError {
  return new MigrationsError(
    `migration_history in ${where} is a ${kind}, not the table Migration Manager made, so the history cannot be trusted; nothing was changed. ` +
      `Restore the table migration_history (from the ${kind}'s own table, or from a backup) in place of the ${kind}, then run again.`,
    { code: 'corrupt-history' },
  );
}

/** The database itself failed (cannot open, locked, read-only, not a database…). */
export class DatabaseError extends MigrationsError {
  constructor(text: string | ErrorText, readonly driverCode: string | undefined, cause: unknown) {
    super(text, { cause, code: 'database' });
  }
}

/** Another runner holds the database lock. */
export class LockBusyError extends MigrationsError {
  constructor(
    readonly holder: LockHolder,
    waitedMs: number,
    advice: ErrorText = ['Wait for it to finish, or if that process is gone ', { do: 'unlock', force: false }, ' (', { do: 'unlock', force: true }, ' releases a live one).'],
  ) {
    super(
      [`The database is locked by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${holder.acquiredAt}, ` +
        `last heartbeat ${holder.heartbeat}; waited ${Math.round(waitedMs / 1000)} s. `, ...advice],
      { code: 'lock-busy', facts: { holder } },
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
