import { automationOf, confirm, lastApplied, rollbackQuestion, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Roll Back Last: the migration applied last. */
export const rollbackLast: CommandSpec = {
  id: 'migrations.rollbackLast',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const last = lastApplied(ctx, target.folder);
    await confirm(rollbackQuestion(ctx, target.folder, last ? [last] : []), 'Roll Back', automationOf(args));
    return runWithProgress(ctx, { folder: target.folder }, 'Roll back last', (engine, opts) => engine.down({ ...opts, source: undefined, last: true }));
  },
};
