import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Knex } from 'knex';
import type { DatabaseTarget } from './database';
import { ConfigError } from '../model/errors';
import { nodeSqliteClient, sqliteCall } from './nodeSqliteClient';
import { sqlite3Client, type SqliteConnection } from './sqliteClient';

type Done = (err: Error | null, conn: unknown) => void;

/**
 * The knex client, connection and pool set-up for a SQLite file on the chosen driver.
 * `node:sqlite` is built in; `sqlite3` and `better-sqlite3` are never bundled: they come from the
 * user's own project (`driverFrom`), as knex's CLI would find them there.
 */
export function sqliteDriverConfig(target: DatabaseTarget, filename: string, readOnly: boolean, pragmas: readonly string[]): Knex.Config {
  switch (target.client) {
    case 'sqlite3': {
      const driver = userDriver(target, 'sqlite3');
      return {
        client: sqlite3Client(driver),
        // knex always adds READWRITE|CREATE to `flags`, so read-only goes through SQLite's URI `mode=ro`.
        connection: readOnly ? { filename: readOnlyUri(filename), flags: ['OPEN_URI'] } : { filename },
        pool: { min: 1, max: 1, afterCreate: (conn: SqliteConnection, done: Done) => retryBusy((cb) => conn.exec(pragmas.join(';'), cb), (err) => done(err, conn)) },
      };
    }
    case 'better-sqlite3': {
      const driver = userDriver(target, 'better-sqlite3');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Better = require('knex/lib/dialects/better-sqlite3') as new (config: Knex.Config) => object;
      const Client = class extends Better {
        _driver() {
          return driver;
        }
      };
      return { client: Client as unknown as typeof Knex.Client, connection: { filename, options: { readonly: readOnly } }, pool: syncPool(pragmas) };
    }
    default:
      // node:sqlite ignores its `timeout` open option before Node 22.17: the busy timeout is a PRAGMA here too.
      return { client: nodeSqliteClient(), connection: { filename, readOnly } as never, pool: syncPool(pragmas) };
  }
}

/** The pool for a synchronous driver (node:sqlite, better-sqlite3): the PRAGMAs on every new connection. */
function syncPool(pragmas: readonly string[]): Knex.PoolConfig {
  type Conn = { exec(sql: string): void };
  const exec = (conn: Conn) => (cb: (err: Error | null) => void) => {
    try {
      sqliteCall(() => conn.exec(pragmas.join(';')));
      cb(null);
    } catch (err) {
      cb(err as Error);
    }
  };
  return { min: 1, max: 1, afterCreate: (conn: Conn, done: Done) => retryBusy(exec(conn), (err) => done(err, conn)) };
}

/** The user's own copy of a SQLite driver package, or an error that says how to get it. */
function userDriver(target: DatabaseTarget, name: 'sqlite3' | 'better-sqlite3'): unknown {
  const from = target.driverFrom ?? process.cwd();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return createRequire(path.join(from, 'package.json'))(name);
  } catch (err) {
    const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`);
    throw new ConfigError(missing
      ? `The SQLite driver "${name}" is not installed in ${from}: run "npm install ${name}" there, or use Node's built-in SQLite by setting "migrations.client" to "sqlite" (or removing it).`
      : `The SQLite driver "${name}" in ${from} cannot be loaded: ${(err as Error).message.split('\n')[0]}. Reinstall it ("npm rebuild ${name}"), or set "migrations.client" to "sqlite" for Node's built-in SQLite.`);
  }
}

/**
 * Two runners opening the same file at once can both try to switch it to WAL; SQLite then
 * answers SQLITE_BUSY at once (no busy wait, to avoid a deadlock): try again for a while.
 */
function retryBusy(run: (cb: (err: Error | null) => void) => void, done: (err: Error | null) => void, deadline = Date.now() + 5000): void {
  run((err) => {
    if (err && /SQLITE_BUSY/.test(err.message) && Date.now() < deadline) return void setTimeout(() => retryBusy(run, done, deadline), 25);
    done(err);
  });
}

/** `file:` URI that opens a SQLite file read-only and never creates it. */
export function readOnlyUri(filename: string): string {
  return 'file:' + filename.split(path.sep).map(encodeURIComponent).join('/') + '?mode=ro';
}
