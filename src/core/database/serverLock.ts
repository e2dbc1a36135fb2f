import type { Knex } from 'knex';
import { crypto, sha256 } from '../model/checksum';
import { LockBusyError, MigrationsError } from '../model/errors';
import type { LockHolder, Logger } from '../model/types';
import { delay, HEARTBEAT_MS, LockRows, WaitNotices, type LockOptions, type MigrationLock } from './lock';

const NAMESPACE = 'migration-manager';

const SERVER_ADVICE = 'Wait for it to finish. If that process is gone, the server has already freed its lock (it ends with its connection): run again.';

/** A server's session lock, as SQL its dialect gives (each answers one value, named `v`). */
export interface SessionLockSql {
  /** This connection's session (PostgreSQL backend pid, MySQL connection id). */
  readonly session: string;
  /** What the lock covers (the database, and on PostgreSQL the schema). */
  readonly scope: string;
  /** Takes the lock without waiting: true or 1 when taken. */
  readonly tryLock: string;
  /** The session holding it, or null. */
  readonly holder: string;
  readonly unlock: string;
  /** The bindings of tryLock, holder and unlock for a scope. */
  bindings(scope: string): Knex.Value[];
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

function int31(text: string): number {
  return parseInt(sha256(text).slice(0, 8), 16) & 0x7fffffff;
}

/**
 * PostgreSQL's and MySQL/MariaDB's lock: the server's own session lock (see SessionLock), which
 * frees itself when its holder dies; the row in `migration_lock` then only names the holder for
 * the busy error, status and the tree. A row whose session is gone is a leftover, not a lock.
 */
export class ServerLock implements MigrationLock {
  private token: string | undefined;
  private lastBeat = 0;
  private readonly rows: LockRows;
  private readonly session: SessionLock;

  constructor(
    knex: Knex,
    sql: SessionLockSql,
    private readonly options: LockOptions,
    private readonly logger: Logger,
  ) {
    this.rows = new LockRows(knex, options.kind);
    this.session = new SessionLock(knex, sql);
  }

  /** Polls the server's lock; once held, any row left by a dead holder is replaced by ours. */
  async acquire(): Promise<void> {
    await this.rows.ensureTable();
    const started = Date.now();
    const notices = new WaitNotices(this.logger, this.options.timeoutMs);
    try {
      while (!(await this.session.tryAcquire())) {
        const waited = Date.now() - started;
        if (waited >= this.options.timeoutMs) {
          const holder = await this.current();
          throw new LockBusyError(holder ?? unnamedHolder(await this.session.holder()), waited, [SERVER_ADVICE]);
        }
        if (notices.due) notices.tell((await this.current()) ?? unnamedHolder(await this.session.holder()));
        await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
      }
      const leftover = await this.rows.read();
      if (leftover) {
        this.logger.warn(`Replacing the lock row left by ${leftover.holder} (pid ${leftover.pid} on ${leftover.host}): its connection is gone, so the server had already freed its lock.`);
        await this.rows.delete();
      }
      const token = `${this.session.id}:${crypto().randomUUID()}`;
      await this.rows.insert(token);
      this.token = token;
      this.lastBeat = Date.now();
    } catch (err) {
      await this.session.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Checked before every migration (one read): none may start once the lock's connection has
   * dropped. The row's heartbeat, which status shows, is written at most every HEARTBEAT_MS.
   */
  async heartbeat(): Promise<void> {
    if (!this.token) return;
    if (!(await this.session.held())) {
      throw new MigrationsError('The database connection holding the migration lock was lost, so the server freed the lock; stopped before the next migration so that two runners never overlap. Run again to apply the rest.');
    }
    if (Date.now() - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = Date.now();
    await this.rows.beat(this.token);
  }

  async release(): Promise<void> {
    const token = this.token;
    this.token = undefined;
    try {
      if (token) await this.rows.delete(token);
    } finally {
      // Also after a lost lock: the dedicated connection must close.
      await this.session.release();
    }
  }

  /** Only a holder of the server's lock counts: a row whose connection is gone is a leftover. */
  async current(): Promise<(LockHolder & { token: string }) | undefined> {
    const row = await this.rows.read();
    if (!row) return undefined;
    const session = await this.session.holder();
    if (session === undefined) return undefined;
    return row.token.startsWith(`${session}:`) ? row : unnamedHolder(session);
  }

  /** Only a leftover row can be removed: a live server lock ends with its holder's connection. */
  async unlock(): Promise<LockHolder | undefined> {
    const holder = await this.current();
    if (holder) {
      throw new MigrationsError(
        `The lock is held by ${holder.holder} (pid ${holder.pid} on ${holder.host}) through its open database connection. ` +
          'The server frees it by itself as soon as that process ends or its connection closes, so there is nothing to unlock: wait for the run to finish, or stop that process.',
      );
    }
    const leftover = await this.rows.read();
    if (leftover) await this.rows.delete(leftover.token);
    return leftover;
  }
}

/**
 * The server's session lock itself (PostgreSQL `pg_try_advisory_lock`, MySQL/MariaDB `GET_LOCK`).
 * It belongs to a session, so it is taken on one dedicated connection outside knex's pool, kept
 * for the whole run and released on that same connection. The run's queries use the pool, so
 * no pool size can make them wait for the lock's connection. When the holder dies, its
 * connection closes and the server frees the lock by itself.
 */
class SessionLock {
  private conn: unknown;
  private scope?: Promise<Knex.Value[]>;
  /** This lock's session on the server. */
  id?: number;

  constructor(
    private readonly knex: Knex,
    private readonly sql: SessionLockSql,
  ) {}

  /** Tries once without waiting; opens the dedicated connection on first use. */
  async tryAcquire(): Promise<boolean> {
    const bindings = await this.bindings();
    if (this.conn === undefined) {
      this.conn = await this.knex.client.acquireRawConnection();
      this.id = Number(await this.one(this.sql.session, [], this.conn));
    }
    const ok = await this.one(this.sql.tryLock, bindings, this.conn);
    return ok === true || Number(ok) === 1;
  }

  /** Still held by this process: false once its connection has dropped. */
  async held(): Promise<boolean> {
    if (this.conn === undefined || this.id === undefined) return false;
    try {
      return (await this.holder(this.conn)) === this.id;
    } catch {
      return false;
    }
  }

  /** The session holding the lock now, if any (read-only, any connection). */
  async holder(conn?: unknown): Promise<number | undefined> {
    const id = await this.one(this.sql.holder, await this.bindings(), conn);
    return id === undefined || id === null ? undefined : Number(id);
  }

  /**
   * Unlocks on the holding connection, then closes it. Closing frees the lock anyway, so a
   * failed unlock (the connection already dropped) is no error to report.
   */
  async release(): Promise<void> {
    const conn = this.conn;
    if (conn === undefined) return;
    this.conn = this.id = undefined;
    await this.one(this.sql.unlock, await this.bindings(), conn).catch(() => undefined);
    await this.knex.client.destroyRawConnection(conn).catch(() => undefined);
  }

  private bindings(): Promise<Knex.Value[]> {
    this.scope ??= this.one(this.sql.scope, []).then((scope) => this.sql.bindings(String(scope)));
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

/** A session holds the server's lock but wrote no row (yet, or it is not Migration Manager). */
function unnamedHolder(session: number | undefined): LockHolder & { token: string } {
  const id = session === undefined ? '' : ` ${session}`;
  return { holder: `database session${id}, which wrote no lock row`, host: 'the database server', pid: session ?? 0, acquiredAt: 'an unknown time', heartbeat: 'unknown', token: '' };
}

