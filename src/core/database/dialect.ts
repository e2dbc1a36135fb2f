import * as fs from 'node:fs';
import type { Knex } from 'knex';
import { isSqlite } from '../config/settings';
import type { HistoryRead } from '../model/history';
import type { Logger } from '../model/types';
import { openServer, openSqlite, type DatabaseTarget, type OpenMode } from './database';
import type { LockOptions, MigrationLock } from './lock';
import { advisoryKeys, getLockName, ServerLock, type SessionLockSql } from './serverLock';
import { readSqlite } from './sqliteRead';
import { TableLock } from './tableLock';

/**
 * What differs between the databases, in one object per target, built once (Kysely's dialect
 * adapters are the model): nothing else branches on the client's name.
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

export function dialectOf(target: DatabaseTarget): Dialect {
  const dialect = isSqlite(target.client) ? sqlite(target) : { ...(target.client === 'pg' ? POSTGRESQL : MYSQL), open: () => openServer(target) };
  // An app's own Knex instance serves every mode as it is (its file and pool are the app's).
  return target.instance ? { ...dialect, open: () => target.instance, quickRead: undefined } : dialect;
}

function sqlite(target: DatabaseTarget): Dialect {
  const filename = target.filename!;
  return {
    name: 'SQLite',
    server: false,
    transactionalDdl: true,
    singleConnection: true,
    open: (mode) => openSqlite(target, mode),
    lock: (knex, options, logger) => new TableLock(knex, options, logger),
    async interrupt(_knex, trx) {
      // node-sqlite3 can interrupt a statement; node:sqlite and better-sqlite3 run it synchronously, so nothing runs meanwhile.
      ((await connectionOf(trx)) as { interrupt?: () => void }).interrupt?.();
    },
    quickRead: target.client === 'sqlite' ? (source) => (fs.existsSync(filename) ? readSqlite(filename, target.label, source) : { rows: [], unreadable: [] }) : undefined,
  };
}

/** A server cancels a statement from another connection. */
async function cancel(knex: Knex, trx: Knex.Transaction): Promise<void> {
  await (knex.client as unknown as { cancelQuery?(c: unknown): Promise<void> }).cancelQuery?.(await connectionOf(trx));
}

/** The driver connection a knex transaction runs on (its client always hands out that one). */
function connectionOf(trx: Knex.Transaction): Promise<unknown> {
  return (trx.client as unknown as { acquireConnection(): Promise<unknown> }).acquireConnection();
}

const POSTGRES_LOCK: SessionLockSql = {
  session: 'select pg_backend_pid() as v',
  // Advisory locks are per database already; the schema keeps apart two workspaces whose histories live in different schemas of one database.
  scope: "select current_database() || '.' || coalesce(current_schema(), '') as v",
  tryLock: 'select pg_try_advisory_lock(?, ?) as v',
  holder: "select pid as v from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database()) and classid = ? and objid = ? and objsubid = 2",
  unlock: 'select pg_advisory_unlock(?, ?) as v',
  bindings: advisoryKeys,
};

const MYSQL_LOCK: SessionLockSql = {
  session: 'select connection_id() as v',
  scope: "select coalesce(database(), '') as v",
  tryLock: 'select get_lock(?, 0) as v',
  holder: 'select is_used_lock(?) as v',
  unlock: 'select release_lock(?) as v',
  bindings: (scope) => [getLockName(scope)],
};

const POSTGRESQL: Omit<Dialect, 'open'> = {
  name: 'PostgreSQL',
  server: true,
  transactionalDdl: true,
  singleConnection: false,
  lock: (knex, options, logger) => new ServerLock(knex, POSTGRES_LOCK, options, logger),
  interrupt: cancel,
};

const MYSQL: Omit<Dialect, 'open'> = {
  name: 'MySQL/MariaDB',
  server: true,
  transactionalDdl: false,
  noDryRun: 'A dry run is not available on MySQL/MariaDB: it commits schema changes immediately, so the SQL cannot be captured and rolled back. Review the migration code instead, or dry-run against a SQLite or PostgreSQL copy.',
  singleConnection: false,
  lock: (knex, options, logger) => new ServerLock(knex, MYSQL_LOCK, options, logger),
  interrupt: cancel,
};
