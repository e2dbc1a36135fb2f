import type { Knex } from 'knex';
import { isSqlite, type Settings } from '../config/settings';
import { openServer, openSqlite, type DatabaseTarget } from './database';
import { describeError, MigrationsError } from '../model/errors';
import { crypto } from '../model/checksum';

/** A scratch database to try migrations on, never the user's: built empty, thrown away after. */
export interface Shadow {
  readonly knex: Knex;
  readonly kind: SchemaKind;
  /** For messages: where it is, without secrets. */
  readonly label: string;
  dispose(): Promise<void>;
}

export type SchemaKind = 'sqlite' | 'pg' | 'mysql';

/**
 * The table that makes a database this tool's shadow: created when an empty configured shadow is
 * first taken. A database without it that holds tables is never emptied.
 */
export const SHADOW_MARKER = 'mm_shadow_marker';
const MARKER_NOTE = "Migration Manager's shadow database: verify, lint and drift empty it before each use.";

export function schemaKind(target: DatabaseTarget): SchemaKind {
  return isSqlite(target.client) ? 'sqlite' : target.client === 'pg' ? 'pg' : 'mysql';
}

/**
 * SQLite: a database in memory, on the same driver. A server: `migrations.shadowDatabase` (emptied
 * first: the user named it as scratch), else a database created here and dropped afterwards.
 */
export async function openShadow(target: DatabaseTarget, settings: Settings): Promise<Shadow> {
  const kind = schemaKind(target);
  if (kind === 'sqlite') {
    const client = target.instance ? 'sqlite' : (target.client as 'sqlite' | 'sqlite3' | 'better-sqlite3');
    const knex = openSqlite({ ...target, client, instance: undefined, filename: ':memory:', label: 'SQLite in memory' }, 'write')!;
    return { knex, kind, label: 'a SQLite database in memory', dispose: () => knex.destroy() };
  }
  const config = serverConfig(target);
  if (settings.shadowDatabase) {
    const name = settings.shadowDatabase;
    const knex = openServer({ ...target, instance: undefined, knexConfig: onDatabase(config, name) });
    try {
      // Both refusals come before anything is written: the shadow is emptied below.
      await refuseTarget(target, knex, kind, name);
      await claim(knex, kind, name);
      await empty(knex, kind);
    } catch (err) {
      await knex.destroy();
      if (err instanceof MigrationsError) throw err;
      throw new MigrationsError(`Cannot use the shadow database "${name}" (migrations.shadowDatabase): ${describeError(err)}. Create it, empty, on the same server, for this user.`, { code: 'database' });
    }
    return { knex, kind, label: `the shadow database ${name}`, dispose: () => knex.destroy() };
  }
  const name = temporaryName(process.pid, crypto().randomBytes(6).toString('hex'));
  const admin = openServer({ ...target, instance: undefined, knexConfig: config });
  try {
    await admin.raw(`create database ${name}`);
  } catch (err) {
    await admin.destroy();
    throw new MigrationsError(
      `No shadow database to try the migrations on: creating one failed (${describeError(err)}). Set migrations.shadowDatabase to an empty database on the same server that Migration Manager may use (it empties it first); your own database is never used for this.`,
      { code: 'config' },
    );
  }
  const knex = openServer({ ...target, instance: undefined, knexConfig: onDatabase(config, name) });
  return {
    knex, kind, label: `a temporary database ${name}`,
    dispose: async () => {
      await knex.destroy();
      try {
        await admin.raw(`drop database if exists ${name}`);
      } finally {
        await admin.destroy();
      }
    },
  };
}

/**
 * A temporary shadow database's name. The creating process's pid is in it: a runner ended before it
 * could drop its shadow (cancelled, or past its time limit in a synchronous loop) has it dropped by its parent.
 */
function temporaryName(pid: number, suffix: string): string {
  return `mm_shadow_${pid}_${suffix}`;
}

/**
 * Drops the temporary shadow databases a runner process made and could not drop (its parent ended
 * it). PostgreSQL 13+ ends the dead runner's sessions, whose sockets may not be closed yet.
 */
export async function dropShadowsOf(target: DatabaseTarget, pid: number): Promise<string[]> {
  const kind = schemaKind(target);
  if (kind === 'sqlite') return [];
  const admin = openServer({ ...target, instance: undefined, knexConfig: serverConfig(target) });
  try {
    const mine = new RegExp(`^${temporaryName(pid, '[0-9a-f]{12}')}$`);
    const names = kind === 'pg'
      ? ((await admin.raw("select datname as name from pg_database where datname like 'mm%'")).rows as { name: string }[])
      : ((await admin.raw("select schema_name as name from information_schema.schemata where schema_name like 'mm%'"))[0] as { name: string }[]);
    const force = kind === 'pg' && Number((await admin.raw('show server_version_num')).rows[0].server_version_num) >= 130000 ? ' with (force)' : '';
    const dropped = names.map((r) => r.name).filter((n) => mine.test(n));
    for (const name of dropped) await admin.raw(`drop database if exists ${name}${force}`);
    return dropped;
  } finally {
    await admin.destroy();
  }
}

/** The target's knex config, also for an app's own Knex instance (its client keeps the config it was made with). */
function serverConfig(target: DatabaseTarget): Knex.Config {
  if (target.knexConfig) return target.knexConfig;
  const config = (target.instance?.client as { config?: Knex.Config } | undefined)?.config;
  if (!config) throw new MigrationsError(`Cannot tell how to connect to ${target.label} to make a shadow database; pass a connection config instead of a Knex instance.`);
  return config;
}

/** The same connection on another database: an object, a URL, or a function knex calls per connection. */
function onDatabase(config: Knex.Config, database: string): Knex.Config {
  const conn = config.connection;
  const swap = (c: unknown): unknown => {
    if (typeof c === 'string') {
      const url = new URL(c);
      url.pathname = `/${database}`;
      return url.toString();
    }
    return { ...(c as object), database };
  };
  return { ...config, connection: (typeof conn === 'function' ? async () => swap(await (conn as () => unknown)()) : swap(conn)) as Knex.Config['connection'] };
}

/**
 * Refuses the target itself as its shadow. The shadow is reached with the target's own connection
 * settings, the database name swapped, so it is on the target's server; the server then says
 * whether both connections are in one database (its own spelling and case rules), so no way of
 * writing the host, the port or the name gets past.
 */
async function refuseTarget(target: DatabaseTarget, shadow: Knex, kind: 'pg' | 'mysql', name: string): Promise<void> {
  const real = target.instance ?? openServer(target);
  try {
    const [theirs, ours] = await Promise.all([databaseIdentity(real, kind), databaseIdentity(shadow, kind)]);
    if (theirs !== ours) return;
  } finally {
    if (real !== target.instance) await real.destroy();
  }
  throw new MigrationsError(
    `The shadow database "${name}" (migrations.shadowDatabase) is the database these migrations are applied to (${target.label}): verify, lint and drift empty their shadow, so it must be another database; set migrations.shadowDatabase to an empty database of its own on the same server, or leave it unset to use a temporary one.`,
    { code: 'config' },
  );
}

/** The connected database as the server knows it: its oid (PostgreSQL) or its name as the server compares names (MySQL), and the server. */
async function databaseIdentity(knex: Knex, kind: 'pg' | 'mysql'): Promise<string> {
  if (kind === 'pg') {
    const sql = "select (select oid from pg_database where datname = current_database())::text || '@' || pg_postmaster_start_time()::text || ':' || current_setting('port') as id";
    return String((await knex.raw(sql)).rows[0].id);
  }
  const sql = "select concat(@@hostname, ':', @@port, ':', @@datadir, '/', if(@@lower_case_table_names = 0, database(), lower(database()))) as id";
  return String((await knex.raw(sql))[0][0].id);
}

/**
 * Takes a configured shadow as ours: marked already, or empty (then marked). Anything else holds
 * someone's tables, which emptying it would drop.
 */
async function claim(knex: Knex, kind: 'pg' | 'mysql', name: string): Promise<void> {
  const tables = await tablesIn(knex, kind);
  if (tables.includes(SHADOW_MARKER)) return;
  if (tables.length > 0) {
    const shown = tables.length > 10 ? `${tables.slice(0, 10).join(', ')} and ${tables.length - 10} more` : tables.join(', ');
    throw new MigrationsError(
      `The shadow database "${name}" (migrations.shadowDatabase) holds tables Migration Manager did not make (${shown}) and no ${SHADOW_MARKER} table: a shadow is emptied before each check, so only an empty database is taken as one; set migrations.shadowDatabase to an empty database, or leave it unset to use a temporary one.`,
      { code: 'config' },
    );
  }
  await mark(knex);
}

async function mark(knex: Knex): Promise<void> {
  await knex.raw(`create table if not exists ${SHADOW_MARKER} (note varchar(255))`);
  await knex(SHADOW_MARKER).insert({ note: MARKER_NOTE });
}

/**
 * Every table and view of the connected database, sorted: PostgreSQL's in every schema but the
 * system's (another schema's as `schema.table`), MySQL's in `database()`.
 */
async function tablesIn(knex: Knex, kind: 'pg' | 'mysql'): Promise<string[]> {
  if (kind === 'pg') {
    const sql = `select case when n.nspname = current_schema() then c.relname else n.nspname || '.' || c.relname end as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      order by 1`;
    return ((await knex.raw(sql)).rows as { name: string }[]).map((r) => r.name);
  }
  const [rows] = (await knex.raw('select table_name as name from information_schema.tables where table_schema = database() order by 1')) as [{ name: string }[]];
  return rows.map((r) => r.name);
}

/** Drops every table in the shadow's current schema (PostgreSQL) or database (MySQL), but its marker. */
async function empty(knex: Knex, kind: SchemaKind): Promise<void> {
  if (kind === 'pg') {
    const rows = (await knex.raw('select tablename from pg_tables where schemaname = current_schema() and tablename <> ?', [SHADOW_MARKER])).rows as { tablename: string }[];
    if (rows.length > 0) await knex.raw(`drop table if exists ${rows.map(() => '??').join(', ')} cascade`, rows.map((r) => r.tablename));
    return;
  }
  const [rows] = (await knex.raw("select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' and table_name <> ?", [SHADOW_MARKER])) as [{ name: string }[]];
  if (rows.length === 0) return;
  // One connection: the foreign-key switch is per session.
  await knex.transaction(async (trx) => {
    await trx.raw('set foreign_key_checks = 0');
    await trx.raw(`drop table if exists ${rows.map(() => '??').join(', ')}`, rows.map((r) => r.name));
    await trx.raw('set foreign_key_checks = 1');
  });
}
