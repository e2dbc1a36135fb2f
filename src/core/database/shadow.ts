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
    const knex = openServer({ ...target, instance: undefined, knexConfig: onDatabase(config, settings.shadowDatabase) });
    try {
      await empty(knex, kind);
    } catch (err) {
      await knex.destroy();
      throw new MigrationsError(`Cannot use the shadow database "${settings.shadowDatabase}" (migrations.shadowDatabase): ${describeError(err)}. Create it, empty, on the same server, for this user.`, { code: 'database' });
    }
    return { knex, kind, label: `the shadow database ${settings.shadowDatabase}`, dispose: () => knex.destroy() };
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

/** Drops every table in the shadow's current schema (PostgreSQL) or database (MySQL). */
async function empty(knex: Knex, kind: SchemaKind): Promise<void> {
  if (kind === 'pg') {
    const rows = (await knex.raw("select tablename from pg_tables where schemaname = current_schema()")).rows as { tablename: string }[];
    if (rows.length > 0) await knex.raw(`drop table if exists ${rows.map(() => '??').join(', ')} cascade`, rows.map((r) => r.tablename));
    return;
  }
  const [rows] = (await knex.raw("select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'")) as [{ name: string }[]];
  if (rows.length === 0) return;
  // One connection: the foreign-key switch is per session.
  await knex.transaction(async (trx) => {
    await trx.raw('set foreign_key_checks = 0');
    await trx.raw(`drop table if exists ${rows.map(() => '??').join(', ')}`, rows.map((r) => r.name));
    await trx.raw('set foreign_key_checks = 1');
  });
}
