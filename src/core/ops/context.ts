import type { IsolateOptions } from '../run/isolated';
import { silentLogger, type Logger } from '../model/types';
import type { OpContext } from './operation';
import { SourcesContext, type SourcesOptions } from './sources';
import { TargetContext, type TargetOptions } from './target';

/** Everything a MigrationEngine is built from (EngineOptions is this, documented for users). */
export type ContextOptions = SourcesOptions & TargetOptions & {
  readonly logger?: Logger;
  readonly runner?: string;
  readonly templatesDir?: string;
  readonly untrusted?: boolean;
  readonly isolate?: IsolateOptions;
};

/** One sources context and the target its settings name (or the options give). */
export function contextOf(options: ContextOptions): OpContext {
  const logger = options.logger ?? silentLogger;
  const sources = new SourcesContext({ ...options, logger });
  const target = TargetContext.of(sources, { ...options, logger });
  return { sources, target, logger, runner: options.runner, templatesDir: options.templatesDir, untrusted: options.untrusted, isolate: options.isolate };
}

/** The same migrations on another database: settings, config and discovery shared, not done again. */
export function onTarget(ctx: OpContext, target: TargetContext): OpContext {
  return { ...ctx, target };
}

/** Closes the target's connections and saves the parse cache; both open or load again when next needed. */
export async function closeContext(ctx: OpContext): Promise<void> {
  ctx.sources.cache?.save();
  await ctx.target.close();
}
