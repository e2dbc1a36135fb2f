import * as vscode from 'vscode';
import { MigrationsError } from '../../core';
import { automationOf, command, confirm, requireTrust, targetOf, type Context } from './shared';

/** Force Unlock, Mark Applied / Forget (repair), Refresh, Open File. */
export function registerMaintenanceCommands(ctx: Context): vscode.Disposable[] {
  return [
    ...(['markApplied', 'forget'] as const).map((op) =>
      command(ctx, `migrations.${op}`, async (...args) => {
        // Only a history row is written, but it decides what the next run executes.
        requireTrust();
        const target = await targetOf(ctx, args[0]);
        const version = automationOf(args)?.version ?? target.version;
        if (version === undefined) throw new MigrationsError('Choose a migration in the Migrations view to record.');
        const what = op === 'markApplied'
          ? `Record migration ${version} as applied without running it? Do this once its changes are in the database (e.g. repaired by hand).`
          : `Record migration ${version} as not applied without running its down()? Do this once its changes are gone from the database, so the next run applies it again.`;
        await confirm(what, op === 'markApplied' ? 'Mark Applied' : 'Forget', automationOf(args));
        const engine = ctx.model.engine(target.folder);
        const report = await engine[op]({ source: target.source, version });
        await ctx.model.refresh();
        ctx.log.info(`${op === 'markApplied' ? 'mark-applied' : 'forget'} ${report.source} ${report.version}: ${report.recorded ? 'recorded' : 'the history already said so'}; now ${report.status}`);
        void vscode.window.showInformationMessage(`Migration ${report.version} is now ${report.status}${report.recorded ? '' : ' (nothing to record)'}.`);
        return report;
      }),
    ),
    command(ctx, 'migrations.forceUnlock', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const engine = ctx.model.engine(target.folder);
      const holder = await engine.lockHolder();
      if (!holder) {
        void vscode.window.showInformationMessage('The database is not locked.');
        return undefined;
      }
      await confirm(`Release the lock held by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${holder.acquiredAt}? If it is still running, two runners could apply migrations at once.`, 'Force Unlock', automationOf(args));
      const released = await engine.unlock(true);
      await ctx.model.refresh();
      void vscode.window.showInformationMessage(`Released the lock held by ${holder.holder}.`);
      return released;
    }),
    command(ctx, 'migrations.refresh', async () => {
      ctx.model.reset();
      await ctx.model.refresh();
      return ctx.model.states;
    }),
    command(ctx, 'migrations.openFile', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
      if (state?.path) await vscode.window.showTextDocument(vscode.Uri.file(state.path));
      return state?.path;
    }),
  ];
}
