import * as vscode from 'vscode';
import { plural } from '../words';
import { targetOf, type CommandSpec } from './shared';

/** Validate: static checks, plus loading every file when the workspace is trusted. */
export const validate: CommandSpec = {
  id: 'migrations.validate',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const engine = ctx.model.engine(target.folder);
    // Loading runs the files: only when trusted; otherwise the static checks alone.
    const problems = vscode.workspace.isTrusted ? await engine.validate() : engine.sources().flatMap((s) => [...s.problems, ...s.migrations.flatMap((m) => m.problems)]);
    await ctx.model.refresh();
    const errors = problems.filter((p) => p.severity === 'error').length;
    const message = `Validate: ${plural(errors, 'error')}, ${plural(problems.length - errors, 'warning')}${vscode.workspace.isTrusted ? '' : ' (static checks only: the workspace is not trusted)'}.`;
    ctx.log.info(message);
    if (errors > 0) void vscode.window.showErrorMessage(message, 'Show Problems').then((c) => c && vscode.commands.executeCommand('workbench.actions.view.problems'));
    else void vscode.window.showInformationMessage(message);
    return problems;
  },
};
