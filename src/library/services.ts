import { HistorySnapshot, isPending, MigrationsError, type HistoryRow, type Migration, type MigrationEngine, type StepReport } from '../core';

/** What one service's run or rollback did. */
export interface ServiceReport {
  readonly service: string;
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  /** Why it stopped, when it did. */
  readonly error?: string;
}

/**
 * Something an app migrates at start-up, with its own versions: the database (file sources and
 * registered classes), or what a plugin brings (files, a search index, an external API).
 */
export interface MigrationService {
  readonly name: string;
  /** Higher runs first; the database service is 100 unless configured, a plugin's 0. */
  readonly priority: number;
  /** True when something is pending. */
  hasMigrations(): Promise<boolean>;
  runMigrations(): Promise<ServiceReport>;
  /** Every recorded run of this service, oldest first. */
  getMigrationHistory(): Promise<HistoryRow[]>;
  /** Undoes the last applied migration; `version`, when given, must be that one (undo further back with down to a version). */
  rollback(version?: number): Promise<ServiceReport>;
}

/** A plugin's migrations: steps with their own versions, recorded in the same history under `name`. */
export interface ServiceDefinition {
  readonly name: string;
  readonly priority?: number;
  /**
   * Each gets the knex the migrator runs on; one that changes no database sets
   * `transaction: false` (a failure then says whether it had changed anything).
   */
  readonly migrations: readonly (Migration | (new () => Migration))[];
}

/** A service over some of the engine's sources, run in their order, stopping at the first failure. */
export class SourcesService implements MigrationService {
  constructor(
    readonly name: string,
    readonly priority: number,
    private readonly engine: MigrationEngine,
    private readonly sourceIds: () => readonly string[],
  ) {}

  async hasMigrations(): Promise<boolean> {
    for (const id of this.sourceIds()) {
      if ((await this.engine.status(id)).sources.some((s) => s.migrations.some(isPending))) return true;
    }
    return false;
  }

  async runMigrations(): Promise<ServiceReport> {
    const steps: StepReport[] = [];
    for (const source of this.sourceIds()) {
      const report = await this.engine.up({ source });
      steps.push(...report.steps);
      if (!report.ok) return { service: this.name, ok: false, steps, error: report.error };
    }
    return { service: this.name, ok: true, steps };
  }

  async getMigrationHistory(): Promise<HistoryRow[]> {
    const ids = new Set(this.sourceIds());
    return (await this.engine.history()).filter((r) => ids.has(r.source));
  }

  async rollback(version?: number): Promise<ServiceReport> {
    const ids = this.sourceIds();
    const history = new HistorySnapshot(await this.engine.history());
    const applied = (await Promise.all(ids.map(async (id) => (await this.engine.status(id)).sources)))
      .flat()
      .flatMap((s) => s.migrations.filter((m) => m.applied));
    const last = applied.sort((a, b) => history.appliedOrder(b) - history.appliedOrder(a))[0];
    if (!last) return { service: this.name, ok: true, steps: [] };
    if (version !== undefined && version !== last.version) {
      throw new MigrationsError(`${this.name}: ${version} is not the last applied migration (${last.version} of ${last.source} is); roll back one at a time, or down to a version.`, { code: 'usage', facts: { source: last.source, version } });
    }
    const report = await this.engine.down({ source: last.source });
    return { service: this.name, ok: report.ok, steps: report.steps, error: report.error };
  }
}
