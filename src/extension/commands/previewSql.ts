import { sqlPreviewText } from '../../core';
import type { SqlPreviews } from '../sqlPreviews';
import { automationOf, requireTrust, targetOf, type CommandSpec, type Context } from './shared';

/**
 * Preview SQL: the SQL applying (or, for an applied migration, rolling back) up to the target
 * would run, captured in a rolled-back transaction and shown in a read-only SQL view, one per target.
 */
async function previewSql(previews: SqlPreviews, ctx: Context, ...args: unknown[]): Promise<unknown> {
  requireTrust();
  const target = await targetOf(ctx, args[0]);
  const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
  const direction = state?.applied ? 'down' : 'up';
  const engine = ctx.model.engine(target.folder);
  const to = automationOf(args)?.version ?? target.version;
  const report = direction === 'up'
    ? await engine.sql('up', { source: target.source, to })
    : await engine.sql('down', { source: target.source, to: to === undefined ? undefined : to - 1 });
  const name = to === undefined ? `${direction} all pending` : `${direction} ${String(to).padStart(3, '0')}${state ? ` ${state.description}` : ''}`;
  await previews.show([target.folder.name, target.source ?? 'all sources', name], `${sqlPreviewText(report.steps)}\n`);
  return report;
}

/** The command (palette, editor) and the same from a tree item's menu. */
export function previewSqlCommands(previews: SqlPreviews): CommandSpec[] {
  return [
    { id: 'migrations.previewSql', run: (ctx, ...args) => previewSql(previews, ctx, ...args) },
    { id: 'migrations.previewSqlItem', run: (ctx, ...args) => previewSql(previews, ctx, ...args) },
  ];
}
