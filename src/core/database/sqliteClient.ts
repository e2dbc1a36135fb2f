import type { Knex } from 'knex';

/** A query as knex's SQLite clients pass it to `_query` (and read the response back from). */
export interface QueryObject {
  sql: string;
  bindings?: readonly unknown[];
  method?: string;
  returning?: unknown;
  response?: unknown;
  context?: unknown;
}

/** A node-sqlite3 connection, as far as this module and the pool's set-up use it. */
export interface SqliteConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
}

/** The part of knex's (untyped) sqlite3 dialect class used here. */
type Sqlite3Dialect = new (config: Knex.Config) => { _query(connection: unknown, obj: QueryObject): Promise<QueryObject> };

/**
 * Statements that never return rows: transaction control and DDL. Only a single statement
 * (at most a trailing `;`) qualifies, so exec() runs exactly what knex's own path would.
 */
const NO_ROWS = /^\s*(begin|commit|rollback|savepoint|release|create|drop|alter)\b[^;]*;?\s*$/i;
const BEGIN = /^\s*begin\s*;?\s*$/i;
const END = /^\s*(commit|rollback)\s*;?\s*$/i;

const clients = new WeakMap<object, typeof Knex.Client>();

/**
 * knex's sqlite3 client, sending fewer trips to libuv's thread pool.
 *
 * node-sqlite3 runs each statement there: `all()`/`run()` take two trips (prepare, then step),
 * `exec()` one, and a trip costs 0.1–0.3 ms here, more than SQLite's own work for most DDL.
 * So a statement without bindings that cannot return rows goes through `exec()`, and a plain
 * BEGIN (deferred in SQLite: it takes no lock and cannot wait) is sent together with the
 * transaction's first statement. Everything else keeps knex's path, so results are unchanged.
 *
 * Used only when a user's settings or knexfile name `sqlite3`: `driver` is that project's own
 * package. One class per driver module; each connection keeps its own pending BEGIN.
 */
export function sqlite3Client(driver: unknown): typeof Knex.Client {
  let client = clients.get(driver as object);
  if (!client) clients.set(driver as object, (client = fewerTripsClient(driver)));
  return client;
}

function fewerTripsClient(driver: unknown): typeof Knex.Client {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Sqlite3 = require('knex/lib/dialects/sqlite3') as Sqlite3Dialect;
  /** A BEGIN not sent yet, per connection. */
  const pendingBegin = new WeakSet<object>();
  const exec = (connection: SqliteConnection, sql: string) => new Promise<void>((resolve, reject) => connection.exec(sql, (err) => (err ? reject(err) : resolve())));

  class Sqlite3FewerTrips extends Sqlite3 {
    _driver(): unknown {
      return driver;
    }

    override async _query(connection: unknown, obj: QueryObject): Promise<QueryObject> {
      const conn = connection as SqliteConnection & object;
      const plain = !(obj.bindings && obj.bindings.length > 0) && (obj.method === undefined || obj.method === 'raw');
      const begun = pendingBegin.delete(conn);
      if (plain && BEGIN.test(obj.sql) && !begun) {
        pendingBegin.add(conn);
        return noRows(obj);
      }
      // An empty transaction: nothing was sent, nothing to end.
      if (begun && plain && END.test(obj.sql)) return noRows(obj);
      const prefix = begun ? 'BEGIN;\n' : '';
      if (plain && NO_ROWS.test(obj.sql)) {
        await exec(conn, prefix + obj.sql);
        return noRows(obj);
      }
      if (begun) await exec(conn, prefix);
      return super._query(connection, obj);
    }
  }
  return Sqlite3FewerTrips as unknown as typeof Knex.Client;
}

/** What knex's path gives for a statement without rows. */
function noRows(obj: QueryObject): QueryObject {
  obj.response = [];
  obj.context = {};
  return obj;
}
