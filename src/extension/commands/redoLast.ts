import { migrationName } from '../words';
import { automationOf, confirm, irreversibleWarnings, lastApplied, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Redo Last: roll back the migration applied last and apply it again. */
export const redoLast: CommandSpec = {
  id: 'migrations.redoLast',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const last = lastApplied(ctx, target.folder);
    const question = `Roll back ${last ? migrationName(last) : 'the last applied migration'} and apply it again?`;
    await confirm([question, ...irreversibleWarnings(ctx, target.folder, last ? [last] : [])].join('\n\n'), 'Redo', automationOf(args));
    return runWithProgress(ctx, { folder: target.folder }, 'Redo last', (engine, opts) => engine.redo({ ...opts, source: undefined }));
  },
};
