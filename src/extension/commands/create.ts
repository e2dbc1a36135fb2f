import * as vscode from 'vscode';
import { automationOf, Cancelled, targetOf, type CommandSpec } from './shared';

/** Create Migration: asks for a description (and a source when there are several), renders the template, opens the file. */
export const create: CommandSpec = {
  id: 'migrations.create',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const automation = automationOf(args);
    const engine = ctx.model.engine(target.folder);
    let source = automation?.source ?? target.source;
    // Migrations in code have no folder to create a file in.
    const sources = engine.sources().filter((s) => s.dir !== '');
    if (source === undefined && sources.length > 1) {
      const picked = await vscode.window.showQuickPick(sources.map((s) => ({ label: s.id, description: s.dir })), { placeHolder: 'Which versions folder?' });
      if (!picked) throw new Cancelled();
      source = picked.label;
    }
    const description = automation?.description ?? (await vscode.window.showInputBox({
      prompt: 'Describe the migration',
      placeHolder: 'add index to chat_users',
      validateInput: (v) => (/[A-Za-z0-9]/.test(v) ? undefined : 'Use some letters or digits: they name the file.'),
    }));
    if (description === undefined) throw new Cancelled();
    const created = engine.create(description, { source });
    engine.invalidate();
    await ctx.model.refresh();
    await vscode.window.showTextDocument(vscode.Uri.file(created.path));
    return created;
  },
};
