import { migrationName, padded } from '../words';
import { automationOf, confirm, irreversibleWarnings, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Redo: roll back this migration (the last applied of its source) and apply it again. */
export const redo: CommandSpec = {
  id: 'migrations.redo',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
    const name = state ? migrationName(state) : `${target.version === undefined ? 'the last applied migration' : padded(target.version)}${target.source ? ` (${target.source})` : ''}`;
    await confirm([`Roll back ${name} and apply it again?`, ...irreversibleWarnings(ctx, target.folder, state ? [state] : [])].join('\n\n'), 'Redo', automationOf(args));
    return runWithProgress(ctx, target, 'Redo', (engine, opts) => engine.redo(opts));
  },
};
