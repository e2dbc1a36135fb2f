import * as vscode from 'vscode';
import { sqlPreviewText } from '../../core';
import { automationOf, requireTrust, targetOf, type CommandSpec, type Context } from './shared';

/**
 * Preview SQL: the SQL applying (or, for an applied migration, rolling back) up to the target
 * would run, captured in a rolled-back transaction and opened as a SQL document.
 */
async function previewSql(ctx: Context, ...args: unknown[]): Promise<unknown> {
  requireTrust();
  const target = await targetOf(ctx, args[0]);
  const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
  const direction = state?.applied ? 'down' : 'up';
  const engine = ctx.model.engine(target.folder);
  const to = automationOf(args)?.version ?? target.version;
  const report = direction === 'up'
    ? await engine.sql('up', { source: target.source, to })
    : await engine.sql('down', { source: target.source, to: to === undefined ? undefined : to - 1 });
  const doc = await vscode.workspace.openTextDocument({ language: 'sql', content: `${sqlPreviewText(report.steps)}\n` });
  await vscode.window.showTextDocument(doc, { preview: true });
  return report;
}

export const previewSqlCommand: CommandSpec = { id: 'migrations.previewSql', run: previewSql };
/** The same from a tree item's menu. */
export const previewSqlItem: CommandSpec = { id: 'migrations.previewSqlItem', run: previewSql };
