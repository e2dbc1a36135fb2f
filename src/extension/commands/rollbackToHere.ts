import { MigrationsError } from '../../core';
import { migrationName, padded } from '../words';
import { appliedAfter, automationOf, confirm, rollbackQuestion, runWithProgress, targetOf, versionBefore, type CommandSpec } from './shared';

/** Roll Back to Here: every migration after this one (the CodeLens: this one too). */
export const rollbackToHere: CommandSpec = {
  id: 'migrations.rollbackToHere',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const automation = automationOf(args);
    if (target.version === undefined) throw new MigrationsError('Choose a migration in the Migrations view to roll back to.');
    // From an item, "to here" keeps it applied; the CodeLens above a class rolls that one back too.
    const to = automation?.including ? versionBefore(ctx, target.folder, target.source, target.version) : target.version;
    await confirm(rollbackQuestion(ctx, target.folder, appliedAfter(ctx, target.folder, to, target.source), { to, source: target.source }), 'Roll Back', automation);
    const kept = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === to)?.state;
    return runWithProgress(ctx, target, to === 0 ? `Roll back ${target.source ?? 'everything'}` : `Roll back to ${kept ? migrationName(kept) : padded(to)}`, (engine, opts) => engine.down({ ...opts, to }));
  },
};
