import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Knex } from 'knex';
import { crypto } from '../model/checksum';
import { LockBusyError, MigrationsError } from '../model/errors';
import { ServerLock, serverDialect } from './nativeLock';
import type { LockHolder, Logger } from '../model/types';

export const LOCK_TABLE = 'migration_lock';
export const LOCK_ID = 1;
const HEARTBEAT_MS = 2_000;

export interface LockOptions {
  /** Who holds it, e.g. "cli" or "editor". */
  readonly kind: string;
  /** How long `acquire` waits for another runner before failing. */
  readonly timeoutMs: number;
  /** A heartbeat older than this marks the lock stale even on another host. */
  readonly staleMs: number;
  readonly pollMs?: number;
}

const SERVER_ADVICE = 'Wait for it to finish. If that process is gone, the server has already freed its lock (it ends with its connection): run again.';

/**
 * The lock every runner takes before writing to the database. SQLite: a single-row table
 * with heartbeat and stale detection. PostgreSQL and MySQL/MariaDB: the server's own lock
 * (see ServerLock), which frees itself when its holder dies; the same row then only names
 * the holder for the busy error, status and the tree.
 */
export class DatabaseLock {
  private token: string | undefined;
  private lastBeat = 0;
  private readonly server?: ServerLock;

  constructor(
    private readonly knex: Knex,
    private readonly options: LockOptions,
    private readonly logger: Logger,
  ) {
    const dialect = serverDialect(knex);
    if (dialect) this.server = new ServerLock(knex, dialect);
  }

  /** Waits up to `timeoutMs`; a stale lock is taken over, a live one ends in `LockBusyError`. */
  async acquire(): Promise<void> {
    await this.ensureTable();
    if (this.server) return this.acquireServer(this.server);
    const started = Date.now();
    const token = crypto().randomUUID();
    for (;;) {
      try {
        return await this.insertRow(token);
      } catch (err) {
        const current = await this.current();
        // The holder released between our insert and this read: try again at once.
        if (!current && isDuplicateKey(err)) continue;
        if (!current) throw err;
        if (isStale(current, this.options.staleMs)) {
          // Runners waiting together all see it stale; only the one whose delete hits says so.
          const released = await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token: current.token }).del();
          if (released > 0) this.logger.warn(`Released a stale lock held by ${current.holder} (pid ${current.pid} on ${current.host}, last heartbeat ${current.heartbeat}).`);
          continue;
        }
        const waited = Date.now() - started;
        if (waited >= this.options.timeoutMs) throw new LockBusyError(current, waited);
        await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
      }
    }
  }

  /** Writes our row (it fails on the primary key while another holder's row is there) and holds the lock. */
  private async insertRow(token: string): Promise<void> {
    const now = new Date().toISOString();
    await this.knex(LOCK_TABLE).insert({ id: LOCK_ID, holder: this.holderName(), host: os.hostname(), pid: process.pid, acquired_at: now, heartbeat: now, token });
    this.token = token;
    this.lastBeat = Date.now();
  }

  /** Polls the server's lock; once held, any row left by a dead holder is replaced by ours. */
  private async acquireServer(server: ServerLock): Promise<void> {
    const started = Date.now();
    try {
      while (!(await server.tryAcquire())) {
        const waited = Date.now() - started;
        if (waited >= this.options.timeoutMs) {
          const holder = await this.current();
          throw new LockBusyError(holder ?? unnamedHolder(await server.holder()), waited, SERVER_ADVICE);
        }
        await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
      }
      const leftover = await this.row();
      if (leftover) {
        this.logger.warn(`Replacing the lock row left by ${leftover.holder} (pid ${leftover.pid} on ${leftover.host}): its connection is gone, so the server had already freed its lock.`);
        await this.knex(LOCK_TABLE).where({ id: LOCK_ID }).del();
      }
      await this.insertRow(`${server.session}:${crypto().randomUUID()}`);
    } catch (err) {
      await server.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Proves the holder is alive; fails if another runner took the lock over meanwhile
   * (SQLite), or if the connection holding the server's lock dropped (checked every time:
   * one read, and no migration may start unlocked). At most one write per `HEARTBEAT_MS`:
   * called between migrations, it must not cost one write each. `db`: the connection free
   * between migrations (a run's shared SQLite transaction, in autocommit there).
   */
  async heartbeat(db: Knex = this.knex): Promise<void> {
    if (!this.token) return;
    // The token stays: release() still deletes our row (only ours, should another runner hold the lock by then).
    if (this.server && !(await this.server.held())) {
      throw new MigrationsError('The database connection holding the migration lock was lost, so the server freed the lock; stopped before the next migration so that two runners never overlap. Run again to apply the rest.');
    }
    if (Date.now() - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = Date.now();
    const updated = await db(LOCK_TABLE).where({ id: LOCK_ID, token: this.token }).update({ heartbeat: new Date().toISOString() });
    if (updated === 0 && !this.server) {
      this.token = undefined;
      throw new MigrationsError('The migration lock was taken over by another runner (it judged this one stale); stopping before the next migration.');
    }
  }

  async release(): Promise<void> {
    const token = this.token;
    this.token = undefined;
    try {
      if (token) await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token }).del();
    } finally {
      // Also after a lost heartbeat: the dedicated connection must close.
      await this.server?.release();
    }
  }

  /**
   * The current holder, if any; never creates the table. On a server only a holder of the
   * server's lock counts: a row whose connection is gone is a leftover, not a lock.
   */
  async current(): Promise<(LockHolder & { token: string }) | undefined> {
    const row = await this.row();
    if (!this.server || !row) return row;
    const session = await this.server.holder();
    if (session === undefined) return undefined;
    return row.token.startsWith(`${session}:`) ? row : unnamedHolder(session);
  }

  private async row(): Promise<(LockHolder & { token: string }) | undefined> {
    if (!(await this.knex.schema.hasTable(LOCK_TABLE))) return undefined;
    return lockHolderOf((await this.knex(LOCK_TABLE).where({ id: LOCK_ID }).first()) as Record<string, unknown> | undefined);
  }

  /** Releases a stale lock (or any lock with `force`); returns what was released. */
  async unlock(force: boolean): Promise<LockHolder | undefined> {
    if (this.server) return this.unlockServer();
    const current = await this.current();
    if (!current) return undefined;
    if (!force && !isStale(current, this.options.staleMs)) {
      throw new MigrationsError(
        `The lock is held by ${current.holder} (pid ${current.pid} on ${current.host}), which looks alive (heartbeat ${current.heartbeat}). ` +
          'If you are sure it is gone, use force unlock ("migrations unlock --force").',
      );
    }
    await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token: current.token }).del();
    return current;
  }

  /** Only a leftover row can be removed: a live server lock ends with its holder's connection. */
  private async unlockServer(): Promise<LockHolder | undefined> {
    const holder = await this.current();
    if (holder) {
      throw new MigrationsError(
        `The lock is held by ${holder.holder} (pid ${holder.pid} on ${holder.host}) through its open database connection. ` +
          'The server frees it by itself as soon as that process ends or its connection closes, so there is nothing to unlock: wait for the run to finish, or stop that process.',
      );
    }
    const leftover = await this.row();
    if (leftover) await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token: leftover.token }).del();
    return leftover;
  }

  private holderName(): string {
    return `${this.options.kind} ${safeUser()}@${os.hostname()}`;
  }

  private async ensureTable(): Promise<void> {
    if (await this.knex.schema.hasTable(LOCK_TABLE)) return;
    try {
      await this.knex.schema.createTable(LOCK_TABLE, (t) => {
        t.integer('id').primary();
        t.string('holder', 255).notNullable();
        t.string('host', 255).notNullable();
        t.integer('pid').notNullable();
        t.string('acquired_at', 32).notNullable();
        t.string('heartbeat', 32).notNullable();
        t.string('token', 64).notNullable();
      });
    } catch (err) {
      // Another runner created it at the same moment.
      if (!(await this.knex.schema.hasTable(LOCK_TABLE))) throw err;
    }
  }
}

/** Stale: its process is gone (same host), or it has not beaten for `staleMs`. */
export function isStale(holder: LockHolder, staleMs: number, now = Date.now()): boolean {
  if (holder.host === os.hostname() && !processAlive(holder.pid)) return true;
  const beat = Date.parse(holder.heartbeat);
  return Number.isNaN(beat) || now - beat > staleMs;
}

/** Whether `pid` is a process that has not exited (on this host). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed runner child whose parent died too waits as a zombie until init reaps it: it answers
  // signal 0, but it holds nothing any more (Linux shows the state in /proc).
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The lock row as a holder. */
export function lockHolderOf(row: Record<string, unknown> | undefined): (LockHolder & { token: string }) | undefined {
  if (!row) return undefined;
  return {
    holder: String(row.holder),
    host: String(row.host),
    pid: Number(row.pid),
    acquiredAt: String(row.acquired_at),
    heartbeat: String(row.heartbeat),
    token: String(row.token),
  };
}

/** A session holds the server's lock but wrote no row (yet, or it is not Migration Manager). */
function unnamedHolder(session: number | undefined): LockHolder & { token: string } {
  const id = session === undefined ? '' : ` ${session}`;
  return { holder: `database session${id}, which wrote no lock row`, host: 'the database server', pid: session ?? 0, acquiredAt: 'an unknown time', heartbeat: 'unknown', token: '' };
}

/** The insert hit the lock row's primary key (SQLite, PostgreSQL, MySQL wording). */
function isDuplicateKey(err: unknown): boolean {
  return /UNIQUE constraint|duplicate key|Duplicate entry/i.test(String((err as Error)?.message ?? err));
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
