import * as vscode from 'vscode';
import { localTime } from '../words';
import { automationOf, confirm, targetOf, type CommandSpec } from './shared';

/** Force Unlock: release the lock whoever holds it, after a confirmation. */
export const forceUnlock: CommandSpec = {
  id: 'migrations.forceUnlock',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const engine = ctx.model.engine(target.folder);
    const holder = await engine.lockHolder();
    if (!holder) {
      void vscode.window.showInformationMessage('The database is not locked.');
      return undefined;
    }
    await confirm(`Release the lock held by ${holder.holder} (pid ${holder.pid} on ${holder.host}) since ${localTime(holder.acquiredAt, vscode.env.language)}? If it is still running, two runners could apply migrations at once.`, 'Force Unlock', automationOf(args));
    const released = await engine.unlock(true);
    await ctx.model.refresh();
    void vscode.window.showInformationMessage(`Released the lock held by ${holder.holder}.`);
    return released;
  },
};
