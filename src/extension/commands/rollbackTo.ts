import * as vscode from 'vscode';
import { automationOf, confirm, runWithProgress, targetOf, type CommandSpec } from './shared';

/** Roll Back To…: down to a picked version, which stays applied (0: everything). */
export const rollbackTo: CommandSpec = {
  id: 'migrations.rollbackTo',
  async run(ctx, ...args) {
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
  },
};
