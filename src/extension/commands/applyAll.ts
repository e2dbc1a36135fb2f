import { runWithProgress, targetOf, type CommandSpec } from './shared';

/** Apply All Pending: every pending migration of the folder. */
export const applyAll: CommandSpec = {
  id: 'migrations.applyAll',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    return runWithProgress(ctx, { folder: target.folder }, 'Apply all pending', (engine, opts) => engine.up(opts));
  },
};
