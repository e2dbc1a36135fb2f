import { migrationName, padded } from '../words';
import { automationOf, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Apply Up to Here: pending migrations up to this one (out-of-order ones included). */
export const applyTo: CommandSpec = {
  id: 'migrations.applyTo',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const to = automationOf(args)?.version ?? target.version;
    const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.version === to && (target.source === undefined || m.state.source === target.source))?.state;
    return runWithProgress(ctx, target, to === undefined ? 'Apply all pending' : `Apply up to ${state ? migrationName(state) : padded(to)}`, (engine, opts) => engine.up({ ...opts, to, outOfOrder: true }));
  },
};
