/**
 * What the runner child (src/runner.ts) and the tests use of the core besides its public entry:
 * the message protocol between a parent and its runner, and the operations it serves. Not part of
 * the package's API (src/lib.ts exports index.ts only).
 */
export { serve, recordStoppedLater, OPS, perform, SourcesContext, TargetContext, type ChildRequest, type OpContext, type OpName } from './ops';
export { serializeError, type ChildEngineConfig, type ChildMessage, type ParentMessage, type StoppedStep } from './run/isolated';
export { RECORD_STOPPED_ENV, type StoppedRecord } from './run/thread';
