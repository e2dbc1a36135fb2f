import type { Knex } from 'knex';
import type { HistoryRead, HistoryStorage } from '../model/history';
import type { HistoryRow, NewHistoryRow } from '../model/types';
import type { Connections } from './connections';
import type { Dialect } from './dialect';
import { HistoryStore } from './history';
import type { MigrationLock } from './lock';

/**
 * The history table of a target's database, as a HistoryStorage: writes through the write
 * connection, reads through the read one, or (the built-in SQLite driver, before any write)
 * straight from the file without loading knex.
 */
export class DatabaseHistory implements HistoryStorage<Knex.Transaction> {
  private store?: HistoryStore;

  constructor(
    private readonly connections: Connections,
    private readonly dialect: Dialect,
    private readonly label: string,
    private readonly lockOf: (knex: Knex) => MigrationLock,
  ) {}

  /** A fresh store for each run: what it learns of the table is trusted for that run only. */
  async ensure(): Promise<void> {
    this.store = new HistoryStore(this.connections.write(), this.label);
    await this.store.ensure();
  }

  append(row: NewHistoryRow, tx?: Knex.Transaction): Promise<void> {
    return this.writeStore().append(row, tx);
  }

  start(row: NewHistoryRow, tx?: Knex.Transaction): Promise<void> {
    return this.writeStore().start(row, tx);
  }

  finish(row: NewHistoryRow, tx?: Knex.Transaction): Promise<void> {
    return this.writeStore().finish(row, tx);
  }

  ensureStatements(): Promise<void> {
    return this.writeStore().ensureStatements();
  }

  /** Every row; a row we did not write is an error here (snapshot() sets such rows apart instead). */
  async rows(source?: string): Promise<HistoryRow[]> {
    const knex = this.connections.read();
    return knex ? new HistoryStore(knex, this.label).rows(source) : [];
  }

  /** One read of the rows, those we did not write set apart, and the lock's holder when asked. */
  async snapshot(opts: { source?: string; lock?: boolean } = {}): Promise<HistoryRead> {
    if (this.dialect.quickRead && !this.connections.writing) return this.dialect.quickRead(opts.source);
    const knex = this.connections.read();
    if (!knex) return { rows: [], unreadable: [] };
    return { ...(await new HistoryStore(knex, this.label).read(opts.source)), lock: opts.lock ? await this.lockOf(knex).current() : undefined };
  }

  private writeStore(): HistoryStore {
    const knex = this.connections.write();
    if (!this.store || this.store.knex !== knex) this.store = new HistoryStore(knex, this.label);
    return this.store;
  }
}
