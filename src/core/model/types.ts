import type { Knex } from 'knex';

/** What a migration file's `getMigration()` must return (a class or an instance). */
export interface Migration {
  readonly version: number;
  readonly description: string;
  up(knex: Knex): Promise<void> | void;
  down?(knex: Knex): Promise<void> | void;
  /** Default true: `up`/`down` and the history row commit in one transaction. */
  readonly transaction?: boolean;
  /** The environments it runs in (`migrations.environment`, `--env`); unset: every one. A run for another records it as skipped. */
  readonly environments?: readonly string[];
  /** Labels a run may select (`--tag`): a run that names tags skips tagged migrations with none of them; untagged ones always run. */
  readonly tags?: readonly string[];
}

/** Receives the engine's log lines; a VS Code `LogOutputChannel` fits it as is. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export type Severity = 'error' | 'warning';

/** A problem found in a migration file. Lines and columns are 1-based. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: Severity;
  /** Stable, documented code, e.g. `missing-get-migration`. */
  readonly code: ProblemCode;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

export type ProblemCode =
  | 'bad-file-name'
  | 'missing-get-migration'
  | 'syntax-error'
  | 'unresolved-import'
  | 'load-error'
  | 'get-migration-threw'
  | 'bad-shape'
  | 'version-mismatch'
  | 'duplicate-version'
  | 'missing-down'
  | 'unreadable'
  /** The history holds a row of this source that Migration Manager did not write: the source is not run until it is fixed. */
  | 'unreadable-history'
  /** This folder's files match the applied history of a source no folder holds any more: it was moved or renamed. */
  | 'moved-source'
  /** Status warnings the editor shows on the file (from the history, not the file alone). */
  | 'modified'
  | 'out-of-order'
  /** A migration file its folder's migrations.sum does not list: added (or merged in) without a rehash. */
  | 'sum-added'
  /** A migration file whose content differs from its line in migrations.sum: edited after the sum was written. */
  | 'sum-edited'
  /** A line of migrations.sum whose file is gone. */
  | 'sum-removed'
  /** migrations.sum's first line does not hash the lines below it: the sum was edited by hand. */
  | 'sum-tampered'
  /** migrations.sum cannot be read as a sum (e.g. git conflict markers left in it). */
  | 'sum-invalid'
  /** A source folder that is (or is reached through) a link out of the workspace: nothing in it is read, run or written. */
  | 'outside-workspace';

export type MigrationStatus =
  | 'applied'
  | 'pending'
  | 'failed'
  /** The last attempt failed and left changes that were not rolled back: repair by hand. */
  | 'failed-partial'
  /**
   * The last attempt ran outside a transaction (or made DDL that MySQL commits at once) and never
   * recorded how it ended: its process was killed or crashed mid-way. Repair by hand, as failed-partial.
   */
  | 'interrupted'
  | 'modified'
  | 'missing'
  | 'invalid'
  | 'out-of-order'
  /** Not applied: it is for other environments (or tags) than the run's, which recorded it as skipped. */
  | 'skipped';

export type Direction = 'up' | 'down';

/** One migration file found on disk, after static checks (nothing executed). */
export interface MigrationFile {
  readonly version: number;
  /** Snake-case description from the file name. */
  readonly name: string;
  readonly path: string;
  readonly checksum: string;
  readonly problems: readonly Problem[];
  /** True when the file exports `down` as far as static checks can tell (undefined: unknown). */
  readonly hasDown?: boolean;
  /** The `description` literal, when static checks can read one (no code is run for it). */
  readonly description?: string;
  /** Literal `environments`/`tags` arrays, when static checks can read them (no code is run for them). */
  readonly environments?: readonly string[];
  readonly tags?: readonly string[];
  /** Set for migrations supplied in code through `registerMigrations()` (no file). */
  readonly instance?: Migration;
}

/** A `versions/` folder and what static discovery found in it. */
export interface Source {
  /** Stable id stored in history: the folder's path relative to the workspace, with `/`. */
  readonly id: string;
  readonly dir: string;
  readonly migrations: readonly MigrationFile[];
  /** Problems not tied to one migration (files with bad names). */
  readonly problems: readonly Problem[];
}

/** One row of `migration_history`. */
export interface HistoryRow {
  readonly id: number;
  readonly source: string;
  readonly version: number;
  readonly description: string;
  readonly checksum: string | null;
  readonly direction: Direction;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly success: boolean;
  readonly error: string | null;
  /** False when the migration ran outside a transaction (`transaction: false`). */
  readonly transactional: boolean;
  /** A failed attempt whose changes were (at least partly) NOT rolled back. */
  readonly partial: boolean;
  /** Recorded by `mark-applied` or `forget`: nothing was run. */
  readonly manual: boolean;
  /** A run passed over it (not its environment or tags): nothing was run and it is not applied. */
  readonly skipped: boolean;
  /**
   * Written before a migration whose changes its rollback would not undo ran its first statement
   * (success false, partial true), and replaced by the outcome when it ends: still set, the
   * attempt never ended (its process was killed or crashed, or it is running now).
   */
  readonly running: boolean;
  /** The statements a plugin schema's change ran, one per line, each ending in `;` (set on those rows only). */
  readonly statements?: string;
}

/**
 * History rows of a source that cannot be trusted, and what is wrong with them: a row Migration
 * Manager did not write, or (`duplicate`) a second run applying a migration already applied.
 */
export interface UnreadableRow {
  readonly source: string;
  readonly text: string;
  readonly duplicate?: boolean;
}

/** A row to append; `id` is assigned by the database. */
export type NewHistoryRow = Omit<HistoryRow, 'id' | 'partial' | 'manual' | 'skipped' | 'running'> & { readonly partial?: boolean; readonly manual?: boolean; readonly skipped?: boolean };

/** What `status` reports for one migration. */
export interface MigrationState {
  readonly source: string;
  readonly version: number;
  readonly description: string;
  readonly path: string | null;
  /** SHA-256 of the file on disk (line endings normalised); null when it is missing. */
  readonly checksum: string | null;
  readonly status: MigrationStatus;
  /** True while a successful `up` is in effect (whatever the status shows first). */
  readonly applied: boolean;
  readonly problems: readonly Problem[];
  /** Last successful `up` still in effect. */
  readonly appliedAt: string | null;
  readonly durationMs: number | null;
  /** Error of the last attempt, when it failed. */
  readonly lastError: string | null;
  /** The environments and tags it declares, as far as known without running it. */
  readonly environments?: readonly string[];
  readonly tags?: readonly string[];
  /** When a run last passed over it (not applied since). */
  readonly skippedAt?: string;
}

export interface LockHolder {
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  readonly heartbeat: string;
}
