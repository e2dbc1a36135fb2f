import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { LockBusyError, MigrationsError } from './errors';
import type { LockHolder, Logger } from './types';

export const LOCK_TABLE = 'migration_lock';
const LOCK_ID = 1;
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

/** The single-row lock every runner takes before writing to the database. */
export class DatabaseLock {
  private token: string | undefined;
  private lastBeat = 0;

  constructor(
    private readonly knex: Knex,
    private readonly options: LockOptions,
    private readonly logger: Logger,
  ) {}

  /** Waits up to `timeoutMs`; a stale lock is taken over, a live one ends in `LockBusyError`. */
  async acquire(): Promise<void> {
    await this.ensureTable();
    const started = Date.now();
    const token = randomUUID();
    for (;;) {
      const now = new Date().toISOString();
      const holder = `${this.options.kind} ${safeUser()}@${os.hostname()}`;
      try {
        await this.knex(LOCK_TABLE).insert({ id: LOCK_ID, holder, host: os.hostname(), pid: process.pid, acquired_at: now, heartbeat: now, token });
        this.token = token;
        this.lastBeat = Date.now();
        return;
      } catch (err) {
        const current = await this.current();
        // The holder released between our insert and this read: try again at once.
        if (!current && isDuplicateKey(err)) continue;
        if (!current) throw err;
        if (isStale(current, this.options.staleMs)) {
          this.logger.warn(`Releasing a stale lock held by ${current.holder} (pid ${current.pid} on ${current.host}, last heartbeat ${current.heartbeat}).`);
          await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token: current.token }).del();
          continue;
        }
        const waited = Date.now() - started;
        if (waited >= this.options.timeoutMs) throw new LockBusyError(current, waited);
        await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
      }
    }
  }

  /**
   * Proves the holder is alive; fails if another runner took the lock over meanwhile.
   * At most one write per `HEARTBEAT_MS`: called between migrations, it must not cost one write each.
   */
  async heartbeat(): Promise<void> {
    if (!this.token || Date.now() - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = Date.now();
    const updated = await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token: this.token }).update({ heartbeat: new Date().toISOString() });
    if (updated === 0) {
      this.token = undefined;
      throw new MigrationsError('The migration lock was taken over by another runner (it judged this one stale); stopping before the next migration.');
    }
  }

  async release(): Promise<void> {
    if (!this.token) return;
    const token = this.token;
    this.token = undefined;
    await this.knex(LOCK_TABLE).where({ id: LOCK_ID, token }).del();
  }

  /** The current holder, if any; never creates the table. */
  async current(): Promise<(LockHolder & { token: string }) | undefined> {
    if (!(await this.knex.schema.hasTable(LOCK_TABLE))) return undefined;
    const row = (await this.knex(LOCK_TABLE).where({ id: LOCK_ID }).first()) as Record<string, unknown> | undefined;
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

  /** Releases a stale lock (or any lock with `force`); returns what was released. */
  async unlock(force: boolean): Promise<LockHolder | undefined> {
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

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
