import type { Knex } from 'knex';
import { crypto } from '../model/checksum';
import { describeError, LockBusyError, MigrationsError } from '../model/errors';
import type { LockHolder, Logger } from '../model/types';
import { delay, HEARTBEAT_MS, isDuplicateKey, isStale, LockRows, WaitNotices, type LockOptions, type MigrationLock } from './lock';

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
    const notices = new WaitNotices(this.logger, this.options.timeoutMs);
    for (;;) {
      // Read before inserting: an insert while the holder is inside a migration would wait for its
      // transaction (SQLite's busy timeout, 5 s), past lockTimeoutMs; a read in WAL mode never waits.
      const current = await this.current();
      if (!current) {
        try {
          await this.rows.insert(token);
          this.token = token;
          this.lastBeat = Date.now();
          return;
        } catch (err) {
          // Another runner inserted between our read and our insert: read who.
          if (isDuplicateKey(err)) continue;
          throw err;
        }
      }
      if (isStale(current, this.options.staleMs)) {
        // Runners waiting together all see it stale; only the one whose delete hits says so.
        if ((await this.rows.delete(current.token)) > 0) {
          this.logger.warn(`Released a stale lock held by ${current.holder} (pid ${current.pid} on ${current.host}, last heartbeat ${current.heartbeat}).`);
        }
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= this.options.timeoutMs) throw new LockBusyError(current, waited);
      if (notices.due) notices.tell(current);
      await delay(Math.min(this.options.pollMs ?? 100, this.options.timeoutMs - waited));
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
    try {
      await this.rows.delete(current.token);
    } catch (err) {
      // The holder is inside a migration: its open transaction keeps the file locked (SQLITE_BUSY).
      if (!/SQLITE_BUSY|SQLITE_LOCKED/.test(`${(err as { code?: unknown })?.code} ${describeError(err)}`)) throw err;
      throw new MigrationsError(
        `The lock is held by ${current.holder} (pid ${current.pid} on ${current.host}), which is running a migration now: its open transaction keeps the database file locked, ` +
          `so the lock cannot be released. Wait for that run to finish, or stop process ${current.pid} (the migration it is running is rolled back), then run again.`,
        { code: 'lock-busy', facts: { holder: current }, cause: err },
      );
    }
    return current;
  }
}
