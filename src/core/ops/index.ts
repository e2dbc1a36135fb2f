// The operations and the contexts they run with: what the facade (engine.ts) and the runner child use.
export { OPS, LOCAL_OPS, type ChildRequest, type OpName } from './table';
export { perform } from './perform';
export { closeContext, contextOf, onTarget, type ContextOptions } from './context';
export { SourcesContext, type SourcesOptions } from './sources';
export { TargetContext, type TargetOptions } from './target';
export type { OpContext, OpIO, Operation, LocalOperation } from './operation';
export type { StatusReport } from './status';
export type { SqlReport } from './sql';
export type { RecordReport } from './record';
export type { ShadowsReport } from './checks';
export type { GenerateArgs, GenerateReport, RenameQuestion, SchemaChangesArgs, SchemaChangesReport } from './generate';
export type { DocsReport } from './docs';
export { PluginSchemaError, type PluginSchemaReport, type PluginSchemaRequest } from './pluginSchema';
export { readProjectInChild } from './project';
export { serve, recordStoppedLater } from './serve';
