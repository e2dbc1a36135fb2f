import { MigrationsError, PluginSchemaError, type HistoryRow, type MigrationEngine, type PluginSchemaRequest } from '../core';
import type { MigrationService, ServiceReport } from './services';

export interface PluginSchemaOptions {
  /** Higher runs first (the database service is 100 unless configured); unset: 0, as a plugin's migrations. */
  readonly priority?: number;
  /** Drop tables and columns and narrow types when the declared schema says so; unset: additive changes only (the others are refused). */
  readonly allowDestructive?: boolean;
}

/**
 * A plugin's declared schema as a service: at start-up its tables are brought to the declared
 * state (see the engine's applyPluginSchema), recorded in the history under the plugin's name
 * with the schema's version.
 */
export class PluginSchemaService implements MigrationService {
  constructor(
    readonly priority: number,
    private readonly engine: MigrationEngine,
    private readonly request: PluginSchemaRequest,
  ) {}

  get name(): string {
    return this.request.plugin;
  }

  /** True when the database's tables differ from the declared ones (only the tables the schema declares are looked at). */
  async hasMigrations(): Promise<boolean> {
    return (await this.engine.pluginSchema(this.request)).changes.length > 0;
  }

  /** A refusal, a lint error or a failed statement is `ok: false` with its reason; nothing was changed (see PluginSchemaError). */
  async runMigrations(): Promise<ServiceReport> {
    try {
      const r = await this.engine.applyPluginSchema(this.request);
      const step = { source: this.name, version: r.version, description: `plugin schema: ${r.changes.join(', ')}`, direction: 'up' as const, path: null, outcome: 'done' as const, durationMs: r.durationMs };
      return { service: this.name, ok: true, steps: r.applied ? [step] : [] };
    } catch (err) {
      if (err instanceof PluginSchemaError) return { service: this.name, ok: false, steps: [], error: err.message };
      throw err;
    }
  }

  async getMigrationHistory(): Promise<HistoryRow[]> {
    return this.engine.history({ source: this.name });
  }

  /** A declared schema has no step to undo: the plugin declares the schema it wants instead. */
  async rollback(): Promise<ServiceReport> {
    throw new MigrationsError(`${this.name}: a plugin schema is not rolled back; register the schema its tables should have (allowDestructive to drop what it no longer declares) and start again.`, { code: 'usage', facts: { source: this.name } });
  }
}
