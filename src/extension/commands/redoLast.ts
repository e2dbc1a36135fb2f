import { migrationName } from '../words';
import { automationOf, confirm, lastApplied, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Redo Last: roll back the migration applied last and apply it again. */
export const redoLast: CommandSpec = {
  id: 'migrations.redoLast',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const last = lastApplied(ctx, target.folder);
    await confirm(`Roll back ${last ? migrationName(last) : 'the last applied migration'} and apply it again?`, 'Redo', automationOf(args));
    return runWithProgress(ctx, { folder: target.folder }, 'Redo last', (engine, opts) => engine.redo({ ...opts, source: undefined }));
  },
};
