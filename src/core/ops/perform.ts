import { ConfigError } from '../model/errors';
import { dropShadowsOf } from '../database/shadow';
import { forkRunner, runInChild, type ChildEngineConfig, type RunnerProcess } from '../run/isolated';
import type { ProjectConfig } from '../config/project';
import { isDone, requireTrust, resultOf, type OpContext, type OpIO, type Operation } from './operation';
import { recordStopped } from './stopped';
import type { ChildRequest, OpName } from './table';

/**
 * Performs an operation for any front end, the one place that decides where it runs: arguments
 * checked, workspace code refused when untrusted, the read-only precheck here, then
 * `op.executesCode && isolated ? run in the runner child : run here`. The child runs the same
 * operation with the same arguments and precheck (see serve).
 */
export async function perform<A, R, P>(op: Operation<A, R, P>, ctx: OpContext, raw: object = {}): Promise<R> {
  const given = raw as Record<string, unknown> & OpIO;
  const args = op.args(given);
  if (op.executesCode) requireTrust(ctx, op.executesCode);
  const isolated = op.executesCode !== undefined && ctx.isolate !== undefined;
  // The runner (a child process, or the CLI's worker thread) loads its code while this process
  // prechecks: about 50 ms less at every apply; one with nothing to do is ended unused.
  const early = isolated && crosses(ctx) ? forkRunner(ctx.isolate!) : undefined;
  try {
    const pre = op.precheck ? await op.precheck(ctx, args) : (undefined as P);
    if (isDone<R>(pre)) return resultOf(pre);
    const result = isolated ? await inChild<R>(op, ctx, { op: op.name as OpName, args, precheck: pre, discovered: op.discovered?.(pre as P) } as ChildRequest, given, early) : await op.run(ctx, args, pre as P, given);
    return op.finish ? op.finish(ctx, args, pre as P, result) : result;
  } finally {
    // Unused (nothing to do, a refusal), or left alive by a failure before it was asked: ended.
    if (early?.connected) early.kill();
  }
}

/** Registered migrations and a database given in code live in this process's memory: they cannot cross to the child. */
function crosses(ctx: OpContext): boolean {
  return ctx.sources.inMemory.size === 0 && !ctx.target.inCode;
}

/** The operation in the runner child (see `EngineOptions.isolate`), with progress streamed back. */
async function inChild<T>(op: { readonly onShadow?: boolean }, ctx: OpContext, request: ChildRequest, io: OpIO, child?: RunnerProcess): Promise<T> {
  const { sources, target, logger } = ctx;
  const { settings } = sources;
  if (sources.inMemory.size > 0) throw new ConfigError('Migrations registered in code cannot run in a child process; declare them in migrations.config.ts, or create the engine without "isolate".');
  if (target.inCode) throw new ConfigError('A database given in code cannot cross to a child process; create the engine without "isolate".');
  // A password from secret storage travels over the pipe; the child reads the environment itself.
  const password = target.dialect.server && !process.env[settings.passwordEnv] ? await target.password?.() : undefined;
  const config: ChildEngineConfig = {
    workspace: sources.workspace, settings, db: target.db, runner: ctx.runner, templatesDir: ctx.templatesDir, cache: sources.cache !== undefined, password,
    project: sources.project && projectForChild(sources.project),
  };
  return runInChild<T, ChildRequest>(child ?? forkRunner(ctx.isolate!), config, request, {
    events: io.events, signal: io.signal, logger, timeoutMs: settings.migrationTimeoutMs,
    recordStopped: (stopped) => recordStopped.run(ctx, recordStopped.args(stopped as never), undefined, {}),
    killOnCancel: op.onShadow,
    // A temporary shadow database on a server outlives a runner ended mid-check: drop it from here.
    leftBehind: op.onShadow && target.dialect.server && !settings.shadowDatabase ? async (pid) => {
      const dropped = await dropShadowsOf(target.target, pid);
      if (dropped.length > 0) logger.info(`Dropped the temporary shadow database(s) the stopped runner left: ${dropped.join(', ')}.`);
    } : undefined,
  });
}

/**
 * The config as the child gets it: plain data when it holds nothing but data (it was executed
 * once, here), else `true`: the child executes it for its migrations in code, hooks or a
 * connection function (a description, the editor's, is executed there too: it left its code behind).
 */
function projectForChild(project: ProjectConfig): ProjectConfig | true {
  const code = project.described || project.hooks !== undefined || project.code.length > 0 || typeof project.database?.connection === 'function';
  return code ? true : project;
}
