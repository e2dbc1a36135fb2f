import * as os from 'node:os';
import type { Knex } from 'knex';
import type { Settings } from '../config/settings';
import type { Catalog } from './catalog';
import { openServer, type DatabaseTarget } from './database';
import { dialectOf, type Dialect, type ShadowDatabases } from './dialect';
import { describeError, MigrationsError } from '../model/errors';
import { crypto } from '../model/checksum';
import { processAlive } from './lock';

/** A scratch database to try migrations on, never the user's: built empty, thrown away after. */
export interface Shadow {
  readonly knex: Knex;
  /** The dialect's catalog queries, to read the shadow's schema with. */
  readonly catalog: Catalog;
  /** See Dialect.concurrentIndexes: what lint expects of an index built on the shadow. */
  readonly concurrentIndexes: boolean;
  /** For messages: where it is, without secrets. */
  readonly label: string;
  dispose(): Promise<void>;
}

/**
 * The table that makes a database this tool's shadow: created when an empty configured shadow is
 * first taken. A database without it that holds tables is never emptied.
 */
export const SHADOW_MARKER = 'mm_shadow_marker';
const MARKER_NOTE = "Migration Manager's shadow database: verify, lint and drift empty it before each use.";

/**
 * Where the dialect says (see ShadowPlace): a new database in memory (SQLite). A server:
 * `migrations.shadowDatabase` (never the target; taken when empty and marked then, or marked
 * already; emptied first), else a database created here, marked, and dropped afterwards (or by a
 * later check, see dropTemporaryShadows).
 */
export async function openShadow(target: DatabaseTarget, settings: Settings, dialect: Dialect = dialectOf(target)): Promise<Shadow> {
  const traits = { catalog: dialect.catalog, concurrentIndexes: dialect.concurrentIndexes };
  if ('memory' in dialect.shadow) {
    const knex = dialect.shadow.memory();
    return { knex, ...traits, label: `a ${dialect.name} database in memory`, dispose: () => knex.destroy() };
  }
  const sql = dialect.shadow.databases;
  const config = serverConfig(target);
  if (settings.shadowDatabase) {
    const name = settings.shadowDatabase;
    const knex = openServer({ ...target, instance: undefined, knexConfig: onDatabase(config, name) });
    try {
      // Both refusals come before anything is written: the shadow is emptied below.
      await refuseTarget(target, knex, sql, name);
      await claim(knex, sql, name);
      await sql.empty(knex, SHADOW_MARKER);
    } catch (err) {
      await knex.destroy();
      if (err instanceof MigrationsError) throw err;
      throw new MigrationsError(`Cannot use the shadow database "${name}" (migrations.shadowDatabase): ${describeError(err)}. Create it, empty, on the same server, for this user.`, { code: 'database' });
    }
    return { knex, ...traits, label: `the shadow database ${name}`, dispose: () => knex.destroy() };
  }
  const name = temporaryName(process.pid);
  const admin = openServer({ ...target, instance: undefined, knexConfig: config });
  try {
    await sql.create(admin, name);
  } catch (err) {
    await admin.destroy();
    throw new MigrationsError(
      `No shadow database to try the migrations on: creating one failed (${describeError(err)}). Set migrations.shadowDatabase to an empty database on the same server that Migration Manager may use (it empties it first); your own database is never used for this.`,
      { code: 'config' },
    );
  }
  const knex = openServer({ ...target, instance: undefined, knexConfig: onDatabase(config, name) });
  const dispose = async () => {
    await knex.destroy();
    try {
      await sql.drop(admin, name, false);
    } finally {
      await admin.destroy();
    }
  };
  try {
    // Marked at once: a later check drops what a killed run left only when it is ours (see dropTemporaryShadows).
    await mark(knex);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { knex, ...traits, label: `a temporary database ${name}`, dispose };
}

/**
 * A temporary shadow database's name: the creating process's pid, its machine (a hash of the host
 * name) and when (seconds, base 36), so a later check can tell a run that is gone from one still
 * going (see listTemporaryShadows). Lower case: PostgreSQL folds unquoted names.
 */
export function temporaryName(pid: number, opts: { host?: string; at?: Date } = {}): string {
  const at = Math.floor((opts.at ?? new Date()).valueOf() / 1000).toString(36);
  return `mm_shadow_${pid}_${hostTag(opts.host ?? os.hostname())}_${at}_${crypto().randomBytes(4).toString('hex')}`;
}

function hostTag(host: string): string {
  return crypto().createHash('sha256').update(host).digest('hex').slice(0, 6);
}

/** A temporary shadow whose run cannot be checked from here (made on another machine) counts as gone after this long. */
export const SHADOW_MAX_AGE_MS = 24 * 60 * 60_000;

const TEMPORARY = /^mm_shadow_(\d+)_([0-9a-f]{6})_([0-9a-z]{1,10})_[0-9a-f]{8}$/;
/** The name before it carried the machine and the time. */
const UNDATED = /^mm_shadow_(\d+)_[0-9a-f]{12}$/;

/** A temporary shadow database found on the server: what its name tells, and after a drop what became of it. */
export interface TemporaryShadow {
  readonly name: string;
  /** The process that made it. */
  readonly pid: number;
  /** The machine that process ran on; `unknown`: a name from a version that did not record it. */
  readonly host: 'this' | 'other' | 'unknown';
  /** When it was made (ISO), when the name says. */
  readonly createdAt?: string;
  /**
   * `running`: its process is alive on this machine (a check under way); `gone`: that process is
   * not, or the shadow is over a day old; `unknown`: made elsewhere, or undated, less than a day ago.
   */
  readonly run: 'running' | 'gone' | 'unknown';
  /** With a drop: whether it was dropped; `kept` says why not. */
  readonly dropped?: boolean;
  readonly kept?: string;
  /** Set when it was to be dropped but could not be looked into or dropped: the drop failed. */
  readonly failed?: boolean;
}

/** Which temporary shadows a drop takes: those of runs gone, all but running ones (on demand), or one process's. */
export type ShadowSelection = 'gone' | 'not-running' | { readonly pid: number };

/** Every temporary shadow database on the target's server, whoever made it. */
export async function listTemporaryShadows(target: DatabaseTarget, dialect: Dialect = dialectOf(target)): Promise<TemporaryShadow[]> {
  if (!('databases' in dialect.shadow)) return [];
  const sql = dialect.shadow.databases;
  const admin = openServer({ ...target, instance: undefined, knexConfig: serverConfig(target) });
  try {
    return await temporaryShadows(admin, sql);
  } finally {
    await admin.destroy();
  }
}

/**
 * Drops the temporary shadows `which` selects, each only when it is ours: it holds the marker, or
 * nothing (a run killed while creating it). One holding other tables is kept, whatever its name.
 * The dialect ends a dead run's sessions, whose sockets may not be closed yet.
 */
export async function dropTemporaryShadows(target: DatabaseTarget, which: ShadowSelection, dialect: Dialect = dialectOf(target)): Promise<TemporaryShadow[]> {
  if (!('databases' in dialect.shadow)) return [];
  const sql = dialect.shadow.databases;
  const config = serverConfig(target);
  const admin = openServer({ ...target, instance: undefined, knexConfig: config });
  try {
    const found = await temporaryShadows(admin, sql);
    const chosen = found.filter((s) => keptBecause(s, which) === undefined);
    // The usual case before a check: nothing to drop, one query.
    if (chosen.length === 0) return found.map((s) => ({ ...s, dropped: false, kept: keptBecause(s, which) }));
    const tables = await tablesOfEach(target, config, admin, sql, chosen.map((s) => s.name));
    const result: TemporaryShadow[] = [];
    for (const shadow of found) {
      const looked = tables.get(shadow.name);
      if (typeof looked === 'string') {
        result.push({ ...shadow, dropped: false, kept: looked, failed: true });
        continue;
      }
      // An undated name is one an earlier version made, which marked nothing: the name is its mark.
      const why = keptBecause(shadow, which) ?? (shadow.host === 'unknown' ? undefined : notOurs(looked));
      if (why !== undefined) {
        result.push({ ...shadow, dropped: false, kept: why });
        continue;
      }
      try {
        await sql.drop(admin, shadow.name, true);
        result.push({ ...shadow, dropped: true });
      } catch (err) {
        result.push({ ...shadow, dropped: false, kept: `it could not be dropped: ${describeError(err)}`, failed: true });
      }
    }
    return result;
  } finally {
    await admin.destroy();
  }
}

/** Drops the temporary shadow databases a runner process made and could not drop (its parent ended it). */
export async function dropShadowsOf(target: DatabaseTarget, pid: number, dialect: Dialect = dialectOf(target)): Promise<string[]> {
  return (await dropTemporaryShadows(target, { pid }, dialect)).filter((s) => s.dropped).map((s) => s.name);
}

async function temporaryShadows(admin: Knex, sql: ShadowDatabases): Promise<TemporaryShadow[]> {
  // Backslash is LIKE's escape: the underscores are themselves, not any character.
  const names = await sql.named(admin, 'mm\\_shadow\\_%');
  const here = hostTag(os.hostname());
  const now = Date.now();
  return names.map((name) => describeShadow(name, here, now)).filter((s): s is TemporaryShadow => s !== undefined);
}

/** What a temporary shadow's name says about its run (undefined: not such a name). */
function describeShadow(name: string, here: string, now: number): TemporaryShadow | undefined {
  const dated = TEMPORARY.exec(name);
  if (dated) {
    const pid = Number(dated[1]);
    const made = parseInt(dated[3], 36) * 1000;
    const thisHost = dated[2] === here;
    // A day on, a live pid is another process that got the number (or a check that cannot still be useful).
    const run = now - made > SHADOW_MAX_AGE_MS ? 'gone' : !thisHost ? 'unknown' : processAlive(pid) ? 'running' : 'gone';
    return { name, pid, host: thisHost ? 'this' : 'other', createdAt: new Date(made).toISOString(), run };
  }
  const undated = UNDATED.exec(name);
  if (undated) {
    const pid = Number(undated[1]);
    // Made by an earlier version: the machine is unknown, so only a live process here is known to use it.
    return { name, pid, host: 'unknown', run: processAlive(pid) ? 'running' : 'unknown' };
  }
  return undefined;
}

/** Why `which` leaves this shadow alone; undefined: it is to be dropped (if it is ours). */
function keptBecause(shadow: TemporaryShadow, which: ShadowSelection): string | undefined {
  if (typeof which === 'object') return shadow.pid === which.pid && shadow.host === 'this' ? undefined : 'made by another process';
  if (shadow.run === 'running') return `that check is still running (pid ${shadow.pid} on this machine)`;
  if (which === 'gone' && shadow.run === 'unknown') return 'whether the run that made it is still going cannot be told from here';
  return undefined;
}

/** Why a shadow holding `tables` is not ours to drop; undefined: it is (marked, or empty). */
function notOurs(tables: readonly string[] | undefined): string | undefined {
  if (!tables || tables.length === 0 || tables.includes(SHADOW_MARKER)) return undefined;
  const shown = tables.length > 10 ? `${tables.slice(0, 10).join(', ')} and ${tables.length - 10} more` : tables.join(', ');
  return `it holds tables Migration Manager did not make (${shown}) and no ${SHADOW_MARKER} table`;
}

/** The tables of each named database (a string: why it could not be looked into). */
async function tablesOfEach(target: DatabaseTarget, config: Knex.Config, admin: Knex, sql: ShadowDatabases, names: readonly string[]): Promise<Map<string, string[] | string>> {
  if (names.length === 0) return new Map();
  if (sql.tablesOfEach) return sql.tablesOfEach(admin, names);
  // A server that shows a database's tables only to a connection to it: one each.
  const tables = new Map<string, string[] | string>();
  for (const name of names) {
    const knex = openServer({ ...target, instance: undefined, knexConfig: { ...onDatabase(config, name), pool: { min: 0, max: 1 } } });
    try {
      tables.set(name, await sql.tables(knex));
    } catch (err) {
      tables.set(name, `it could not be looked into: ${describeError(err)}`);
    } finally {
      await knex.destroy();
    }
  }
  return tables;
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
async function refuseTarget(target: DatabaseTarget, shadow: Knex, sql: ShadowDatabases, name: string): Promise<void> {
  const real = target.instance ?? openServer(target);
  try {
    const [theirs, ours] = await Promise.all([sql.identity(real), sql.identity(shadow)]);
    if (theirs !== ours) return;
  } finally {
    if (real !== target.instance) await real.destroy();
  }
  throw new MigrationsError(
    `The shadow database "${name}" (migrations.shadowDatabase) is the database these migrations are applied to (${target.label}): verify, lint and drift empty their shadow, so it must be another database; set migrations.shadowDatabase to an empty database of its own on the same server, or leave it unset to use a temporary one.`,
    { code: 'config' },
  );
}

/**
 * Takes a configured shadow as ours: marked already, or empty (then marked). Anything else holds
 * someone's tables, which emptying it would drop.
 */
async function claim(knex: Knex, sql: ShadowDatabases, name: string): Promise<void> {
  const tables = await sql.tables(knex);
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
