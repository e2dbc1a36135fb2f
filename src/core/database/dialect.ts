import type { Knex } from 'knex';
import type { SchemaDialect } from './generate/columnTypes';
import { isSqlite } from '../config/settings';
import type { HistoryRead } from '../model/history';
import type { Logger } from '../model/types';
import type { Catalog } from './catalog';
import type { DatabaseTarget, OpenMode } from './database';
import { mysqlDialect } from './dialects/mysql';
import { postgresDialect } from './dialects/postgres';
import { sqliteDialect } from './dialects/sqlite';
import type { LockOptions, MigrationLock } from './lock';

/**
 * What differs between the databases, in one object per target, built once (Kysely's dialect
 * adapters are the model): nothing else branches on the client's name. Each database's own is in
 * dialects/; dialectOf is the one place that picks it.
 */
export interface Dialect {
  /** For messages: "SQLite", "PostgreSQL", "MySQL/MariaDB". */
  readonly name: string;
  /** A server, not a file: it may take a password from the editor's secret storage. */
  readonly server: boolean;
  /** Schema changes commit with the transaction; MySQL/MariaDB commit each one at once. */
  readonly transactionalDdl: boolean;
  /** Why the SQL cannot be captured in a transaction that is rolled back; undefined: it can. */
  readonly noDryRun?: string;
  /** One connection at a time (SQLite): a run keeps one transaction object across its migrations. */
  readonly singleConnection: boolean;
  /**
   * An index can be built without blocking writes (PostgreSQL's CREATE INDEX CONCURRENTLY, refused
   * inside a transaction): lint asks for it on a table that exists.
   */
  readonly concurrentIndexes: boolean;
  /** What the declared schema and the migration generator call this database (src/core/database/generate/). */
  readonly generator: SchemaDialect;
  /** The catalog queries introspect() reads a schema with. */
  readonly catalog: Catalog;
  /** Where verify, lint and drift try migrations (see shadow.ts). */
  readonly shadow: ShadowPlace;
  /** knex for `mode` (see OpenMode); undefined for a read of a SQLite file not made yet. */
  open(mode: OpenMode): Knex | undefined;
  /** The lock runners take before writing. */
  lock(knex: Knex, options: LockOptions, logger: Logger): MigrationLock;
  /**
   * Stops a statement a timed-out migration may still be running on the transaction's
   * connection, so that the ROLLBACK queued behind it runs (knex gives up on a ROLLBACK after
   * 5 s and would hand the connection back with the transaction still open). Harmless when
   * nothing runs.
   */
  interrupt(knex: Knex, trx: Knex.Transaction): Promise<void>;
  /** The history and lock read without knex, where the driver allows (the built-in SQLite one); undefined: through knex. */
  readonly quickRead?: (source?: string) => HistoryRead;
}

/**
 * A shadow is never the user's database: a new one in memory on the target's driver (`memory`), or
 * a database of its own on the target's server (`databases`), which shadow.ts creates, takes,
 * empties and drops with the server's SQL.
 */
export type ShadowPlace = { readonly memory: () => Knex } | { readonly databases: ShadowDatabases };

/** A server's SQL for shadow databases; which to create, take, empty or drop is shadow.ts's to decide. */
export interface ShadowDatabases {
  /** The server's databases whose names are LIKE `pattern` (backslash escapes), sorted. */
  named(admin: Knex, pattern: string): Promise<string[]>;
  create(admin: Knex, name: string): Promise<void>;
  /** `leftBehind`: a dead run's, whose sessions may still be open: they are ended, so the drop does not wait on them. */
  drop(admin: Knex, name: string, leftBehind: boolean): Promise<void>;
  /** Every table and view of the connected database, sorted. */
  tables(knex: Knex): Promise<string[]>;
  /** Each named database's tables, from one connection; undefined: the server shows them only to a connection to that database. */
  readonly tablesOfEach?: (admin: Knex, names: readonly string[]) => Promise<Map<string, string[]>>;
  /** The connected database as the server knows it: the same text for the same database, however its name or host was written. */
  identity(knex: Knex): Promise<string>;
  /** Drops every table of the connected schema (database) but `keep`. */
  empty(knex: Knex, keep: string): Promise<void>;
}

export function dialectOf(target: DatabaseTarget): Dialect {
  const dialect = isSqlite(target.client) ? sqliteDialect(target) : target.client === 'pg' ? postgresDialect(target) : mysqlDialect(target);
  // An app's own Knex instance serves every mode as it is (its file and pool are the app's).
  return target.instance ? { ...dialect, open: () => target.instance, quickRead: undefined } : dialect;
}
