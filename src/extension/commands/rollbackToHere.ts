import { MigrationsError } from '../../core';
import { automationOf, confirm, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Roll Back to Here: every migration after this one (the CodeLens: this one too). */
export const rollbackToHere: CommandSpec = {
  id: 'migrations.rollbackToHere',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const automation = automationOf(args);
    if (target.version === undefined) throw new MigrationsError('Choose a migration in the Migrations view to roll back to.');
    // From an item, "to here" keeps it applied; the CodeLens above a class rolls that one back too.
    const to = automation?.including ? target.version - 1 : target.version;
    await confirm(`Roll back every migration after ${to} in ${target.source}?`, 'Roll Back', automation);
    return runWithProgress(ctx, target, `Roll back to ${to}`, (engine, opts) => engine.down({ ...opts, to }));
  },
};
