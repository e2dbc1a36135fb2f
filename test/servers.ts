import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { knex as createKnex, type Knex } from 'knex';
import { DEFAULT_SETTINGS, describeError, type Settings } from '../src/core';
import { getLockName } from '../src/core/database/serverLock';
import { CLI, ROOT } from './helpers';

/** A database server on loopback, reached as its trusted admin user (no password). */
export interface Server {
  readonly name: 'PostgreSQL' | 'MariaDB';
  readonly client: 'pg' | 'mysql2';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Where the admin connects to create and drop the test databases. */
  readonly adminDatabase?: string;
}

export const SERVERS: readonly Server[] = [
  { name: 'PostgreSQL', client: 'pg', host: '127.0.0.1', port: 5432, user: 'postgres', adminDatabase: 'postgres' },
  { name: 'MariaDB', client: 'mysql2', host: '127.0.0.1', port: 3306, user: 'root' },
];

function adminKnex(server: Server, database = server.adminDatabase): Knex {
  const timeout = server.client === 'pg' ? { connectionTimeoutMillis: 2000 } : { connectTimeout: 2000 };
  return createKnex({
    client: server.client,
    connection: { host: server.host, port: server.port, user: server.user, database, ...timeout },
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 3000,
    // knex would print a refused connection's stack on stdout; the probe reports it instead.
    log: { warn() {}, error() {}, deprecate() {}, debug() {} },
  });
}

/** Why the server's tests must be skipped, or undefined when it answers. */
export async function probe(server: Server): Promise<string | undefined> {
  const db = adminKnex(server);
  try {
    await db.raw('select 1');
    await sweepLeftovers(server, db);
    return undefined;
  } catch (err) {
    return `no ${server.name} at ${server.host}:${server.port} (${describeError(err)})`;
  } finally {
    await db.destroy();
  }
}

/** Drops the databases and users of test runs that were killed before they could (dead pid). */
async function sweepLeftovers(server: Server, admin: Knex): Promise<void> {
  const pg = server.client === 'pg';
  const names = (sql: string) => admin.raw(sql).then((r) => rowsOf(r).map((row) => String(Object.values(row)[0])));
  const deadRun = (name: string) => !alive(Number(name.split('_')[2]));
  for (const name of (await names(pg ? "select datname from pg_database where datname like 'mm\\_test\\_%'" : "show databases like 'mm\\_test\\_%'")).filter(deadRun)) {
    await admin.raw(pg ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`);
  }
  for (const name of (await names(pg ? "select rolname from pg_roles where rolname like 'mm\\_u\\_%'" : "select user from mysql.user where user like 'mm\\_u\\_%'")).filter(deadRun)) {
    await admin.raw(pg ? `drop role if exists ${name}` : `drop user if exists '${name}'@'%'`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Rows of a raw query, whichever driver answered. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  return (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];
}

/** A database of its own for one test (`mm_test_<pid>_<random>`), dropped by `drop()`. */
/** A new database on `server` (which must answer on loopback), added to `made` for the test file to drop after. */
export async function freshDatabase(server: Server, made: TestDatabase[]): Promise<TestDatabase> {
  const why = await probe(server);
  if (why !== undefined) throw new Error(`${server.name} must run on loopback for this test: ${why}`);
  const db = await TestDatabase.create(server);
  made.push(db);
  return db;
}

export class TestDatabase {
  private inspector?: Knex;
  private readonly users: string[] = [];

  private constructor(
    readonly server: Server,
    readonly name: string,
  ) {}

  static async create(server: Server): Promise<TestDatabase> {
    const name = `mm_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = adminKnex(server);
    try {
      await admin.raw(`create database ${name}`);
    } finally {
      await admin.destroy();
    }
    return new TestDatabase(server, name);
  }

  /** Engine settings pointing at this database (as the admin user, no password needed). */
  settings(extra: Partial<Settings> = {}): Settings {
    return { ...DEFAULT_SETTINGS, client: this.server.client, connection: this.connection(), lockTimeoutMs: 300, ...extra };
  }

  connection(): Settings['connection'] {
    return { host: this.server.host, port: this.server.port, user: this.server.user, database: this.name };
  }

  /** `.vscode/settings.json` text for the CLI and the extension. */
  settingsJson(extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ 'migrations.client': this.server.client, 'migrations.connection': this.connection(), ...extra }, null, 2);
  }

  /** A connection of the test's own, to look at what a run left. */
  get db(): Knex {
    return (this.inspector ??= adminKnex(this.server, this.name));
  }

  async tables(): Promise<string[]> {
    const sql = this.server.client === 'pg'
      ? "select table_name as t from information_schema.tables where table_schema = 'public'"
      : 'select table_name as t from information_schema.tables where table_schema = database()';
    return rowsOf(await this.db.raw(sql)).map((r) => String(r.t)).sort();
  }

  async columns(table: string): Promise<string[]> {
    return Object.keys(await this.db(table).columnInfo()).sort();
  }

  async lockRows(): Promise<Record<string, unknown>[]> {
    return (await this.db.schema.hasTable('migration_lock')) ? this.db('migration_lock').select('*') : [];
  }

  /** Sessions holding a server lock on this database: advisory locks, or our GET_LOCK name. */
  async nativeLockHolders(): Promise<number[]> {
    if (this.server.client === 'pg') {
      const rows = rowsOf(await this.db.raw("select pid from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = ?)", [this.name]));
      return rows.map((r) => Number(r.pid));
    }
    const id = rowsOf(await this.db.raw('select is_used_lock(?) as id', [getLockName(this.name)]))[0].id;
    return id === null ? [] : [Number(id)];
  }

  /** A user of this database only, who needs `password` (server-wide: dropped with the database). */
  async createUser(password: string): Promise<string> {
    const user = `mm_u_${process.pid}_${randomBytes(3).toString('hex')}`;
    this.users.push(user);
    const admin = adminKnex(this.server);
    try {
      if (this.server.client === 'pg') {
        await admin.raw(`create role ${user} login password '${password}'`);
        // Since PostgreSQL 15 only the database owner may create tables in its public schema.
        await admin.raw(`alter database ${this.name} owner to ${user}`);
      } else {
        await admin.raw(`create user '${user}'@'%' identified by '${password}'`);
        await admin.raw(`grant all privileges on \`${this.name}\`.* to '${user}'@'%'`);
      }
    } finally {
      await admin.destroy();
    }
    return user;
  }

  async drop(): Promise<void> {
    await this.inspector?.destroy();
    const admin = adminKnex(this.server);
    try {
      // FORCE: a killed runner's sessions may still be closing.
      await admin.raw(this.server.client === 'pg' ? `drop database if exists ${this.name} with (force)` : `drop database if exists ${this.name}`);
      for (const user of this.users) await admin.raw(this.server.client === 'pg' ? `drop role if exists ${user}` : `drop user if exists '${user}'@'%'`);
    } finally {
      await admin.destroy();
    }
  }
}

/**
 * A migration whose up() writes `<ws>/started-<version>` and then waits until `<ws>/go-<version>`
 * exists (see letThrough), so a test can hold a run (and its lock) exactly as long as it needs.
 */
export function gatedMigration(version: number, table: string, ws: string): string {
  return `import type { Knex } from 'knex';
import * as fs from 'node:fs';
import * as path from 'node:path';
export class M${version} {
  readonly version = ${version};
  readonly description = 'create ${table} when let through';
  async up(knex: Knex) {
    const dir = ${JSON.stringify(ws)};
    // Written whole, then named: a test that sees the file reads the pid, never an empty file.
    fs.writeFileSync(path.join(dir, 'started-${version}.part'), String(process.pid));
    fs.renameSync(path.join(dir, 'started-${version}.part'), path.join(dir, 'started-${version}'));
    // Bounded: a test that fails before letting it through must not hang the run.
    for (const deadline = Date.now() + 30_000; !fs.existsSync(path.join(dir, 'go-${version}'));) {
      if (Date.now() > deadline) throw new Error('the test never let migration ${version} through');
      await new Promise((r) => setTimeout(r, 20));
    }
    await knex.schema.createTable('${table}', (t) => { t.increments('id'); });
  }
  async down(knex: Knex) { await knex.schema.dropTable('${table}'); }
}
export function getMigration() { return M${version}; }
`;
}

export function letThrough(ws: string, version: number): void {
  fs.writeFileSync(path.join(ws, `go-${version}`), '');
}

/** The built CLI as a child process the test can kill. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  // Its own process group, so a test can kill the CLI together with the child running its migrations.
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
