import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Knex } from 'knex';
import type { LockHolder, Logger } from '../model/types';

export const LOCK_TABLE = 'migration_lock';
export const LOCK_ID = 1;
/** At most one heartbeat write per this long: called between migrations, it must not cost one write each. */
export const HEARTBEAT_MS = 2_000;

export interface LockOptions {
  /** Who holds it, e.g. "cli" or "editor". */
  readonly kind: string;
  /** How long `acquire` waits for another runner before failing. */
  readonly timeoutMs: number;
  /** A heartbeat older than this marks the lock stale even on another host. */
  readonly staleMs: number;
  readonly pollMs?: number;
}

/**
 * The lock every runner takes before writing to the database, one kind per dialect: a table
 * lock for SQLite (TableLock), the server's own lock for PostgreSQL and MySQL/MariaDB
 * (ServerLock). Both keep one row in `migration_lock` naming the holder.
 */
export interface MigrationLock {
  /** Waits up to `timeoutMs`; a holder that is gone is taken over, a live one ends in `LockBusyError`. */
  acquire(): Promise<void>;
  /**
   * Between migrations: fails when the lock is no longer this runner's. `db` is the connection
   * free at that moment (a run's shared SQLite transaction, in autocommit there).
   */
  heartbeat(db?: Knex): Promise<void>;
  release(): Promise<void>;
  /** The current holder, if any; never creates the table. */
  current(): Promise<(LockHolder & { token: string }) | undefined>;
  /** Releases a lock whose holder is gone (any lock with `force`, where the dialect allows it); returns what was released. */
  unlock(force: boolean): Promise<LockHolder | undefined>;
}

/** How often a runner waiting for the lock says whom it waits for. */
export const LOCK_NOTICE_MS = 3_000;

/** A wait for the lock is never silent: whom it waits for as it begins, then every LOCK_NOTICE_MS. */
export class WaitNotices {
  private next = 0;
  private readonly started = Date.now();

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Time for the next notice. */
  get due(): boolean {
    return Date.now() - this.started >= this.next;
  }

  tell(holder: LockHolder): void {
    const waited = Date.now() - this.started;
    this.next = (Math.floor(waited / LOCK_NOTICE_MS) + 1) * LOCK_NOTICE_MS;
    const limit = `${this.timeoutMs / 1000} s (migrations.lockTimeoutMs)`;
    this.logger.warn(`Waiting for the migration lock, held by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${holder.acquiredAt}; ` +
      (waited < 1000 ? `waiting up to ${limit}.` : `waited ${Math.floor(waited / 1000)} s of ${limit}.`));
  }
}

/** The `migration_lock` table: one row while a runner holds the lock. */
export class LockRows {
  constructor(
    readonly knex: Knex,
    private readonly kind: string,
  ) {}

  async ensureTable(): Promise<void> {
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

  /** Writes our row; it fails on the primary key while another holder's row is there. */
  async insert(token: string): Promise<void> {
    const now = new Date().toISOString();
    await this.knex(LOCK_TABLE).insert({ id: LOCK_ID, holder: `${this.kind} ${safeUser()}@${os.hostname()}`, host: os.hostname(), pid: process.pid, acquired_at: now, heartbeat: now, token });
  }

  async read(): Promise<(LockHolder & { token: string }) | undefined> {
    if (!(await this.knex.schema.hasTable(LOCK_TABLE))) return undefined;
    return lockHolderOf((await this.knex(LOCK_TABLE).where({ id: LOCK_ID }).first()) as Record<string, unknown> | undefined);
  }

  /** Deletes the row with `token` (any row without one); how many rows went. */
  async delete(token?: string): Promise<number> {
    return this.knex(LOCK_TABLE).where(token === undefined ? { id: LOCK_ID } : { id: LOCK_ID, token }).del();
  }

  /** Beats our row on `db`; how many rows it updated (0: it is not ours any more). */
  async beat(token: string, db: Knex = this.knex): Promise<number> {
    return db(LOCK_TABLE).where({ id: LOCK_ID, token }).update({ heartbeat: new Date().toISOString() });
  }
}

/** Stale: its process is gone (same host), or it has not beaten for `staleMs`. */
export function isStale(holder: LockHolder, staleMs: number, now = Date.now()): boolean {
  if (holder.host === os.hostname() && !processAlive(holder.pid)) return true;
  const beat = Date.parse(holder.heartbeat);
  return Number.isNaN(beat) || now - beat > staleMs;
}

/** Releases a lock row of this process left by a thread that was ended (its pid, ours, looks alive). */
export async function releaseOwnLock(lock: MigrationLock): Promise<void> {
  const holder = await lock.current();
  if (holder && holder.host === os.hostname() && holder.pid === process.pid) await lock.unlock(true);
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

/** The insert hit the lock row's primary key (SQLite, PostgreSQL, MySQL wording). */
export function isDuplicateKey(err: unknown): boolean {
  return /UNIQUE constraint|duplicate key|Duplicate entry/i.test(String((err as Error)?.message ?? err));
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
