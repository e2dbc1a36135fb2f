import { automationOf, confirm, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Redo: roll back this migration (the last applied of its source) and apply it again. */
export const redo: CommandSpec = {
  id: 'migrations.redo',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    await confirm(`Roll back ${target.version} and apply it again?`, 'Redo', automationOf(args));
    return runWithProgress(ctx, target, `Redo ${target.version}`, (engine, opts) => engine.redo(opts));
  },
};
