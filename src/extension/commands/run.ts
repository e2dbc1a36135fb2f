import * as vscode from 'vscode';
import { MigrationsError } from '../../core';
import { automationOf, command, confirm, runWithProgress, targetOf, type Context } from './shared';

/** Apply all, apply up to an item, roll back last / to an item / to a picked version, redo. */
export function registerRunCommands(ctx: Context): vscode.Disposable[] {
  return [
    command(ctx, 'migrations.applyAll', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      return runWithProgress(ctx, { folder: target.folder }, 'Apply all pending', (engine, opts) => engine.up(opts));
    }),
    command(ctx, 'migrations.applyTo', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const to = automationOf(args)?.version ?? target.version;
      return runWithProgress(ctx, target, `Apply up to ${to}`, (engine, opts) => engine.up({ ...opts, to, outOfOrder: true }));
    }),
    command(ctx, 'migrations.rollbackLast', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      await confirm('Roll back the last applied migration? Its down() will run.', 'Roll Back', automationOf(args));
      return runWithProgress(ctx, { folder: target.folder }, 'Roll back last', (engine, opts) => engine.down({ ...opts, source: undefined, last: true }));
    }),
    command(ctx, 'migrations.rollbackToHere', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const automation = automationOf(args);
      if (target.version === undefined) throw new MigrationsError('Choose a migration in the Migrations view to roll back to.');
      // From an item, "to here" keeps it applied; the CodeLens above a class rolls that one back too.
      const to = automation?.including ? target.version - 1 : target.version;
      await confirm(`Roll back every migration after ${to} in ${target.source}?`, 'Roll Back', automation);
      return runWithProgress(ctx, target, `Roll back to ${to}`, (engine, opts) => engine.down({ ...opts, to }));
    }),
    command(ctx, 'migrations.rollbackTo', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const automation = automationOf(args);
      const applied = ctx.model.migrations().filter((m) => m.folder === target.folder && m.state.applied);
      let to = automation?.version;
      let source = automation?.source;
      if (to === undefined) {
        const picked = await vscode.window.showQuickPick(
          [{ label: '0', description: 'roll back everything', source: undefined as string | undefined, version: 0 },
            ...applied.map((m) => ({ label: String(m.state.version), description: `${m.state.description} (${m.state.source})`, source: m.state.source, version: m.state.version }))],
          { placeHolder: 'Roll back down to which version? (it stays applied)' },
        );
        if (!picked) return undefined;
        to = picked.version;
        source = picked.source;
      }
      const version = to;
      await confirm(version === 0 ? 'Roll back every applied migration?' : `Roll back every migration after ${version}?`, 'Roll Back', automation);
      return runWithProgress(ctx, { folder: target.folder, source }, `Roll back to ${version}`, (engine, opts) =>
        version === 0 ? engine.down({ ...opts, all: true }) : engine.down({ ...opts, to: version }));
    }),
    command(ctx, 'migrations.redoLast', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      await confirm('Roll back the last migration and apply it again?', 'Redo', automationOf(args));
      return runWithProgress(ctx, { folder: target.folder }, 'Redo last', (engine, opts) => engine.redo({ ...opts, source: undefined }));
    }),
    command(ctx, 'migrations.redo', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      await confirm(`Roll back ${target.version} and apply it again?`, 'Redo', automationOf(args));
      return runWithProgress(ctx, target, `Redo ${target.version}`, (engine, opts) => engine.redo(opts));
    }),
  ];
}
