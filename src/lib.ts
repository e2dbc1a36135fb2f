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
import { MigrationOrchestrator } from './library/orchestrator';
import { SourcesService, type MigrationService, type ServiceDefinition } from './library/services';
import { PluginSchemaService, type PluginSchemaOptions } from './library/pluginSchema';
import {
  loadProjectConfig,
  MigrationEngine,
  priorityOf,
  MigrationsError,
  SERVICE_PRIORITY,
  projectConfigFrom,
  type ProjectConfigInput,
  readWorkspaceSettings,
  settingsFrom,
  type EngineOptions,
  type Logger,
  type RunOptions,
  type RunReport,
  type Settings,
  type UpTarget,
  type DeclaredSchema,
} from './core';

// What an app imports (README, "Public API"); the CLI's, the editor's and the runner's internals stay in ./core.
export {
  MigrationEngine, defineConfig, MemoryHistory, PLAIN_TERMS,
  MigrationsError, ConfigError, InvalidMigrationsError, MigrationRunError, LockBusyError, MigrationTimeoutError, CorruptHistoryError, DatabaseError, CancelledError,
} from './core';
export type {
  EngineOptions, RunOptions, CheckRequest, UpTarget, DownTarget, Settings, Logger, Migration, MigrationLike, ProjectConfigInput, HistoryStorage,
  RunReport, StepReport, StatusReport, MigrationState, MigrationStatus, HistoryRow, Problem, ProblemCode, LockHolder, SqlReport, RecordReport, ShadowsReport, GenerateArgs, GenerateReport, RenameQuestion, DocsReport, Created,
  VerifyReport, CheckedMigration, DriftReport, LintFinding, LintCode, SchemaModel, TableModel, ColumnModel, IndexModel, ForeignKeyModel, SchemaChange,
  ErrorCode, ErrorFacts, Terms, PluginSchemaReport, PluginSchemaRequest,
} from './core';
export { PluginSchemaError } from './core';
export { MigrationOrchestrator, type OrchestratorReport } from './library/orchestrator';
export { SourcesService, type MigrationService, type ServiceDefinition, type ServiceReport } from './library/services';
export { PluginSchemaService, type PluginSchemaOptions } from './library/pluginSchema';

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
  /** The environment the app runs in (over `migrations.environment` and the config's): migrations for others are skipped. */
  readonly environment?: string;
  /**
   * The project config: unset or true reads the workspace's `migrations.config.*` if it has one
   * (the app is trusted code); an object is used instead of the file; false reads none.
   * What is given here in code (knex, connection, settings) wins over it.
   */
  readonly config?: boolean | ProjectConfigInput;
}

/** A run that did not finish: `report` says what was done, what failed and what did not run. */
export class MigrationRunFailedError extends MigrationsError {
  constructor(readonly report: RunReport) {
    const failed = report.steps.find((s) => s.outcome === 'failed');
    super(report.errorText ?? [report.error ?? 'The run did not finish.'], {
      code: report.cancelled ? 'error' : report.code ?? 'migration-failed',
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
  /** Migrations supplied in code, as a source of their own (part of the database's, unless a priority places it). */
  registerMigrations: MigrationEngine['registerMigrations'];
  /** Closes the connections this migrator opened (never the app's own Knex instance). */
  close(): Promise<void>;
  /** The database as a service: its file sources and registered migrations (priority 100 unless given). */
  databaseService(priority?: number): MigrationService;
  /** A plugin's migrations as a service, recorded in the same history under its name. */
  service(definition: ServiceDefinition): MigrationService;
  /** The services `migrations.config.*` declares (its `services`), for the orchestrator. */
  configServices(): MigrationService[];
  /**
   * A plugin's declared tables (`defineSchema`), which the orchestrator brings to the declared
   * state at start-up in its priority order: additive changes only unless `allowDestructive`, a
   * change lint calls an error stops it, nothing is half-applied (a transaction where the database
   * allows), and the history records it under `pluginName` with the schema's version and its SQL.
   * Register before createOrchestrator(migrator).
   */
  registerPluginSchema(pluginName: string, schema: DeclaredSchema, opts?: PluginSchemaOptions): MigrationService;
  /** True when the database's tables differ from those the plugin's registered schema declares. */
  hasPluginMigrations(pluginName: string): Promise<boolean>;
  /** The registered plugin schemas as services, in the order registered (the orchestrator orders them by priority). */
  pluginSchemaServices(): MigrationService[];
  /** The engine underneath, for everything else (validate, sql, mark-applied, forget, create). */
  readonly engine: MigrationEngine;
}

export function createMigrator(options: MigratorOptions): Migrator {
  if (options.knex && options.connection) throw new MigrationsError('Pass either knex (an instance) or connection (a config), not both.', { code: 'config' });
  const workspace = path.resolve(options.workspace);
  const project = options.config === false ? undefined
    : typeof options.config === 'object' ? projectConfigFrom(options.config, path.join(workspace, 'createMigrator({ config })'))
    : loadProjectConfig(workspace);
  const settings = options.settings ? settingsFrom(Object.fromEntries(Object.entries(options.settings).map(([k, v]) => [`migrations.${k}`, v])), 'the settings given') : readWorkspaceSettings(workspace);
  const engineOptions: EngineOptions = { workspace, project: project && { ...project, settings: Object.fromEntries(Object.entries(project.settings).filter(([k]) => !(k in (options.settings ?? {})))) }, settings, database: options.knex ?? options.connection, logger: options.logger, runner: 'app', environment: options.environment };
  const engine = new MigrationEngine(engineOptions);
  const settled = (report: RunReport) => {
    if (!report.ok) throw new MigrationRunFailedError(report);
    return report;
  };
  const configServices = (project?.code ?? []).filter((c) => c.service !== undefined);
  const plugins = new Set<string>(configServices.map((c) => c.id));
  const schemas = new Map<string, PluginSchemaService>();
  // A plugin schema's rows carry its versions (hashes) under its name: a source of that name would read them as its migrations.
  const refuseSchemaName = (call: string, name: string) => {
    if (schemas.has(name)) throw new MigrationsError(`${call}: "${name}" is the name of a registered plugin schema; give one of them another name.`, { code: 'config', facts: { source: name } });
  };
  return {
    engine,
    databaseService: (priority = 100) => new SourcesService('database', priority, engine, () => engine.sources().map((s) => s.id).filter((id) => !plugins.has(id))),
    service: (definition) => {
      refuseSchemaName('service', definition.name);
      // The engine orders `up()` by the same priority the orchestrator runs services in.
      const priority = definition.priority ?? SERVICE_PRIORITY;
      engine.registerMigrations(definition.name, definition.migrations, { priority });
      plugins.add(definition.name);
      return new SourcesService(definition.name, priority, engine, () => [definition.name]);
    },
    status: (source) => engine.status(source),
    history: (opts) => engine.history(opts),
    up: async (opts = {}) => settled(await engine.up(opts)),
    down: async (opts = {}) => settled(await engine.down(opts)),
    registerMigrations: (sourceId, migrations, opts) => {
      refuseSchemaName('registerMigrations', sourceId);
      engine.registerMigrations(sourceId, migrations, opts);
    },
    registerPluginSchema: (pluginName, schema, opts = {}) => {
      refuseSchemaName('registerPluginSchema', pluginName);
      if (plugins.has(pluginName) || engine.sources().some((s) => s.id === pluginName)) {
        throw new MigrationsError(`registerPluginSchema: "${pluginName}" is the name of a migration source or service; a plugin schema is recorded under a name of its own.`, { code: 'config', facts: { source: pluginName } });
      }
      if ((schema as { declaredSchema?: unknown } | undefined)?.declaredSchema !== true) throw new MigrationsError(`registerPluginSchema("${pluginName}"): the schema must be made with defineSchema({ tables: … }).`, { code: 'usage', facts: { source: pluginName } });
      const service = new PluginSchemaService(opts.priority ?? SERVICE_PRIORITY, engine, { plugin: pluginName, schema, allowDestructive: opts.allowDestructive });
      schemas.set(pluginName, service);
      return service;
    },
    hasPluginMigrations: async (pluginName) => {
      const service = schemas.get(pluginName);
      if (!service) throw new MigrationsError(`hasPluginMigrations: no plugin schema is registered as "${pluginName}"${schemas.size > 0 ? `; the registered ones are ${[...schemas.keys()].join(', ')}` : ''}.`, { code: 'usage', facts: { source: pluginName } });
      return service.hasMigrations();
    },
    pluginSchemaServices: () => [...schemas.values()],
    configServices: () => configServices.map((c) => new SourcesService(c.id, priorityOf(c.id, project, engine.settings), engine, () => [c.id])),
    close: () => engine.close(),
  };
}

/**
 * The migrator's database service, then every plugin's (services and registered schemas), run by priority and stopping at the first
 * failure: `await createOrchestrator(migrator, { services: [searchIndex] }).runAll()` at start-up.
 */
export function createOrchestrator(migrator: Migrator, opts: { services?: readonly (ServiceDefinition | MigrationService)[]; databasePriority?: number } = {}): MigrationOrchestrator {
  const orchestrator = new MigrationOrchestrator([migrator.databaseService(opts.databasePriority), ...migrator.configServices(), ...migrator.pluginSchemaServices()]);
  for (const s of opts.services ?? []) orchestrator.register('runMigrations' in s ? s : migrator.service(s));
  return orchestrator;
}
// The declared schema (issue 22): defineSchema and knex's column types.
export {
  defineSchema, increments, bigIncrements, integer, bigInteger, tinyint, smallint, mediumint, string, text, float, double, decimal,
  boolean, date, datetime, time, timestamp, binary, enu, json, jsonb, uuid, DeclaredSchemaError,
  type Column, type DeclaredSchema, type TableDeclaration, type IndexDeclaration, type ForeignKeyDeclaration, type ReferentialAction,
} from './core';
