// Executes migration files for the CLI (on a worker thread of its process) and the extension (as
// a child process); see core/run/isolated.ts: one request in, progress and logs out, then the result.
import { parentPort } from 'node:worker_threads';
import {
  describeProject,
  loadProjectConfig,
  MigrationEngine,
  processAlive,
  RECORD_STOPPED_ENV,
  ResultCache,
  serializeError,
  type ChildEngineConfig,
  type ChildMessage,
  type ChildRequest,
  type Logger,
  type ParentMessage,
  type ProjectConfig,
  type RunEvents,
  type StoppedRecord,
} from './core';

/** The way to the parent: parentPort on a worker thread, the IPC channel in a child process. */
interface Channel {
  /** `then` runs once the message is handed over (a child's pipe writes asynchronously). */
  send(message: ChildMessage, then?: () => void): void;
  onMessage(listener: (message: ParentMessage) => void): void;
  close(): void;
  /** The parent is gone (editor closed, CLI killed). */
  onGone(listener: () => void): void;
}

const port = parentPort;
const channel: Channel = port
  ? {
      send: (message, then) => {
        port.postMessage(message);
        then?.();
      },
      onMessage: (listener) => port.on('message', listener),
      close: () => port.close(),
      onGone: (listener) => port.once('close', listener),
    }
  : {
      send: (message, then) => process.send!(message, undefined, {}, then),
      onMessage: (listener) => process.on('message', listener),
      close: () => process.disconnect(),
      onGone: (listener) => process.on('disconnect', listener),
    };
const send = channel.send;
const abort = new AbortController();

/** The engine the parent described (the parent planned on a read: it reads again under the lock). */
function engineFor(config: ChildEngineConfig, logger: Logger, project: ProjectConfig | undefined): MigrationEngine {
  return new MigrationEngine({
    project,
    workspace: config.workspace,
    settings: config.settings,
    db: config.db,
    runner: config.runner,
    templatesDir: config.templatesDir,
    cache: config.cache ? ResultCache.forWorkspace(config.workspace) : undefined,
    logger,
    password: config.password === undefined ? undefined : async () => config.password,
    prechecked: true,
  });
}

async function serve(config: ChildEngineConfig, request: ChildRequest): Promise<unknown> {
  const log = (level: keyof Logger) => (message: string) => send({ type: 'log', level, message });
  const project = config.project || request.op === 'project' ? loadProjectConfig(config.workspace) : undefined;
  if (request.op === 'project') return project ? describeProject(project) : null;
  const engine = engineFor(config, { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') }, project);
  const events: RunEvents = {
    started: (steps) => send({ type: 'started', steps }),
    beforeMigration: (step, index, total, info) => send({ type: 'before', step, index, total, info }),
    partialRisk: (index) => send({ type: 'partial-risk', index }),
    afterMigration: (step, index, total) => send({ type: 'after', step, index, total }),
  };
  const run = { signal: abort.signal, events };
  const trying = (step: { source: string; version: number } | undefined) => send({ type: 'trying', step });
  try {
    switch (request.op) {
      case 'up':
        return await engine.up({ ...run, source: request.source, ...request.target });
      case 'down':
        return await engine.down({ ...run, source: request.source, ...request.target });
      case 'redo':
        return await engine.redo({ ...run, source: request.source });
      case 'sql':
        return await engine.sql(request.direction, { source: request.source, to: request.to, all: request.all });
      case 'validate':
        return await engine.validate(request.source);
      case 'load':
        return await engine.loadProblems(request.files);
      case 'check': {
        const opts = { source: request.source, version: request.version, onMigration: trying };
        return await (request.reversibility ? engine.verify(opts) : engine.lint(opts));
      }
      case 'drift':
        return await engine.drift({ onMigration: trying });
    }
  } finally {
    await engine.close();
  }
}

/**
 * The helper a CLI starts as it ends itself with its runner thread stuck in one SQLite statement
 * (see RunnerThread): once the CLI is gone, and its connection and lock with it, it records the
 * migration that was stopped, as the CLI would have.
 */
async function recordStopped(record: StoppedRecord): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (processAlive(record.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const quiet = () => {};
  const engine = engineFor(record.config, { info: quiet, warn: quiet, error: quiet, debug: quiet }, record.config.project ? loadProjectConfig(record.config.workspace) : undefined);
  try {
    await engine.recordStopped({ ...record.stopped, startedAt: new Date(record.stopped.startedAt) });
  } finally {
    await engine.close();
  }
}

const onMessage = (message: ParentMessage) => {
  if (message.type === 'cancel') return abort.abort();
  // Disconnect only once the answer is written: a large report could otherwise be cut off.
  const answer = (reply: ChildMessage) => send(reply, () => channel.close());
  serve(message.config, message.request).then(
    (value) => answer({ type: 'result', value }),
    (err) => answer({ type: 'error', error: serializeError(err) }),
  );
};
const record = process.env[RECORD_STOPPED_ENV];
if (record) void recordStopped(JSON.parse(record) as StoppedRecord);
else channel.onMessage(onMessage);
// The parent gone: stop at the next migration boundary.
channel.onGone(() => abort.abort());
