/** The engine's public API, shared by the CLI and the extension. No `vscode` here. */
export { MigrationEngine, type EngineOptions, type RunOptions, type StatusReport, type SqlReport, type RecordReport } from './engine';
export { Discovery, checkText, findVersionsDirs } from './discovery';
export { loadMigration } from './loader';
export type { PasswordProvider } from './database';
export type { IsolateOptions } from './isolated';
export { mergeProblems } from './problems';
export { isCommonJs } from './transpile';
export { parseMigrationName, toSnakeCase, migrationFileName } from './naming';
export { readWorkspaceSettings, settingsFrom, isSqlite, DEFAULT_SETTINGS, type Settings } from './settings';
export { describeError, MigrationsError, ConfigError, InvalidMigrationsError, MigrationRunError, LockBusyError, MigrationTimeoutError, CorruptHistoryError, DatabaseError } from './errors';
export type { RunEvents, RunReport, StepReport } from './runner';
export type { Created } from './create';
export * from './types';
