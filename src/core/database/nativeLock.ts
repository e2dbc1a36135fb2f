import { sha256 } from '../model/checksum';
import type { Knex } from 'knex';

/** knex dialects whose server has a lock of its own. */
export type ServerDialect = 'postgresql' | 'mysql';

const NAMESPACE = 'migration-manager';

export function serverDialect(knex: Knex): ServerDialect | undefined {
  const dialect = (knex.client as { dialect?: string }).dialect;
  return dialect === 'postgresql' || dialect === 'mysql' ? dialect : undefined;
}

/**
 * The two int4 keys of the PostgreSQL advisory lock for `scope` (database and schema):
 * a fixed one for Migration Manager, one from the scope, so other databases' runs never collide.
 * Both kept non-negative so they compare equal to pg_locks' oid columns.
 */
export function advisoryKeys(scope: string): [number, number] {
  return [int31(NAMESPACE), int31(`${NAMESPACE}:${scope}`)];
}

/** The GET_LOCK name for `database`: the server's lock names are global and at most 64 characters. */
export function getLockName(database: string): string {
  const name = `${NAMESPACE}:${database}`;
  return name.length <= 64 ? name : `${name.slice(0, 47)}:${sha256(database).slice(0, 16)}`;
}

/**
 * The server's own lock (PostgreSQL `pg_try_advisory_lock`, MySQL/MariaDB `GET_LOCK`).
 * Both belong to a session, so it is taken on one dedicated connection outside knex's pool,
 * kept for the whole run and released on that same connection. The run's queries use the
 * pool, so no pool size can make them wait for the lock's connection. When the holder
 * dies, its connection closes and the server frees the lock by itself.
 */
export class ServerLock {
  private conn: unknown;
  private scope?: Promise<{ keys: [number, number]; name: string }>;
  /** This lock's session on the server (PostgreSQL backend pid, MySQL connection id). */
  session?: number;

  constructor(
    private readonly knex: Knex,
    readonly dialect: ServerDialect,
  ) {}

  /** Tries once without waiting; opens the dedicated connection on first use. */
  async tryAcquire(): Promise<boolean> {
    const { keys, name } = await this.identity();
    if (this.conn === undefined) {
      this.conn = await this.knex.client.acquireRawConnection();
      const id = await this.one(this.dialect === 'postgresql' ? 'select pg_backend_pid() as v' : 'select connection_id() as v', [], this.conn);
      this.session = Number(id);
    }
    const ok = this.dialect === 'postgresql'
      ? await this.one('select pg_try_advisory_lock(?, ?) as v', keys, this.conn)
      : await this.one('select get_lock(?, 0) as v', [name], this.conn);
    return ok === true || Number(ok) === 1;
  }

  /** Still held by this process: false once its connection has dropped. */
  async held(): Promise<boolean> {
    if (this.conn === undefined || this.session === undefined) return false;
    try {
      return (await this.holder(this.conn)) === this.session;
    } catch {
      return false;
    }
  }

  /** The session holding the lock now, if any (read-only, any connection). */
  async holder(conn?: unknown): Promise<number | undefined> {
    const { keys, name } = await this.identity();
    const id = this.dialect === 'postgresql'
      ? await this.one(
        "select pid as v from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database()) and classid = ? and objid = ? and objsubid = 2",
        keys, conn)
      : await this.one('select is_used_lock(?) as v', [name], conn);
    return id === undefined || id === null ? undefined : Number(id);
  }

  /**
   * Unlocks on the holding connection, then closes it. Closing frees the lock anyway, so a
   * failed unlock (the connection already dropped) is no error to report.
   */
  async release(): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) return;
    this.conn = this.session = undefined;
    const { keys, name } = await this.identity();
    const unlock = this.dialect === 'postgresql' ? this.one('select pg_advisory_unlock(?, ?) as v', keys, conn) : this.one('select release_lock(?) as v', [name], conn);
    await unlock.catch(() => undefined);
    await this.knex.client.destroyRawConnection(conn).catch(() => undefined);
  }

  private identity(): Promise<{ keys: [number, number]; name: string }> {
    // PostgreSQL's advisory locks are per database already; the schema keeps apart two
    // workspaces whose histories live in different schemas of one database.
    this.scope ??= this.one(this.dialect === 'postgresql' ? "select current_database() || '.' || coalesce(current_schema(), '') as v" : "select coalesce(database(), '') as v", [])
      .then((scope) => ({ keys: advisoryKeys(String(scope)), name: getLockName(String(scope)) }));
    this.scope.catch(() => (this.scope = undefined));
    return this.scope;
  }

  /** First column of the first row, on `conn` or a pooled connection. */
  private async one(sql: string, bindings: readonly Knex.Value[], conn?: unknown): Promise<unknown> {
    const query = this.knex.raw(sql, bindings as Knex.Value[]);
    const result = (await (conn === undefined ? query : query.connection(conn))) as unknown;
    // pg answers { rows }, mysql2 [rows, fields].
    const rows = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];
    return rows[0]?.v;
  }
}

function int31(text: string): number {
  return parseInt(sha256(text).slice(0, 8), 16) & 0x7fffffff;
}
