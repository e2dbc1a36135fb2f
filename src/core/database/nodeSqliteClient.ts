import type { Knex } from 'knex';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { QueryObject } from './sqliteClient';


/** What `openDatabase` passes as the connection for SQLite. */
export interface NodeSqliteConnectionSettings {
  readonly filename: string;
  readonly readOnly: boolean;
}

/** The part of knex's (untyped) sqlite3 dialect class used here. */
type Sqlite3Dialect = new (config: Knex.Config) => {
  connectionSettings: NodeSqliteConnectionSettings;
};

let client: typeof Knex.Client | undefined;

/**
 * A knex client for Node's built-in `node:sqlite` (knex has none: knex#6162), so SQLite needs no
 * native package. It is knex's sqlite3 dialect (same SQL, same DDL table rebuilds, same
 * `processResponse`) with the driver calls swapped:
 * - which statements return rows follows knex's sqlite3 rule by query method, not
 *   `StatementSync.columns()`, which Node 22.13–22.16 lack;
 * - bindings are made as node-sqlite3 makes them (undefined → null, booleans → 0/1, Dates →
 *   milliseconds): `node:sqlite` refuses booleans before Node 24;
 * - rows become plain objects (`node:sqlite` gives null-prototype ones);
 * - errors carry SQLite's name (`SQLITE_BUSY: database is locked`) as node-sqlite3's do, so one
 *   mapping to user-facing messages serves every driver.
 * Foreign keys stay off and double-quoted strings allowed, as with node-sqlite3 (node:sqlite's
 * defaults differ), so migrations written for knex's sqlite3 behave the same.
 */
export function nodeSqliteClient(): typeof Knex.Client {
  return (client ??= makeClient());
}

function makeClient(): typeof Knex.Client {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Sqlite3 = require('knex/lib/dialects/sqlite3') as Sqlite3Dialect;
  class NodeSqlite extends Sqlite3 {
    _driver(): typeof import('node:sqlite') {
      return loadNodeSqlite();
    }

    async acquireRawConnection(): Promise<DatabaseSync> {
      const { filename, readOnly } = this.connectionSettings;
      const { DatabaseSync } = loadNodeSqlite();
      return sqliteCall(() => new DatabaseSync(filename, { readOnly, enableForeignKeyConstraints: false, enableDoubleQuotedStringLiterals: true }));
    }

    async destroyRawConnection(connection: DatabaseSync): Promise<void> {
      if (connection.isOpen) connection.close();
    }

    async _query(connection: DatabaseSync, obj: QueryObject): Promise<QueryObject> {
      if (!obj.sql) throw new Error('The query is empty');
      if (!connection) throw new Error('No connection provided');
      return sqliteCall(() => {
        const statement = connection.prepare(obj.sql);
        const bindings = (obj.bindings ?? []).map(bindable);
        if (returnsRows(obj)) {
          obj.response = (statement as StatementSync).all(...(bindings as never[])).map((row) => ({ ...row }));
        } else {
          const result = statement.run(...(bindings as never[]));
          obj.response = result;
          obj.context = { lastID: Number(result.lastInsertRowid), changes: Number(result.changes) };
        }
        return obj;
      });
    }
  }
  return NodeSqlite as unknown as typeof Knex.Client;
}

/** knex's sqlite3 client: `run` for writes without `returning`, `all` for everything else. */
function returnsRows(obj: QueryObject): boolean {
  switch (obj.method) {
    case 'insert':
    case 'update':
      return Boolean(obj.returning);
    case 'counter':
    case 'del':
      return false;
    default:
      return true;
  }
}

function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  return value;
}

let nodeSqlite: typeof import('node:sqlite') | undefined;

/**
 * `node:sqlite`, loaded without Node 22's one-off ExperimentalWarning, which would otherwise
 * land on the CLI's stderr (and in the editor's log) at every first use.
 */
export function loadNodeSqlite(): typeof import('node:sqlite') {
  if (nodeSqlite) return nodeSqlite;
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    nodeSqlite = require('node:sqlite') as typeof import('node:sqlite');
  } finally {
    process.emitWarning = emit;
  }
  return nodeSqlite;
}

/** SQLite's primary result codes by number, for the errors node:sqlite reports only by number. */
const CODES: Record<number, string> = {
  1: 'SQLITE_ERROR', 2: 'SQLITE_INTERNAL', 3: 'SQLITE_PERM', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM', 8: 'SQLITE_READONLY', 9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND', 13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL', 16: 'SQLITE_EMPTY',
  17: 'SQLITE_SCHEMA', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS', 23: 'SQLITE_AUTH', 24: 'SQLITE_FORMAT', 25: 'SQLITE_RANGE', 26: 'SQLITE_NOTADB',
};

/** Runs a node:sqlite call, giving its errors SQLite's code name as node-sqlite3 does. */
export function sqliteCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as Error & { code?: string; errcode?: number; errno?: number };
    if (e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
      const name = CODES[e.errcode & 0xff] ?? 'SQLITE_ERROR';
      e.message = `${name}: ${e.message}`;
      e.errno = e.errcode;
      e.code = name;
    }
    throw e;
  }
}
