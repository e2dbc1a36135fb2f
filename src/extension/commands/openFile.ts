import * as vscode from 'vscode';
import { targetOf, type CommandSpec } from './shared';

/** Open File: the migration's file in an editor. */
export const openFile: CommandSpec = {
  id: 'migrations.openFile',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
    if (state?.path) await vscode.window.showTextDocument(vscode.Uri.file(state.path));
    return state?.path;
  },
};
