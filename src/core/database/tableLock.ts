import type { Knex } from 'knex';
import { crypto } from '../model/checksum';
import { LockBusyError, MigrationsError } from '../model/errors';
import type { LockHolder, Logger } from '../model/types';
import { delay, HEARTBEAT_MS, isDuplicateKey, isStale, LockRows, type LockOptions, type MigrationLock } from './lock';

/**
 * SQLite's lock: the single row in `migration_lock` is the lock (its primary key lets one runner
 * in), kept alive by a heartbeat; a row whose process is gone or whose heartbeat is older than
 * `staleMs` is stale, and the next runner takes it over.
 */
export class TableLock implements MigrationLock {
  private token: string | undefined;
  private lastBeat = 0;
  private readonly rows: LockRows;

  constructor(
    knex: Knex,
    private readonly options: LockOptions,
    private readonly logger: Logger,
  ) {
    this.rows = new LockRows(knex, options.kind);
  }

  async acquire(): Promise<void> {
    await this.rows.ensureTable();
    const started = Date.now();
    const token = crypto().randomUUID();
    for (;;) {
      try {
        await this.rows.insert(token);
        this.token = token;
        this.lastBeat = Date.now();
        return;
      } catch (err) {
        const current = await this.current();
        // The holder released between our insert and this read: try again at once.
        if (!current && isDuplicateKey(err)) continue;
        if (!current) throw err;
        if (isStale(current, this.options.staleMs)) {
          // Runners waiting together all see it stale; only the one whose delete hits says so.
          if ((await this.rows.delete(current.token)) > 0) {
            this.logger.warn(`Released a stale lock held by ${current.holder} (pid ${current.pid} on ${current.host}, last heartbeat ${current.heartbeat}).`);
          }
          continue;
        }
        const waited = Date.now() - started;
        if (waited >= this.options.timeoutMs) throw new LockBusyError(current, waited);
        await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
      }
    }
  }

  /** Fails if another runner took the lock over meanwhile (it judged this one stale). */
  async heartbeat(db?: Knex): Promise<void> {
    if (!this.token || Date.now() - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = Date.now();
    if ((await this.rows.beat(this.token, db)) === 0) {
      this.token = undefined;
      throw new MigrationsError('The migration lock was taken over by another runner (it judged this one stale); stopping before the next migration.');
    }
  }

  async release(): Promise<void> {
    const token = this.token;
    this.token = undefined;
    // Only our row: another runner may hold the lock by then.
    if (token) await this.rows.delete(token);
  }

  current(): Promise<(LockHolder & { token: string }) | undefined> {
    return this.rows.read();
  }

  async unlock(force: boolean): Promise<LockHolder | undefined> {
    const current = await this.current();
    if (!current) return undefined;
    if (!force && !isStale(current, this.options.staleMs)) {
      throw new MigrationsError(
        [`The lock is held by ${current.holder} (pid ${current.pid} on ${current.host}), which looks alive (heartbeat ${current.heartbeat}). If you are sure it is gone, `, { do: 'unlock', force: true }, '.'],
        { code: 'lock-busy', facts: { holder: current } },
      );
    }
    await this.rows.delete(current.token);
    return current;
  }
}
