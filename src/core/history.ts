import type { Knex } from 'knex';
import { MigrationsError } from './errors';
import type { Direction, HistoryRow } from './types';

export const HISTORY_TABLE = 'migration_history';

/** A row to append; `id` is assigned by the database. */
export type NewHistoryRow = Omit<HistoryRow, 'id'>;

const COLUMNS = ['id', 'source', 'version', 'description', 'checksum', 'direction', 'started_at', 'finished_at', 'duration_ms', 'success', 'error', 'transactional'];

/**
 * The append-only run log (umzug's storage contract, with every attempt kept).
 * Reads never create the table; only `ensure()` does, right before a run writes.
 */
export class HistoryStore {
  constructor(private readonly knex: Knex) {}

  async exists(): Promise<boolean> {
    return this.knex.schema.hasTable(HISTORY_TABLE);
  }

  async ensure(): Promise<void> {
    if (await this.exists()) return this.checkColumns();
    await this.knex.schema.createTable(HISTORY_TABLE, (t) => {
      t.increments('id').primary();
      t.string('source', 512).notNullable();
      t.bigInteger('version').notNullable();
      t.string('description', 1024).notNullable();
      t.string('checksum', 64).nullable();
      t.string('direction', 4).notNullable();
      t.string('started_at', 32).notNullable();
      t.string('finished_at', 32).notNullable();
      t.integer('duration_ms').notNullable();
      t.boolean('success').notNullable();
      t.text('error').nullable();
      t.boolean('transactional').notNullable().defaultTo(true);
      t.index(['source', 'version']);
    });
  }

  /** Every row in run order; empty when the table does not exist yet. */
  async rows(source?: string): Promise<HistoryRow[]> {
    if (!(await this.exists())) return [];
    await this.checkColumns();
    const q = this.knex(HISTORY_TABLE).select(COLUMNS).orderBy('id');
    const raw = (await (source === undefined ? q : q.where({ source }))) as Record<string, unknown>[];
    return raw.map(fromDb);
  }

  async append(row: NewHistoryRow, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.knex)(HISTORY_TABLE).insert({
      source: row.source,
      version: row.version,
      description: row.description,
      checksum: row.checksum,
      direction: row.direction,
      started_at: row.startedAt,
      finished_at: row.finishedAt,
      duration_ms: row.durationMs,
      success: row.success,
      error: row.error,
      transactional: row.transactional,
    });
  }

  private async checkColumns(): Promise<void> {
    const info = await this.knex(HISTORY_TABLE).columnInfo();
    const missing = COLUMNS.filter((c) => !(c in info));
    if (missing.length > 0) {
      throw new MigrationsError(
        `The table ${HISTORY_TABLE} exists but lacks column(s) ${missing.join(', ')}; it was not made by Migration Manager. ` +
          'Rename that table (or point migrations.database elsewhere) and run again; nothing was changed.',
      );
    }
  }
}

function fromDb(r: Record<string, unknown>): HistoryRow {
  return {
    id: Number(r.id),
    source: String(r.source),
    version: Number(r.version),
    description: String(r.description),
    checksum: r.checksum == null ? null : String(r.checksum),
    direction: r.direction === 'down' ? 'down' : ('up' as Direction),
    startedAt: String(r.started_at),
    finishedAt: String(r.finished_at),
    durationMs: Number(r.duration_ms),
    success: Boolean(Number(r.success)),
    error: r.error == null ? null : String(r.error),
    transactional: r.transactional == null ? true : Boolean(Number(r.transactional)),
  };
}
