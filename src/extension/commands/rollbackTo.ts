import * as vscode from 'vscode';
import { migrationName, padded } from '../words';
import { appliedAfter, automationOf, confirm, rollbackQuestion, runWithProgress, targetOf, type CommandSpec } from './shared';

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
          ...applied.map((m) => ({ label: padded(m.state.version), description: `${m.state.description} (${m.state.source})`, source: m.state.source, version: m.state.version }))],
        { placeHolder: 'Roll back down to which version? (it stays applied)' },
      );
      if (!picked) return undefined;
      to = picked.version;
      source = picked.source;
    }
    const version = to;
    const kept = applied.find((m) => m.state.version === version && (source === undefined || m.state.source === source))?.state;
    await confirm(rollbackQuestion(ctx, target.folder, appliedAfter(ctx, target.folder, version, source), { to: version, source }), 'Roll Back', automation);
    return runWithProgress(ctx, { folder: target.folder, source }, version === 0 ? 'Roll back everything' : `Roll back to ${kept ? migrationName(kept) : padded(version)}`, (engine, opts) =>
      version === 0 ? engine.down({ ...opts, all: true }) : engine.down({ ...opts, to: version }));
  },
};
