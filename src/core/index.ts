/**
 * The engine's public API, shared by the CLI, the runner child and the extension (they import
 * nothing else from the core). No `vscode` here.
 */
export { MigrationEngine, readProjectInChild, type CheckRequest, type EngineOptions, type RunOptions, type StatusReport, type SqlReport, type RecordReport, type ShadowsReport, type GenerateArgs, type GenerateReport, type RenameQuestion, type DocsReport, type PluginSchemaReport, type PluginSchemaRequest, type SchemaChangesArgs, type SchemaChangesReport } from './engine';
export { PluginSchemaError } from './ops/pluginSchema';
export { Discovery, checkText, findVersionsDirs } from './sources/discovery';
export { ResultCache } from './sources/cache';
export { loadMigration } from './loading/loader';
export { isDatabaseUrl, type PasswordProvider } from './database/database';
export type { IsolateOptions } from './run/isolated';
export { mergeProblems } from './model/problems';
export { historyOutcome, isPending, needsRepair, runError, sqlPreviewText, summarize, wasCancelled, type Summary } from './model/present';
export { HistorySnapshot, MemoryHistory, type HistoryStorage } from './model/history';
export { elsewhereLabel, type Elsewhere } from './model/elsewhere';
export { isCommonJs } from './loading/transpile';
export { parseMigrationName, plural, toSnakeCase, migrationFileName } from './model/naming';
export { defineConfig, findProjectConfig, priorityOf, SOURCE_PRIORITY, SERVICE_PRIORITY, PROJECT_CONFIG_FILES, projectConfigFrom, type ProjectConfig, type ProjectConfigInput, type MigrationLike } from './config/project';
export { loadProjectConfig, describeProject } from './loading/project';
export { readWorkspaceSettings, settingsFrom, isSqlite, CLIENTS, DEFAULT_SETTINGS, type Settings } from './config/settings';
export { describeError, explain, render, PLAIN_TERMS, type Advice, type ErrorCode, type ErrorFacts, type ErrorText, type Terms, MigrationsError, ConfigError, InvalidMigrationsError, MigrationRunError, LockBusyError, MigrationTimeoutError, CorruptHistoryError, DatabaseError, CancelledError } from './model/errors';
export type { RunEvents, RunReport, StepReport } from './run/runner';
export type { DownTarget, UpTarget } from './model/plan';
export type { Created } from './sources/create';
export type { CheckedMigration, DriftReport, VerifyReport } from './verify/verify';
export { SchemaOfAnotherDatabase } from './verify/schemaFile';
export type { TemporaryShadow } from './database/shadow';
export type { SchemaModel, TableModel, ColumnModel, IndexModel, ForeignKeyModel, SchemaChange } from './model/schema';
export { LINT_CODES, type LintCode, type LintFinding } from './model/lint';
export { checkSum, SUM_CODES, SUM_FILE } from './sources/integrity';
export * from './model/types';
// The declared schema (issue 22), public through the package entry's `export *`: defineSchema and knex's column types.
export {
  defineSchema, increments, bigIncrements, integer, bigInteger, tinyint, smallint, mediumint, string, text, float, double, decimal,
  boolean, date, datetime, time, timestamp, binary, enu, json, jsonb, uuid, DeclaredSchemaError,
  type Column, type DeclaredSchema, type TableDeclaration, type IndexDeclaration, type ForeignKeyDeclaration, type ReferentialAction,
} from './database/generate/declaredSchema';
