import type { SourceState } from './plan';
import { foldHistory, keyOf, sourceStatus, type Applied } from './status';
import { problem } from './problems';
import type { HistoryRow, LockHolder, MigrationState, NewHistoryRow, Problem, Source, UnreadableRow } from './types';

/**
 * Where the run log lives (umzug's storage contract, with every attempt kept): make sure its
 * table exists, append a row, read the rows in run order. `Tx` is the storage's transaction (a
 * knex one for the database): a migration and its success row commit together.
 */
export interface HistoryStorage<Tx = never> {
  /** Creates (or upgrades) the table; called once per run, right before the first write. */
  ensure(): Promise<void>;
  append(row: NewHistoryRow, tx?: Tx): Promise<void>;
  /**
   * Writes a marker that an attempt has begun (a row with `running` set), before a migration
   * whose rollback would not undo its changes runs its first statement: a crash then leaves it
   * `interrupted`, not pending. Committed before the work starts; in `tx` only where the statement
   * after it commits it (MySQL's DDL).
   */
  start(row: NewHistoryRow, tx?: Tx): Promise<void>;
  /** Replaces the marker `start` wrote for this attempt (same migration, direction and `startedAt`) with its outcome; appends it when there is none. */
  finish(row: NewHistoryRow, tx?: Tx): Promise<void>;
  /** Makes room for rows that list their statements (`statements`), where the storage needs it; after ensure(). */
  ensureStatements?(): Promise<void>;
  /** Every row in run order (only `source`'s, when given); none when there is no table yet. */
  rows(source?: string): Promise<HistoryRow[]>;
  /**
   * One read for a decision: the rows, those we did not write set apart by source, and the lock's
   * holder when asked (a storage that keeps no such rows or lock: `rows()`, nothing set apart).
   */
  snapshot?(opts?: { source?: string; lock?: boolean }): Promise<HistoryRead>;
}

/** One read of the history: the rows, those we did not write set apart by source, and (when asked) the lock. */
export interface HistoryRead {
  readonly rows: HistoryRow[];
  readonly unreadable: UnreadableRow[];
  readonly lock?: LockHolder & { token: string };
}

/**
 * A run never applies a migration that is applied: a second success `up` row with no rollback
 * between was written by hand or by a broken run. Recording by hand (mark-applied of an edited
 * file, which takes its new checksum) is the one way to write it, so manual rows are not counted.
 */
function appliedTwice(rows: readonly HistoryRow[]): UnreadableRow[] {
  const inEffect = new Map<string, HistoryRow>();
  const found: UnreadableRow[] = [];
  for (const row of rows) {
    if (!row.success || row.skipped) continue;
    const key = keyOf(row.source, row.version);
    const before = inEffect.get(key);
    if (row.direction === 'up' && before && !row.manual) {
      found.push({ source: row.source, duplicate: true, text: `rows id ${before.id} and ${row.id} both record migration ${row.version} of ${row.source} as applied, with no rollback between` });
    }
    if (row.direction === 'up') inEffect.set(key, row);
    else inEffect.delete(key);
  }
  return found;
}

/** The history in memory: for unit tests of the rules, and for code that keeps no database. */
export class MemoryHistory implements HistoryStorage {
  private readonly log: HistoryRow[] = [];

  async ensure(): Promise<void> {}

  async append(row: NewHistoryRow): Promise<void> {
    this.log.push({ partial: false, manual: false, skipped: false, ...row, running: false, id: this.log.length + 1 });
  }

  async start(row: NewHistoryRow): Promise<void> {
    this.log.push({ partial: false, manual: false, skipped: false, ...row, running: true, id: this.log.length + 1 });
  }

  async finish(row: NewHistoryRow): Promise<void> {
    const i = this.log.findIndex((r) => r.running && r.source === row.source && r.version === row.version && r.direction === row.direction && r.startedAt === row.startedAt);
    if (i < 0) return this.append(row);
    this.log[i] = { partial: false, manual: false, skipped: false, ...row, running: false, id: this.log[i].id };
  }

  async rows(source?: string): Promise<HistoryRow[]> {
    return this.log.filter((r) => source === undefined || r.source === source).map((r) => ({ ...r }));
  }

  async snapshot(opts: { source?: string } = {}): Promise<HistoryRead> {
    return { rows: await this.rows(opts.source), unreadable: [] };
  }
}

/**
 * One read of the history, folded once and shared by everything a run decides from it:
 * statuses, the plan, the half-done check and the order rollbacks go in.
 */
export class HistorySnapshot {
  readonly applied: ReadonlyMap<string, Applied>;
  /**
   * Rows that cannot be trusted, by the source they name: those Migration Manager did not write
   * (given), and migrations applied twice with no rollback between (found here). That source is
   * blocked until they are fixed; the others run.
   */
  readonly unreadable: readonly UnreadableRow[];

  constructor(
    readonly rows: readonly HistoryRow[],
    /** Rows Migration Manager did not write, by the source they name. */
    unreadable: readonly UnreadableRow[] = [],
  ) {
    this.applied = foldHistory(rows);
    this.unreadable = [...unreadable, ...appliedTwice(rows)];
  }

  /** A source's untrusted history rows as problems of that source. */
  problemsOf(source: Source): Problem[] {
    return this.unreadable.filter((u) => u.source === source.id).map((u) => problem(source.dir || source.id, 1, 1, 'error', 'unreadable-history', u.duplicate
      ? `The history of this source cannot be trusted: ${u.text}, so a rollback would go out of order. Delete the row that is wrong (e.g. in the sqlite3 shell), or restore the database from a backup; this source does not run until then.`
      : `The history holds a row of this source that Migration Manager did not write (${u.text}). Fix or delete it (e.g. in the sqlite3 shell), or restore the database from a backup; this source does not run until then.`));
  }

  /** Each source's files joined with this history. */
  states(sources: readonly Source[], environment?: string): SourceState[] {
    return sources.map((source) => ({ source, states: sourceStatus(source, this.applied, environment) }));
  }

  /** When a migration was applied, as its up row's id (0: not applied): rolling back "the last" undoes the highest. */
  appliedOrder(s: { source: string; version: number }): number {
    return this.applied.get(keyOf(s.source, s.version))?.up?.id ?? 0;
  }

  /** Of these migrations, the version applied last (by apply order), if any is applied. */
  lastApplied(states: readonly MigrationState[]): number | undefined {
    let last: MigrationState | undefined;
    for (const s of states) if (s.applied && this.appliedOrder(s) > (last ? this.appliedOrder(last) : 0)) last = s;
    return last?.version;
  }

  /** The newest attempt at a migration, if any. */
  last(source: string, version: number): HistoryRow | undefined {
    return this.applied.get(keyOf(source, version))?.last;
  }
}
