import { ResultCache } from '../sources/cache';
import { describeProject, loadProjectConfig } from '../loading/project';
import { processAlive } from '../database/lock';
import type { ChildEngineConfig, ChildMessage } from '../run/isolated';
import type { StoppedRecord } from '../run/thread';
import type { ProjectConfig } from '../config/project';
import { silentLogger, type Logger, type Source } from '../model/types';
import type { OpContext, Operation } from './operation';
import { SourcesContext } from './sources';
import { recordStopped } from './stopped';
import { OPS, type ChildRequest } from './table';
import { TargetContext } from './target';

/**
 * The contexts a parent described, in the runner child: its settings and config as given (a config
 * with code executed here, once), its folder sources as it read them (no discovery again).
 */
function contextFor(config: ChildEngineConfig, logger: Logger, discovered?: readonly Source[]): OpContext {
  const project: ProjectConfig | undefined = config.project === true ? loadProjectConfig(config.workspace) : config.project;
  const sources = new SourcesContext({ workspace: config.workspace, settings: config.settings, project, cache: config.cache ? ResultCache.forWorkspace(config.workspace) : undefined, discovered, logger });
  const target = TargetContext.of(sources, { db: config.db, runner: config.runner, logger, password: config.password === undefined ? undefined : async () => config.password });
  return { sources, target, logger, runner: config.runner, templatesDir: config.templatesDir };
}

/**
 * Runs the request the parent sent: the operation of the table, with the arguments it checked and
 * the precheck it made (the child decides again only what can change under the lock).
 */
export async function serve(config: ChildEngineConfig, request: ChildRequest, send: (message: ChildMessage) => void, signal: AbortSignal): Promise<unknown> {
  if (request.op === 'project') {
    const project = loadProjectConfig(config.workspace);
    return project ? describeProject(project) : null;
  }
  const log = (level: keyof Logger) => (message: string) => send({ type: 'log', level, message });
  const ctx = contextFor(config, { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') }, request.discovered);
  const op = OPS[request.op] as Operation<unknown, unknown, unknown>;
  try {
    return await op.run(ctx, request.args, request.precheck, {
      signal,
      events: {
        started: (steps) => send({ type: 'started', steps }),
        beforeMigration: (step, index, total, info) => send({ type: 'before', step, index, total, info }),
        partialRisk: (index) => send({ type: 'partial-risk', index }),
        afterMigration: (step, index, total) => send({ type: 'after', step, index, total }),
      },
      onMigration: (step) => send({ type: 'trying', step }),
    });
  } finally {
    await ctx.target.close();
    ctx.sources.cache?.save();
  }
}

/**
 * The helper a CLI starts as it ends itself with its runner thread stuck in one SQLite statement
 * (see RunnerThread): once the CLI is gone, and its connection and lock with it, it records the
 * migration that was stopped, as the CLI would have.
 */
export async function recordStoppedLater(record: StoppedRecord): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (processAlive(record.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const ctx = contextFor(record.config, silentLogger);
  try {
    await recordStopped.run(ctx, recordStopped.args(record.stopped as never), undefined, {});
  } finally {
    await ctx.target.close();
  }
}
