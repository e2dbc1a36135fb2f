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
export function chooseTarget(workspace: string, settings: Settings, options: { database?: Knex | Knex.Config; db?: string; dbFrom?: string; password?: PasswordProvider; databaseFrom?: string; untrusted?: boolean }): DatabaseTarget {
  const { database } = options;
  if (database === undefined) return options.untrusted ? untrustedTarget(workspace, settings, options) : databaseTarget(workspace, settings, options.db, process.env, options.password, options.dbFrom);
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
 * Resolves the database from settings and an optional `--db` override (a SQLite file, or a server
 * or sqlite: URL, see urlTarget), relative to the workspace. The password comes from the URL, else
 * the `passwordEnv` variable, else `password()`; it is never stored here nor put in the label.
 * `overrideFrom` names where the override came from (DATABASE_URL) for messages.
 */
export function databaseTarget(workspace: string, settings: Settings, dbOverride?: string, env: NodeJS.ProcessEnv = process.env, password?: PasswordProvider, overrideFrom?: string): DatabaseTarget {
  if (dbOverride && isDatabaseUrl(dbOverride)) return urlTarget(dbOverride, workspace, settings, env, password, overrideFrom);
  if (settings.knexfile && !dbOverride) return knexfileTarget(workspace, settings);
  if (dbOverride || isSqlite(settings.client)) {
    const client = isSqlite(settings.client) ? settings.client : 'sqlite';
    return sqliteTarget(client, path.resolve(workspace, dbOverride ?? settings.database), workspace);
  }
  return serverTarget(settings.client, settings.connection, settings.passwordEnv, env[settings.passwordEnv], password);
}

/**
 * A server's target. knex calls the connection function for each new connection, so a password
 * changed in secret storage applies without re-creating the engine. The label has no password.
 */
function serverTarget(client: Client, where: Settings['connection'], passwordEnv: string, fromEnv: string | undefined, password?: PasswordProvider, inUrl?: string): DatabaseTarget {
  const { host = '127.0.0.1', port, user, database } = where;
  const label = `${client} ${user ?? ''}@${host}${port ? ':' + port : ''}/${database ?? ''}`;
  const connection = async () => {
    // Without one, the server would pick a database of its own (PostgreSQL: the user's name) or none.
    if (!database) throw new DatabaseError(`migrations.connection names no database for ${label}: set "database" in migrations.connection (with "host", "port" and "user"), then run again.`, undefined, undefined);
    return { host, port, user, database, password: inUrl ?? fromEnv ?? (await password?.()) };
  };
  return { client, knexConfig: { client, connection }, label, server: { passwordEnv, passwordFrom: inUrl !== undefined ? 'url' : fromEnv !== undefined ? 'env' : password ? 'store' : 'none', user, database } };
}

/** URL schemes of the servers connected to, as Prisma, dbmate and golang-migrate spell them. */
const SERVER_SCHEMES: Readonly<Record<string, Client>> = { postgres: 'pg', postgresql: 'pg', mysql: 'mysql2', mariadb: 'mysql2' };
const URL_FORMS = 'postgres://, postgresql://, mysql://, mariadb:// or sqlite: URL (e.g. postgres://user@host:5432/app, sqlite:db/app.sqlite3)';

/**
 * A scheme before a colon: a URL, not a file path. Two letters at least, so that a Windows drive
 * (`C:\\db.sqlite`) stays a path; a file whose name has a colon is written `./my:db.sqlite`.
 */
export function isDatabaseUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]+:/i.test(text);
}

/**
 * `--db` (or DATABASE_URL) as a URL: a server's (`postgres://user:password@host:port/database`)
 * or a SQLite file's (`sqlite:relative/path`, `sqlite:///absolute/path`; Prisma's `file:` too).
 * Anything else is refused rather than taken as a file name; no message repeats a password.
 */
function urlTarget(text: string, workspace: string, settings: Settings, env: NodeJS.ProcessEnv, password?: PasswordProvider, from?: string): DatabaseTarget {
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(text)![1].toLowerCase();
  const shown = withoutPassword(text);
  const refuse = (why: string, fix = `give a ${URL_FORMS}, or a SQLite file path`): never => {
    throw from
      ? new ConfigError(`${from} ("${shown}") is not a database Migration Manager can use: ${why}. Set it to a ${URL_FORMS}, or name the database in the settings or migrations.config, which come before ${from}.`)
      : new ConfigError(`The database "${shown}" is not one Migration Manager can use: ${why}; ${fix}.`, {}, 'usage');
  };
  if (scheme === 'sqlite' || scheme === 'file') {
    // sqlite:///abs and sqlite://rel, as dbmate and golang-migrate write them.
    const file = text.slice(scheme.length + 1).replace(/^\/\//, '');
    if (!file) refuse('it names no file');
    if (file.includes('?')) refuse('options in a URL are not read', 'leave them out');
    return sqliteTarget(isSqlite(settings.client) ? settings.client : 'sqlite', path.resolve(workspace, file), workspace);
  }
  const client = SERVER_SCHEMES[scheme];
  if (!client) refuse(`${scheme}: is not a kind of database it connects to (PostgreSQL, MySQL/MariaDB, SQLite)`);
  let url: URL | undefined;
  try {
    url = /^[a-z0-9+.-]+:\/\//i.test(text) ? new URL(text) : undefined;
  } catch {
    // Reported below, as a URL that is not well formed.
  }
  if (!url) return refuse('it is not a well-formed URL');
  if (url.search) refuse(`options in a URL (${[...url.searchParams.keys()].join(', ')}) are not read`, 'leave them out, and set them in the database of migrations.config instead');
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return refuse(`its ${what} has a % not followed by two hex digits (write % as %25)`);
    }
  };
  const database = decode(url.pathname.replace(/^\//, ''), 'database');
  if (!database || database.includes('/')) refuse('it names no database (the path after the host, e.g. /app)');
  const connection = {
    // An IPv6 host comes bracketed.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || undefined,
    port: url.port ? Number(url.port) : undefined,
    user: url.username ? decode(url.username, 'user') : undefined,
    database,
  };
  return serverTarget(client, connection, settings.passwordEnv, env[settings.passwordEnv], password, url.password ? decode(url.password, 'password') : undefined);
}

/** A URL as it may be shown: anything after `user:` up to the last @ (the password) replaced by ***. */
function withoutPassword(text: string): string {
  const start = text.indexOf('://');
  const at = text.lastIndexOf('@');
  if (start < 0 || at < start) return text;
  const colon = text.indexOf(':', start + 3);
  return colon >= 0 && colon < at ? `${text.slice(0, colon)}:***${text.slice(at)}` : text;
}

/**
 * The target in a workspace that is not trusted, where no module under it may load: a knexfile
 * (code) is refused, and a SQLite file is read through Node's built-in driver whatever
 * `migrations.client` names, as `sqlite3` and `better-sqlite3` would come from the workspace's
 * node_modules. The file format is the same; only reads happen there.
 */
function untrustedTarget(workspace: string, settings: Settings, options: { db?: string; dbFrom?: string; password?: PasswordProvider }): DatabaseTarget {
  if (settings.knexfile && !options.db) throw new ConfigError(`The database is named by a knexfile (${settings.knexfile}), which is code: trust this workspace to read it.`);
  const target = databaseTarget(workspace, settings, options.db, process.env, options.password, options.dbFrom);
  return target.client === 'sqlite3' || target.client === 'better-sqlite3'
    ? { ...sqliteTarget('sqlite', target.filename!, workspace), label: `${target.label} (read with Node's built-in SQLite: the workspace is not trusted)` }
    : target;
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

/** A server's knex (PostgreSQL, MySQL/MariaDB): a small pool, errors that show a statement without its values; the mode changes nothing there. */
export function openServer(target: DatabaseTarget): Knex {
  return loadKnex()({ pool: { min: 0, max: 4 }, log: KNEX_LOG, compileSqlOnError: false, ...target.knexConfig });
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
    // A failed statement's error shows it with placeholders, not with its values (a password).
    compileSqlOnError: false,
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
