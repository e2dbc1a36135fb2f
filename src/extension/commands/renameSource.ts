import * as vscode from 'vscode';
import { plural } from '../words';
import { MigrationsError } from '../../core';
import { automationOf, confirm, requireTrust, targetOf, type CommandSpec } from './shared';

/** On a folder whose files match a moved source's history: moves that history here (rows recorded by hand, nothing runs). */
export const renameSource: CommandSpec = {
  id: 'migrations.renameSource',
  async run(ctx, ...args) {
    requireTrust();
    const target = await targetOf(ctx, args[0]);
    const source = ctx.model.source(target.folder, target.source);
    if (!source?.movedFrom) throw new MigrationsError('Choose a source in the Migrations view whose files match the history of a moved folder.');
    await confirm(`Move the history of "${source.movedFrom}" (a folder no longer there) to "${source.id}"? Its applied migrations count as applied here; nothing runs.`, 'Move History', automationOf(args));
    const moved = await ctx.model.engine(target.folder).renameSource(source.movedFrom, source.id);
    await ctx.model.refresh();
    void vscode.window.showInformationMessage(`Moved the history of ${moved.from} to ${moved.to}: ${plural(moved.versions.length, 'migration')} applied there.`);
    return moved;
  },
};
