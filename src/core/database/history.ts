import type { Knex } from 'knex';
import { CorruptHistoryError, historyNotATable, MigrationsError } from '../model/errors';
import type { HistoryRead, HistoryStorage } from '../model/history';
import type { Direction, HistoryRow, NewHistoryRow, UnreadableRow } from '../model/types';

export const HISTORY_TABLE = 'migration_history';


/** Columns every version of the table has; a table without them is not ours. */
const COLUMNS = ['id', 'source', 'version', 'description', 'checksum', 'direction', 'started_at', 'finished_at', 'duration_ms', 'success', 'error', 'transactional'];
/** Columns added since the first version: `ensure()` adds them to an older table, reads default them. */
const ADDED_COLUMNS = ['partial', 'manual', 'skipped', 'running'] as const;
/**
 * The SQL a plugin schema's change ran (see ops/pluginSchema.ts): added by the first such change
 * only (ensureStatements), so a history no plugin schema writes to keeps the table it had.
 */
const STATEMENTS = 'statements';

/**
 * The history table through knex. Reads never create or alter the table; only `ensure()` does,
 * right before a run writes. One store serves one run: what it learnt of the table (that it
 * exists, its columns) is checked once and remembered.
 */
export class HistoryStore implements HistoryStorage<Knex.Transaction> {
  /** The table's columns once known; undefined until checked (or when there is no table). */
  private present?: Set<string>;

  /** `where` names the database in errors (a label without secrets). */
  constructor(
    readonly knex: Knex,
    private readonly where = 'the database',
  ) {}

  async ensure(): Promise<void> {
    const present = await this.columns();
    if (present) {
      const missing = ADDED_COLUMNS.filter((c) => !present.has(c));
      // A table made by an earlier version: add the new columns, old rows read as false.
      if (missing.length > 0) {
        await this.knex.schema.alterTable(HISTORY_TABLE, (t) => {
          for (const c of missing) t.boolean(c).notNullable().defaultTo(false);
        });
        for (const c of missing) present.add(c);
      }
      return;
    }
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
      t.boolean('partial').notNullable().defaultTo(false);
      t.boolean('manual').notNullable().defaultTo(false);
      t.boolean('skipped').notNullable().defaultTo(false);
      t.boolean('running').notNullable().defaultTo(false);
      t.index(['source', 'version']);
    });
    this.present = new Set([...COLUMNS, ...ADDED_COLUMNS]);
  }

  /** Adds the column that holds the statements a row ran, when the table lacks it (after ensure()). */
  async ensureStatements(): Promise<void> {
    const present = await this.columns();
    if (!present || present.has(STATEMENTS)) return;
    await this.knex.schema.alterTable(HISTORY_TABLE, (t) => {
      t.text(STATEMENTS).nullable();
    });
    present.add(STATEMENTS);
  }

  /** Every row in run order; empty when the table does not exist yet. A row we did not write is an error, not a guess. */
  async rows(source?: string): Promise<HistoryRow[]> {
    return historyRows(await this.raw(source), this.where);
  }

  /** The rows, with those we did not write set apart by their source (see readHistoryRows). */
  async read(source?: string): Promise<HistoryRead> {
    return readHistoryRows(await this.raw(source), this.where);
  }

  private async raw(source?: string): Promise<Record<string, unknown>[]> {
    const present = await this.columns();
    if (!present) return [];
    const q = this.knex(HISTORY_TABLE).select(historyColumns(present)).orderBy('id');
    return (await (source === undefined ? q : q.where({ source }))) as Record<string, unknown>[];
  }

  async append(row: NewHistoryRow, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.knex)(HISTORY_TABLE).insert(columnsOf(row));
  }

  async start(row: NewHistoryRow, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.knex)(HISTORY_TABLE).insert({ ...columnsOf(row), running: true });
  }

  async finish(row: NewHistoryRow, trx?: Knex.Transaction): Promise<void> {
    const db = trx ?? this.knex;
    // The attempt's own marker: its migration, direction and start (a marker an earlier, killed attempt left stays as it is).
    const updated = await db(HISTORY_TABLE).where({ source: row.source, version: row.version, direction: row.direction, started_at: row.startedAt, running: true }).update({ ...columnsOf(row), running: false });
    if (updated === 0) await db(HISTORY_TABLE).insert(columnsOf(row));
  }

  /** The table's columns (checked to be ours), or undefined when there is no table; remembered once found. */
  private async columns(): Promise<Set<string> | undefined> {
    if (this.present) return this.present;
    const kind = await historyKind(this.knex);
    if (kind === undefined) return undefined;
    if (kind !== 'table') throw historyNotATable(this.where, kind);
    return (this.present = checkHistoryColumns(Object.keys(await this.knex(HISTORY_TABLE).columnInfo()), this.where));
  }
}

/**
 * What `migration_history` is: a table, another kind of object (a view: knex's hasTable misses one
 * on SQLite, which then reads as no history, and counts one as a table on PostgreSQL and MySQL), or
 * nothing (undefined). A view's rows are not ours, and writing through it is a guess.
 */
async function historyKind(knex: Knex): Promise<string | undefined> {
  const dialect = (knex.client as { dialect?: string }).dialect;
  const kinds = async (sql: string, kindOf: (type: string) => string): Promise<string | undefined> => {
    const result = (await knex.raw(sql, [HISTORY_TABLE])) as unknown;
    const rows = (Array.isArray(result) ? (dialect === 'mysql' ? result[0] : result) : (result as { rows: unknown[] }).rows) as { type: unknown }[];
    const types = rows.map((r) => kindOf(String(r.type)));
    return types.includes('table') ? 'table' : types[0];
  };
  switch (dialect) {
    case 'sqlite3':
      return kinds("select type from sqlite_master where name = ? and type in ('table', 'view')", (t) => t);
    case 'postgresql':
      // relkind: r table, p partitioned table, v view, m materialized view, f foreign table.
      return kinds('select c.relkind as type from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relname = ?',
        (t) => (t === 'r' || t === 'p' ? 'table' : t === 'v' ? 'view' : t === 'm' ? 'materialized view' : t === 'f' ? 'foreign table' : `relation of kind "${t}"`));
    case 'mysql':
      return kinds('select table_type as type from information_schema.tables where table_schema = database() and table_name = ?',
        (t) => (t === 'BASE TABLE' || t === 'SYSTEM VERSIONED' ? 'table' : t.toLowerCase()));
    default:
      return (await knex.schema.hasTable(HISTORY_TABLE)) ? 'table' : undefined;
  }
}

/** A row as the table's columns. */
function columnsOf(row: NewHistoryRow): Record<string, unknown> {
  return {
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
    partial: row.partial ?? false,
    manual: row.manual ?? false,
    skipped: row.skipped ?? false,
    ...(row.statements === undefined ? {} : { [STATEMENTS]: row.statements }),
  };
}

/** The columns present, or an error when one of ours is missing (someone else's table of that name). */
export function checkHistoryColumns(names: readonly string[], where: string): Set<string> {
  const present = new Set(names);
  const missing = COLUMNS.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new MigrationsError(
      `The table ${HISTORY_TABLE} in ${where} exists but lacks column(s) ${missing.join(', ')}; it was not made by Migration Manager. ` +
        'Rename that table (or point migrations.database elsewhere) and run again; nothing was changed.',
    );
  }
  return present;
}

/** The columns to read: ours, the added ones only where the table has them. */
export function historyColumns(present: ReadonlySet<string>): string[] {
  return [...COLUMNS, ...[...ADDED_COLUMNS, STATEMENTS].filter((c) => present.has(c))];
}

/** Raw rows as history, in the order given; a row we did not write is an error, not a guess. */
export function historyRows(raw: readonly Record<string, unknown>[], where: string): HistoryRow[] {
  const { rows, unreadable } = readHistoryRows(raw, where);
  if (unreadable.length > 0) throw new CorruptHistoryError(where, unreadable.map((u) => u.text));
  return rows;
}

/**
 * Raw rows as history, with the rows we did not write set apart by the source they name: that
 * source is blocked, the others are not. A bad row that names no source blocks everything.
 */
export function readHistoryRows(raw: readonly Record<string, unknown>[], where: string): HistoryRead {
  const rows: HistoryRow[] = [];
  const unreadable: { source: unknown; text: string }[] = [];
  for (const r of raw) {
    const row = fromDb(r);
    if (typeof row === 'string') unreadable.push({ source: r.source, text: row });
    else rows.push(row);
  }
  if (unreadable.some((u) => typeof u.source !== 'string' || u.source === '')) throw new CorruptHistoryError(where, unreadable.map((u) => u.text));
  return { rows, unreadable: unreadable as UnreadableRow[] };
}

/** A row, or what is wrong with it: values we never write must not be read as something else. */
function fromDb(r: Record<string, unknown>): HistoryRow | string {
  const id = Number(r.id);
  const problems: string[] = [];
  const version = Number(r.version);
  if (typeof r.version === 'boolean' || r.version === null || r.version === '' || !Number.isSafeInteger(version) || version < 1) problems.push(`version ${show(r.version)} is not a whole number`);
  if (r.direction !== 'up' && r.direction !== 'down') problems.push(`direction ${show(r.direction)} is neither "up" nor "down"`);
  const success = flag(r.success);
  if (success === undefined) problems.push(`success ${show(r.success)} is neither true nor false`);
  if (typeof r.source !== 'string' || r.source === '') problems.push(`source ${show(r.source)} is not a source folder`);
  if (problems.length > 0) return `row id ${show(r.id)}: ${problems.join(', ')}`;
  return {
    id,
    source: String(r.source),
    version,
    description: String(r.description ?? ''),
    checksum: r.checksum == null ? null : String(r.checksum),
    direction: r.direction as Direction,
    startedAt: String(r.started_at),
    finishedAt: String(r.finished_at),
    durationMs: Number(r.duration_ms),
    success: success!,
    error: r.error == null ? null : String(r.error),
    transactional: flag(r.transactional) ?? true,
    partial: flag(r.partial) ?? false,
    manual: flag(r.manual) ?? false,
    skipped: flag(r.skipped) ?? false,
    running: flag(r.running) ?? false,
    ...(r.statements == null ? {} : { statements: String(r.statements) }),
  };
}

/** Booleans as SQLite (0/1), MySQL (0/1) and PostgreSQL (true/false) return them. */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 1n) return true;
  if (value === false || value === 0 || value === '0' || value === 0n) return false;
  return undefined;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return typeof value === 'bigint' ? String(value) : JSON.stringify(value) ?? String(value);
}
