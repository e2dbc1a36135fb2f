/**
 * Migration Manager as a library: the engine an app runs at start-up, on its own knex.
 *
 *   import { createMigrator } from 'migration-manager';
 *   const migrator = createMigrator({ workspace: __dirname, knex });
 *   await migrator.up(); // rejects with MigrationRunFailedError (its `report`) when a migration fails
 *
 * The same engine as the CLI and the editor, in the app's process: migrations run here, not in a
 * child process (the app is the process to stop), and the app's Knex instance is used as it is.
 */
import * as path from 'node:path';
import type { Knex } from 'knex';
import {
  MigrationEngine,
  MigrationsError,
  readWorkspaceSettings,
  settingsFrom,
  type EngineOptions,
  type Logger,
  type Migration,
  type RunOptions,
  type RunReport,
  type Settings,
  type UpTarget,
} from './core';

export * from './core';

export interface MigratorOptions {
  /** The folder whose `versions/` folders hold the migrations (relative: to the current folder). */
  readonly workspace: string;
  /** The app's own Knex instance: used as it is, and left open by `close()`. */
  readonly knex?: Knex;
  /** Or a knex config (`{ client, connection }`); a SQLite `filename` is relative to the workspace. */
  readonly connection?: Knex.Config;
  /** `migrations.*` settings, over the defaults; unset: the workspace's `.vscode/settings.json`. */
  readonly settings?: Partial<Settings>;
  readonly logger?: Logger;
}

/** A run that did not finish: `report` says what was done, what failed and what did not run. */
export class MigrationRunFailedError extends MigrationsError {
  constructor(readonly report: RunReport) {
    const failed = report.steps.find((s) => s.outcome === 'failed');
    super(report.errorText ?? [report.error ?? 'The run did not finish.'], {
      code: report.cancelled ? 'error' : 'migration-failed',
      facts: failed && { source: failed.source, version: failed.version, direction: failed.direction, file: failed.path ?? undefined },
    });
  }
}

export interface Migrator {
  /** Every source's migrations with their status; reads only. */
  status: MigrationEngine['status'];
  history: MigrationEngine['history'];
  /** Applies the pending migrations (up to `to`); rejects with MigrationRunFailedError when one fails. */
  up(opts?: RunOptions & UpTarget): Promise<RunReport>;
  /** Rolls back exactly one migration, the last applied (or down `to` a version, or `all`); rejects like `up`. */
  down(opts?: RunOptions & Partial<{ to: number; all: boolean }>): Promise<RunReport>;
  /** Migrations supplied in code, as a source of their own. */
  registerMigrations(sourceId: string, migrations: readonly (Migration | (new () => Migration))[]): void;
  /** Closes the connections this migrator opened (never the app's own Knex instance). */
  close(): Promise<void>;
  /** The engine underneath, for everything else (validate, sql, mark-applied, forget, create). */
  readonly engine: MigrationEngine;
}

export function createMigrator(options: MigratorOptions): Migrator {
  if (options.knex && options.connection) throw new MigrationsError('Pass either knex (an instance) or connection (a config), not both.', { code: 'config' });
  const workspace = path.resolve(options.workspace);
  const settings = options.settings ? settingsFrom(Object.fromEntries(Object.entries(options.settings).map(([k, v]) => [`migrations.${k}`, v])), 'the settings given') : readWorkspaceSettings(workspace);
  const engineOptions: EngineOptions = { workspace, settings, database: options.knex ?? options.connection, logger: options.logger, runner: 'app' };
  const engine = new MigrationEngine(engineOptions);
  const settled = (report: RunReport) => {
    if (!report.ok) throw new MigrationRunFailedError(report);
    return report;
  };
  return {
    engine,
    status: (source) => engine.status(source),
    history: (opts) => engine.history(opts),
    up: async (opts = {}) => settled(await engine.up(opts)),
    down: async (opts = {}) => settled(await engine.down(opts)),
    registerMigrations: (sourceId, migrations) => engine.registerMigrations(sourceId, migrations),
    close: () => engine.close(),
  };
}
