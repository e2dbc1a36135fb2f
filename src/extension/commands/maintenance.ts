import * as vscode from 'vscode';
import { automationOf, command, confirm, targetOf, type Context } from './shared';

/** Force Unlock, Refresh, Open File. */
export function registerMaintenanceCommands(ctx: Context): vscode.Disposable[] {
  return [
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
