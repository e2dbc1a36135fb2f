import * as vscode from 'vscode';
import { MigrationsError } from '../../core';
import { migrationName, padded } from '../words';
import { automationOf, confirm, requireTrust, targetOf, type Context } from './shared';

/** Mark Applied and Forget: one history row written by hand, nothing run (the repair of a half-done migration, or a baseline). */
export async function recordByHand(ctx: Context, args: readonly unknown[], op: 'markApplied' | 'forget'): Promise<unknown> {
  // Only a history row is written, but it decides what the next run executes.
  requireTrust();
  const target = await targetOf(ctx, args[0]);
  const version = automationOf(args)?.version ?? target.version;
  if (version === undefined) throw new MigrationsError('Choose a migration in the Migrations view to record.');
  const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.version === version && (target.source === undefined || m.state.source === target.source))?.state;
  const name = state ? migrationName(state) : `migration ${padded(version)}`;
  const what = op === 'markApplied'
    ? `Record ${name} as applied without running it? Do this once its changes are in the database (e.g. repaired by hand).`
    : `Record ${name} as not applied without running its down()? Do this once its changes are gone from the database, so the next run applies it again.`;
  await confirm(what, op === 'markApplied' ? 'Mark Applied' : 'Forget', automationOf(args));
  const engine = ctx.model.engine(target.folder);
  const report = await engine[op]({ source: target.source, version });
  await ctx.model.refresh();
  ctx.log.info(`${op === 'markApplied' ? 'mark-applied' : 'forget'} ${report.source} ${report.version}: ${report.recorded ? 'recorded' : 'the history already said so'}; now ${report.status}`);
  void vscode.window.showInformationMessage(`${state ? migrationName(state) : `Migration ${padded(report.version)} (${report.source})`} is now ${report.status}${report.recorded ? '' : ' (nothing to record)'}.`);
  return report;
}
