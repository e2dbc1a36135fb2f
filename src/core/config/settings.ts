import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { ConfigError } from '../model/errors';

/**
 * `sqlite`: Node's built-in `node:sqlite` (the default; nothing to install). `sqlite3` and
 * `better-sqlite3` use that package from the user's own project; `pg` and `mysql2` servers.
 */
export type Client = 'sqlite' | 'sqlite3' | 'better-sqlite3' | 'pg' | 'mysql2';

export const CLIENTS: readonly Client[] = ['sqlite', 'sqlite3', 'better-sqlite3', 'pg', 'mysql2'];

/** The clients that open a SQLite file. */
export const isSqlite = (client: Client): client is 'sqlite' | 'sqlite3' | 'better-sqlite3' => client === 'sqlite' || client === 'sqlite3' || client === 'better-sqlite3';

/** The `migrations.*` settings, as VS Code and the CLI both read them. */
export interface Settings {
  /** Folders (relative to the workspace) to use as sources; empty: find every `versions/`. */
  readonly versionsDir: readonly string[];
  readonly client: Client;
  /** SQLite file, relative to the workspace. */
  readonly database: string;
  readonly connection: { host?: string; port?: number; user?: string; database?: string };
  /** Name of the environment variable holding the server password (never the password itself). */
  readonly passwordEnv: string;
  readonly knexfile?: string;
  readonly environment: string;
  /** Source id → priority; higher runs first, ties by id. */
  readonly sources: Readonly<Record<string, number>>;
  readonly templatesDir?: string;
  readonly lockTimeoutMs: number;
  readonly staleLockMs: number;
  /** One migration's up()/down() is stopped and rolled back after this long; 0: no limit. */
  readonly migrationTimeoutMs: number;
  /**
   * A database on the same server that verification may empty and use as its scratch copy
   * (PostgreSQL, MySQL/MariaDB); unset: one is created and dropped for each check. Never the
   * target; taken only when empty (then marked as ours) or marked already (see shadow.ts).
   */
  readonly shadowDatabase?: string;
  /** Where the schema snapshot goes (relative to the workspace); unset: schema.sql beside the only source, else at the workspace root; "off": none. */
  readonly schemaFile?: string;
  /** Safety-lint rules by code: "off" silences one, "warning"/"error" sets its severity. */
  readonly lint: Readonly<Record<string, 'off' | 'warning' | 'error'>>;
}

export const DEFAULT_SETTINGS: Settings = {
  versionsDir: [],
  client: 'sqlite',
  database: '.migrations/dev.sqlite3',
  connection: {},
  passwordEnv: 'MIGRATIONS_DB_PASSWORD',
  environment: 'development',
  sources: {},
  lockTimeoutMs: 10_000,
  staleLockMs: 10 * 60_000,
  migrationTimeoutMs: 10 * 60_000,
  lint: {},
};

/**
 * Whether the settings name a database (anything but the defaults): when they do not, the CLI
 * takes DATABASE_URL from the environment, as Prisma, dbmate and golang-migrate do.
 */
export function namesDatabase(settings: Settings): boolean {
  return settings.knexfile !== undefined || settings.client !== DEFAULT_SETTINGS.client || settings.database !== DEFAULT_SETTINGS.database || Object.keys(settings.connection).length > 0;
}

/** Reads `migrations.*` from `<workspace>/.vscode/settings.json` (JSON with comments). */
export function readWorkspaceSettings(workspace: string): Settings {
  const file = path.join(workspace, '.vscode', 'settings.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_SETTINGS;
  }
  const errors: ParseError[] = [];
  const raw = parseJsonc(text, errors, { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  if (errors.length > 0) {
    const first = errors[0];
    const line = text.slice(0, first.offset).split('\n').length;
    throw new ConfigError(`${file}:${line}: ${printParseErrorCode(first.error)}. Fix the JSON so the migrations settings can be read.`);
  }
  return settingsFrom(raw ?? {}, file);
}

/** Builds settings from a flat `{ "migrations.x": … }` object; unknown keys are ignored. */
export function settingsFrom(raw: Record<string, unknown>, origin = 'settings'): Settings {
  const get = (key: string): unknown => raw[`migrations.${key}`];
  const fail = (key: string, expected: string): never => {
    throw new ConfigError(`${origin}: "migrations.${key}" must be ${expected}.`);
  };
  const str = (key: string): string | undefined => {
    const v = get(key);
    return v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : fail(key, 'a string');
  };
  const num = (key: string): number | undefined => {
    const v = get(key);
    return v === undefined ? undefined : typeof v === 'number' && v >= 0 ? v : fail(key, 'a non-negative number');
  };
  // 0 would call every lock stale at once, so that two runners could hold it together.
  const staleLockMs = num('staleLockMs');
  if (staleLockMs === 0) fail('staleLockMs', 'a number of milliseconds above 0 (a lock whose holder is silent this long is stale)');
  const dirs = get('versionsDir');
  const versionsDir =
    dirs === undefined || dirs === '' ? [] : typeof dirs === 'string' ? [dirs]
    : Array.isArray(dirs) && dirs.every((d) => typeof d === 'string') ? (dirs as string[])
    : fail('versionsDir', 'a folder path or a list of them');
  const client = str('client') ?? DEFAULT_SETTINGS.client;
  if (!CLIENTS.includes(client as Client)) fail('client', `one of ${CLIENTS.map((c) => `"${c}"`).join(', ')}`);
  const connection = get('connection') ?? {};
  if (typeof connection !== 'object' || Array.isArray(connection)) fail('connection', 'an object { host, port, user, database }');
  if ('password' in (connection as object)) {
    throw new ConfigError(`${origin}: "migrations.connection" must not hold a password; put it in the environment variable named by "migrations.passwordEnv".`);
  }
  const sources = get('sources') ?? {};
  if (typeof sources !== 'object' || Array.isArray(sources) || !Object.values(sources as object).every((v) => typeof v === 'number')) {
    fail('sources', 'an object mapping a source folder to a priority number');
  }
  const lint = get('lint') ?? {};
  if (typeof lint !== 'object' || Array.isArray(lint) || !Object.values(lint as object).every((v) => v === 'off' || v === 'warning' || v === 'error')) {
    fail('lint', 'an object mapping a lint rule code to "off", "warning" or "error"');
  }
  return {
    versionsDir,
    client: client as Client,
    database: str('database') ?? DEFAULT_SETTINGS.database,
    connection: connection as Settings['connection'],
    passwordEnv: str('passwordEnv') ?? DEFAULT_SETTINGS.passwordEnv,
    knexfile: str('knexfile'),
    environment: str('environment') ?? DEFAULT_SETTINGS.environment,
    sources: sources as Record<string, number>,
    templatesDir: str('templatesDir'),
    lockTimeoutMs: num('lockTimeoutMs') ?? DEFAULT_SETTINGS.lockTimeoutMs,
    staleLockMs: staleLockMs ?? DEFAULT_SETTINGS.staleLockMs,
    migrationTimeoutMs: num('migrationTimeoutMs') ?? DEFAULT_SETTINGS.migrationTimeoutMs,
    shadowDatabase: str('shadowDatabase'),
    schemaFile: str('schemaFile'),
    lint: lint as Settings['lint'],
  };
}
