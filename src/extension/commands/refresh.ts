import type { CommandSpec } from './shared';

/** Refresh: new engines from the settings, and every folder read again. */
export const refresh: CommandSpec = {
  id: 'migrations.refresh',
  async run(ctx) {
    ctx.model.reset();
    await ctx.model.refresh();
    return ctx.model.states;
  },
};
