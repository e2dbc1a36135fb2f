import { automationOf, confirm, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Roll Back Last: the migration applied last. */
export const rollbackLast: CommandSpec = {
  id: 'migrations.rollbackLast',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    await confirm('Roll back the last applied migration? Its down() will run.', 'Roll Back', automationOf(args));
    return runWithProgress(ctx, { folder: target.folder }, 'Roll back last', (engine, opts) => engine.down({ ...opts, source: undefined, last: true }));
  },
};
