import type { SourceState } from './plan';
import { foldHistory, keyOf, sourceStatus, type Applied } from './status';
import type { HistoryRow, MigrationState, NewHistoryRow, Source } from './types';

/**
 * Where the run log lives (umzug's storage contract, with every attempt kept): make sure its
 * table exists, append a row, read the rows in run order. `Tx` is the storage's transaction (a
 * knex one for the database): a migration and its success row commit together.
 */
export interface HistoryStorage<Tx = never> {
  /** Creates (or upgrades) the table; called once per run, right before the first write. */
  ensure(): Promise<void>;
  append(row: NewHistoryRow, tx?: Tx): Promise<void>;
  /** Every row in run order (only `source`'s, when given); none when there is no table yet. */
  rows(source?: string): Promise<HistoryRow[]>;
}

/** The history in memory: for unit tests of the rules, and for code that keeps no database. */
export class MemoryHistory implements HistoryStorage {
  private readonly log: HistoryRow[] = [];

  async ensure(): Promise<void> {}

  async append(row: NewHistoryRow): Promise<void> {
    this.log.push({ partial: false, manual: false, ...row, id: this.log.length + 1 });
  }

  async rows(source?: string): Promise<HistoryRow[]> {
    return this.log.filter((r) => source === undefined || r.source === source).map((r) => ({ ...r }));
  }
}

/**
 * One read of the history, folded once and shared by everything a run decides from it:
 * statuses, the plan, the half-done check and the order rollbacks go in.
 */
export class HistorySnapshot {
  readonly applied: ReadonlyMap<string, Applied>;

  constructor(readonly rows: readonly HistoryRow[]) {
    this.applied = foldHistory(rows);
  }

  /** Each source's files joined with this history. */
  states(sources: readonly Source[]): SourceState[] {
    return sources.map((source) => ({ source, states: sourceStatus(source, this.applied) }));
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
