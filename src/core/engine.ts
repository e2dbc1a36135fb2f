import type { Knex } from 'knex';
import type { ResultCache } from './sources/cache';
import type { Created } from './sources/create';
import type { PasswordProvider } from './database/database';
import type { IsolateOptions } from './run/isolated';
import type { RunEvents, RunReport } from './run/runner';
import type { Settings } from './config/settings';
import type { ProjectConfig } from './config/project';
import type { UpTarget } from './model/plan';
import type { SchemaModel } from './model/schema';
import type { DriftReport, VerifyReport } from './verify/verify';
import type { HistoryStorage } from './model/history';
import type { HistoryRow, LockHolder, Logger, Migration, MigrationFile, Problem, Source } from './model/types';
import { closeContext, contextOf, LOCAL_OPS, perform, OPS, type OpContext } from './ops';
import type { DocsReport, PluginSchemaReport, PluginSchemaRequest, GenerateArgs, GenerateReport, RecordReport, SchemaChangesArgs, SchemaChangesReport, ShadowsReport, SqlReport, StatusReport } from './ops';

export type { DocsReport, PluginSchemaReport, PluginSchemaRequest, GenerateArgs, GenerateReport, RecordReport, RenameQuestion, SchemaChangesArgs, SchemaChangesReport, ShadowsReport, SqlReport, StatusReport } from './ops';
export { readProjectInChild } from './ops';

export interface EngineOptions {
  /** Absolute workspace folder; every relative setting resolves from here, never from cwd. */
  readonly workspace: string;
  /** Defaults to `migrations.*` in `<workspace>/.vscode/settings.json`. */
  readonly settings?: Settings;
  /**
   * The database over the settings and the config's (`--db`): a SQLite file, or a URL
   * (postgres://, postgresql://, mysql://, mariadb://, sqlite:); any other scheme is refused.
   */
  readonly db?: string;
  /**
   * A URL from the environment (the CLI's DATABASE_URL), taken as `db` only when nothing else
   * names a database: no `db`, no database given in code or by the config, settings at their defaults.
   */
  readonly databaseUrl?: string;
  /** The database instead of the settings': an app's own Knex instance (never destroyed here), or a knex config. */
  readonly database?: Knex | Knex.Config;
  readonly logger?: Logger;
  /** Names the lock holder: "cli" or "editor". */
  readonly runner?: string;
  /** Folder with `migration.ts.template` and `migration.js.template`. */
  readonly templatesDir?: string;
  /** Parse and transpile results kept between processes (the CLI's); saved on `close()`. */
  readonly cache?: ResultCache;
  /** Server password when `migrations.passwordEnv` names no set variable (the editor's secret storage). */
  readonly password?: PasswordProvider;
  /**
   * Execute migration files (runs, SQL preview, validate) in a child process, which a cancel or
   * a migration past `migrationTimeoutMs` ends. Unset: in this process (tests, the child itself).
   */
  readonly isolate?: IsolateOptions;
  /** @deprecated No effect: the runner child gets its parent's precheck with the request. */
  readonly prechecked?: boolean;
  /**
   * The workspace's `migrations.config.*`, executed (`loadProjectConfig`) or described by a child
   * that executed it (`readProjectInChild`, the editor's way). Its settings win over `settings`.
   */
  readonly project?: ProjectConfig;
  /**
   * The environment runs and statuses are for (`--env`), over `migrations.environment` and the
   * config's: migrations declaring others are skipped. It also picks a knexfile's environment.
   */
  readonly environment?: string;
  /**
   * The workspace is not trusted (VS Code's Restricted Mode): no module under it is loaded, so
   * nothing that executes a migration file or a knexfile is allowed, and a SQLite file is read
   * through Node's built-in driver (`sqlite3`/`better-sqlite3` would load from its node_modules).
   */
  readonly untrusted?: boolean;
  /** Where the history lives instead of the database's history table (an in-memory one for tests of rules). */
  readonly history?: HistoryStorage<Knex.Transaction>;
}

export interface RunOptions {
  /** Only this source (its id, or its folder relative to the workspace). */
  readonly source?: string;
  readonly events?: RunEvents;
  /** Checked between migrations: cancelling never interrupts one half-way. */
  readonly signal?: AbortSignal;
}

/** What verify and lint check: every pending migration, or those of one source, or one version. */
export interface CheckRequest {
  readonly source?: string;
  readonly version?: number;
  /** Checked between migrations here; in a child process, a cancel ends it at once. */
  readonly signal?: AbortSignal;
  /** Called as each migration's tries on the shadow begin, and with undefined as they end (the runner child's progress). */
  readonly onMigration?: (step: { source: string; version: number } | undefined) => void;
}

/**
 * The one API behind the CLI, the extension and the library: which migrations (a SourcesContext)
 * on which database (a TargetContext), each method one operation of `ops/` (see perform).
 * Reads never write; every write happens under the database lock.
 */
export class MigrationEngine {
  readonly workspace: string;
  readonly settings: Settings;
  private readonly ctx: OpContext;

  constructor(options: EngineOptions) {
    this.ctx = contextOf(options);
    this.workspace = this.ctx.sources.workspace;
    this.settings = this.ctx.sources.settings;
  }

  /** Where the history lives, without secrets. */
  get databaseLabel(): string {
    return this.ctx.target.label;
  }

  /** Migrations supplied in code instead of files, kept as their own source; `priority` places it in the run order. */
  registerMigrations(sourceId: string, migrations: readonly (Migration | (new () => Migration))[], opts: { priority?: number } = {}): void {
    this.ctx.sources.register(sourceId, migrations, opts);
  }

  /** Forgets what discovery knows of a file (or of every file): the editor reports a change. */
  invalidate(file?: string): void {
    this.ctx.sources.invalidate(file);
  }

  /** Every source in run order: priority setting (higher first), then id. Static only. */
  sources(only?: string): Source[] {
    return this.ctx.sources.sources(only);
  }

  /** Files joined with history. Opens SQLite read-only: no table or file is created. */
  status(only?: string): Promise<StatusReport> {
    return perform(OPS.status, this.ctx, { source: only });
  }

  /** Static checks, migrations.sum, and loading every file (executes workspace code: trusted workspaces only). */
  validate(only?: string, opts: { allowSumMismatch?: boolean } = {}): Promise<Problem[]> {
    return perform(OPS.validate, this.ctx, { source: only, allowSumMismatch: opts.allowSumMismatch });
  }

  /** The problems that only loading shows, per file: the editor's diagnostics. Executes workspace code. */
  loadProblems(files: readonly MigrationFile[]): Promise<(readonly Problem[])[]> {
    return perform(OPS.load, this.ctx, { files });
  }

  up(opts: RunOptions & UpTarget = {}): Promise<RunReport> {
    return perform(OPS.up, this.ctx, opts);
  }

  /** Rolls back the last applied migration; `{ to: V }` down to V (which stays applied); `{ all: true }` everything. */
  down(opts: RunOptions & Partial<{ to: number; all: boolean; last: boolean }> = {}): Promise<RunReport> {
    return perform(OPS.down, this.ctx, opts);
  }

  /** Rolls the last applied migration back and applies it again, under one lock. */
  redo(opts: RunOptions = {}): Promise<RunReport> {
    return perform(OPS.redo, this.ctx, opts);
  }

  /** The SQL an apply or rollback would run, captured in a transaction that is rolled back. */
  sql(direction: 'up' | 'down', opts: { source?: string; to?: number; all?: boolean } = {}): Promise<SqlReport> {
    return perform(OPS.sql, this.ctx, { direction, ...opts });
  }

  history(opts: { source?: string; limit?: number } = {}): Promise<HistoryRow[]> {
    return perform(OPS.history, this.ctx, opts);
  }

  lockHolder(): Promise<LockHolder | undefined> {
    return perform(OPS.lockHolder, this.ctx);
  }

  /** Releases a stale lock, or any lock with `force`. */
  unlock(force = false): Promise<LockHolder | undefined> {
    return perform(OPS.unlock, this.ctx, { force });
  }

  /** Records `version` as applied without running it (a baseline, the end of a repair by hand). */
  markApplied(opts: { source?: string; version: number }): Promise<RecordReport> {
    return perform(OPS.markApplied, this.ctx, opts);
  }

  /** Records every migration of the source up to `to` that is not applied as applied, in one step (Flyway's baseline). */
  markAppliedUpTo(opts: { source?: string; to: number }): Promise<{ source: string; to: number; versions: number[] }> {
    return perform(OPS.markAppliedUpTo, this.ctx, opts);
  }

  /** Records `version` as not applied without running it (after undoing it by hand): it is pending again. */
  forget(opts: { source?: string; version: number }): Promise<RecordReport> {
    return perform(OPS.forget, this.ctx, opts);
  }

  /** Moves the applied history of source `from` (a folder moved or renamed) to the folder source `to`. */
  renameSource(from: string, to: string): Promise<{ from: string; to: string; versions: number[] }> {
    return perform(OPS.renameSource, this.ctx, { from, to });
  }

  create(description: string, opts: { source?: string; js?: boolean } = {}): Created {
    return LOCAL_OPS.create.run(this.ctx, LOCAL_OPS.create.args({ description, ...opts }));
  }

  /** Proves each pending migration reversible on a shadow database (never this one). Executes workspace code. */
  verify(opts: CheckRequest = {}): Promise<VerifyReport> {
    return perform(OPS.verify, this.ctx, opts);
  }

  /** Each pending migration's SQL, captured on a shadow database, checked by the safety-lint rules. */
  lint(opts: CheckRequest = {}): Promise<VerifyReport> {
    return perform(OPS.lint, this.ctx, opts);
  }

  /** The live schema against the applied migrations replayed on a shadow: what changed outside migrations. */
  drift(opts: Pick<CheckRequest, 'signal' | 'onMigration'> = {}): Promise<DriftReport> {
    return perform(OPS.drift, this.ctx, opts);
  }

  /**
   * The next migration of a folder source, generated from its declared schema (or, `fromDatabase`, from
   * what was changed by hand here) and proved on a shadow before it is reported. Executes workspace code.
   */
  generate(opts: GenerateArgs & { signal?: AbortSignal }): Promise<GenerateReport> {
    return perform(OPS.generate, this.ctx, opts);
  }

  /** What generate would write, read-only: the changes not yet in migrations and its rename questions. Executes workspace code. */
  schemaChanges(opts: SchemaChangesArgs & { signal?: AbortSignal } = {}): Promise<SchemaChangesReport> {
    return perform(OPS.schemaChanges, this.ctx, opts);
  }

  /** Every source's migrations as Markdown: status, applied time, schema effect (replayed on a shadow), an ER diagram; `out` writes it there. */
  docs(opts: { out?: string; signal?: AbortSignal } = {}): Promise<DocsReport> {
    return perform(OPS.docs, this.ctx, opts);
  }

  /** The temporary shadow databases on the server that checks left; `drop` drops those no check uses. */
  shadows(opts: { drop?: boolean } = {}): Promise<ShadowsReport> {
    return perform(OPS.shadows, this.ctx, opts);
  }

  /** The live database's schema, dumped deterministically; `write` also saves it to the schema file. */
  schema(opts: { write?: boolean; replace?: boolean } = {}): Promise<{ model: SchemaModel; text: string; path?: string; written: boolean; database: string }> {
    return perform(OPS.schema, this.ctx, opts);
  }

  /** How a plugin's declared tables differ from the database's (tables it does not declare are left alone); reads only. */
  pluginSchema(request: PluginSchemaRequest): Promise<PluginSchemaReport> {
    return perform(OPS.pluginSchema, this.ctx, request);
  }

  /** Brings a plugin's declared tables to the declared state under the lock: refused, or stopped by a lint error, with nothing changed. */
  applyPluginSchema(request: PluginSchemaRequest): Promise<PluginSchemaReport> {
    return perform(OPS.applyPluginSchema, this.ctx, request);
  }

  /** Rewrites each folder source's migrations.sum from its files. */
  rehash(only?: string): { source: string; path: string; changed: boolean }[] {
    return LOCAL_OPS.rehash.run(this.ctx, LOCAL_OPS.rehash.args({ source: only }));
  }

  /** Closes database connections; the engine can be used again afterwards. */
  close(): Promise<void> {
    return closeContext(this.ctx);
  }
}
