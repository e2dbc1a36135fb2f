import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { ConfigError, DatabaseError } from '../model/errors';
import type { ServerHints } from './databaseErrors';
import { CLIENTS, isSqlite, type Client, type Settings } from '../config/settings';
import { sqliteDriverConfig } from './sqliteDrivers';

/** Where and how to connect; the password is looked up only when connecting. */
export interface DatabaseTarget {
  readonly client: Client;
  /** SQLite: absolute file path. */
  readonly filename?: string;
  /** `sqlite3`/`better-sqlite3`: the folder whose node_modules must hold the driver (the user's project). */
  readonly driverFrom?: string;
  readonly knexConfig?: Knex.Config;
  /** An app's own Knex instance, used as it is and never destroyed here. */
  readonly instance?: Knex;
  /** Human description without secrets, for logs and errors. */
  readonly label: string;
  /** A server from the settings: what its errors name (see databaseError). */
  readonly server?: ServerHints;
}

/**
 * The target an engine uses: a database given in code (an app's Knex instance, or a knex config),
 * else the settings (with `--db` over them).
 */
export function chooseTarget(workspace: string, settings: Settings, options: { database?: Knex | Knex.Config; db?: string; password?: PasswordProvider; databaseFrom?: string }): DatabaseTarget {
  const { database } = options;
  if (database === undefined) return databaseTarget(workspace, settings, options.db, process.env, options.password);
  // A Knex instance is a function with a client; a config is a plain object.
  return typeof database === 'function' ? instanceTarget(database) : configTarget(database, options.databaseFrom ?? 'the connection config given', workspace);
}

/** An app's own Knex instance as the target (the library's `createMigrator({ knex })`). */
export function instanceTarget(knex: Knex): DatabaseTarget {
  const client = clientOf(String(knex.client.config.client ?? (knex.client as { dialect?: string }).dialect ?? ''), 'the Knex instance given');
  return { client, instance: knex, label: `${client} (the app's Knex instance)` };
}

/** A knex config object as the target (a knexfile's, or the library's `createMigrator({ connection })`); a SQLite filename resolves from `baseDir`. */
export function configTarget(config: Knex.Config, where: string, baseDir: string, label = where): DatabaseTarget {
  const client = clientOf(String(config.client ?? ''), where);
  const conn = config.connection as { filename?: string } | undefined;
  if (isSqlite(client) && conn?.filename) {
    return sqliteTarget(client as 'sqlite' | 'sqlite3' | 'better-sqlite3', path.resolve(baseDir, conn.filename), baseDir);
  }
  return { client, knexConfig: { ...config, client }, label: `${client} (${label})` };
}

/** knex's client names (and our own) as one of ours; anything else is refused naming `where`. */
function clientOf(client: string, where: string): Client {
  const normalized = ({ postgres: 'pg', postgresql: 'pg', mysql: 'mysql2', 'node:sqlite': 'sqlite' } as Record<string, Client>)[client] ?? client;
  if (!CLIENTS.includes(normalized as Client)) throw new ConfigError(`${where} uses client "${client}"; use sqlite3, better-sqlite3, pg or mysql2.`);
  return normalized as Client;
}

/** Looks the server password up when a connection opens (the editor's secret storage). */
export type PasswordProvider = () => Promise<string | undefined>;

/**
 * Resolves the database from settings and an optional `--db` override, relative to the workspace.
 * The password comes from the `passwordEnv` variable, else from `password()`; it is never stored here.
 */
export function databaseTarget(workspace: string, settings: Settings, dbOverride?: string, env: NodeJS.ProcessEnv = process.env, password?: PasswordProvider): DatabaseTarget {
  if (settings.knexfile && !dbOverride) return knexfileTarget(workspace, settings);
  if (dbOverride || isSqlite(settings.client)) {
    const client = isSqlite(settings.client) ? settings.client : 'sqlite';
    return sqliteTarget(client, path.resolve(workspace, dbOverride ?? settings.database), workspace);
  }
  const { host = '127.0.0.1', port, user, database } = settings.connection;
  const fromEnv = env[settings.passwordEnv];
  // knex calls a connection function for each new connection, so a password changed in
  // secret storage applies without re-creating the engine.
  const label = `${settings.client} ${user ?? ''}@${host}${port ? ':' + port : ''}/${database ?? ''}`;
  const connection = async () => {
    // Without one, the server would pick a database of its own (PostgreSQL: the user's name) or none.
    if (!database) throw new DatabaseError(`migrations.connection names no database for ${label}: set "database" in migrations.connection (with "host", "port" and "user"), then run again.`, undefined, undefined);
    return { host, port, user, database, password: fromEnv ?? (await password?.()) };
  };
  return {
    client: settings.client,
    knexConfig: { client: settings.client, connection },
    label,
    server: { passwordEnv: settings.passwordEnv, passwordFrom: fromEnv !== undefined ? 'env' : password ? 'store' : 'none', user, database },
  };
}

function sqliteTarget(client: 'sqlite' | 'sqlite3' | 'better-sqlite3', filename: string, driverFrom: string): DatabaseTarget {
  return { client, filename, driverFrom: client === 'sqlite' ? undefined : driverFrom, label: `${client} ${filename}` };
}

function knexfileTarget(workspace: string, settings: Settings): DatabaseTarget {
  const file = path.resolve(workspace, settings.knexfile!);
  let exported: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exported = require(file);
  } catch (err) {
    throw new ConfigError(`Cannot load knexfile ${file}: ${(err as Error).message}. Fix "migrations.knexfile".`);
  }
  const all = (exported as { default?: unknown }).default ?? exported;
  const config = ((all as Record<string, unknown>)[settings.environment] ?? all) as Knex.Config;
  return configTarget(config, `knexfile ${file} (${settings.environment})`, path.dirname(file), `knexfile ${settings.environment}`);
}

/**
 * How a connection may touch the database:
 * - `read`: SQLite read-only, never creating the file (status reads write nothing);
 *   undefined when there is nothing to read yet;
 * - `write`: creates the file and its folder, switches SQLite to WAL;
 * - `dry-run`: writable but changes nothing lasting (no file created, journal mode kept);
 *   a missing SQLite file is stood in for by an empty in-memory database.
 */
export type OpenMode = 'read' | 'write' | 'dry-run';

/** How long a SQLite statement waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** A server's knex (PostgreSQL, MySQL/MariaDB): a small pool; the mode changes nothing there. */
export function openServer(target: DatabaseTarget): Knex {
  return loadKnex()({ pool: { min: 0, max: 4 }, log: KNEX_LOG, ...target.knexConfig });
}

/** A SQLite file's knex, one connection, as `mode` allows; undefined for a read of a file not made yet. */
export function openSqlite(target: DatabaseTarget, mode: OpenMode): Knex | undefined {
  const exists = fs.existsSync(target.filename!);
  if (mode === 'read' && !exists) return undefined;
  if (mode === 'write') fs.mkdirSync(path.dirname(target.filename!), { recursive: true });
  const filename = mode === 'dry-run' && !exists ? ':memory:' : target.filename!;
  // WAL lets the tree read while a run writes; NORMAL sync is crash-safe in WAL
  // and avoids an fsync per migration (each migration commits on its own).
  const busy = `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`;
  const pragmas = mode === 'write' ? [busy, 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = NORMAL'] : [busy];
  const db = loadKnex()({
    useNullAsDefault: true,
    log: KNEX_LOG,
    pool: { min: 1, max: 1 },
    ...sqliteDriverConfig(target, filename, mode === 'read', pragmas),
  });
  // Migrations may branch on the client name, as under knex's own CLI (where SQLite is "sqlite3").
  db.client.config.client = target.client === 'sqlite' ? 'sqlite3' : target.client;
  return db;
}

/** Loaded on first use: activation, a status on the built-in SQLite driver and `--help` never pay for knex. */
function loadKnex(): typeof import('knex').knex {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('knex') as typeof import('knex').knex;
}

/**
 * knex logs with console.log, to stdout: a refused connection printed a stack trace there,
 * breaking `--json`. Connection errors reach the caller as rejections anyway; other notes
 * (e.g. an unsupported `.returning()`) go to stderr, one line each.
 */
const KNEX_LOG = {
  warn: knexNote,
  error: knexNote,
  deprecate: knexNote,
  debug() {},
};

function knexNote(message: unknown): void {
  const text = String(message);
  if (/^(Acquire connection error|Connection Error)/.test(text)) return;
  process.stderr.write(`knex: ${text.split('\n')[0]}\n`);
}
