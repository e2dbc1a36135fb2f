import { automationOf, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Apply Up to Here: pending migrations up to this one (out-of-order ones included). */
export const applyTo: CommandSpec = {
  id: 'migrations.applyTo',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const to = automationOf(args)?.version ?? target.version;
    return runWithProgress(ctx, target, `Apply up to ${to}`, (engine, opts) => engine.up({ ...opts, to, outOfOrder: true }));
  },
};
