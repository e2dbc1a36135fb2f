// The child process that executes migration files for the CLI and the extension (see
// core/run/isolated.ts): one request in, progress and logs out, then the result, then exit.
import { describeProject, loadProjectConfig, MigrationEngine, ResultCache, serializeError, type ChildMessage, type ChildRequest, type Logger, type ParentMessage, type RunEvents } from './core';

const send = (message: ChildMessage, then?: () => void) => process.send!(message, undefined, {}, then);
const abort = new AbortController();

async function serve(config: Extract<ParentMessage, { type: 'start' }>['config'], request: ChildRequest): Promise<unknown> {
  const log = (level: keyof Logger) => (message: string) => send({ type: 'log', level, message });
  const project = config.project || request.op === 'project' ? loadProjectConfig(config.workspace) : undefined;
  if (request.op === 'project') return project ? describeProject(project) : null;
  const engine = new MigrationEngine({
    project,
    workspace: config.workspace,
    settings: config.settings,
    db: config.db,
    runner: config.runner,
    templatesDir: config.templatesDir,
    cache: config.cache ? ResultCache.forWorkspace(config.workspace) : undefined,
    logger: { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') },
    password: config.password === undefined ? undefined : async () => config.password,
    // The parent planned on a read before it asked: the history is read once more, under the lock.
    prechecked: true,
  });
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

process.on('message', (message: ParentMessage) => {
  if (message.type === 'cancel') return abort.abort();
  // Disconnect only once the answer is written: a large report could otherwise be cut off.
  const answer = (reply: ChildMessage) => send(reply, () => process.disconnect());
  serve(message.config, message.request).then(
    (value) => answer({ type: 'result', value }),
    (err) => answer({ type: 'error', error: serializeError(err) }),
  );
});
// The parent gone (editor closed, CLI killed): stop at the next migration boundary.
process.on('disconnect', () => abort.abort());
