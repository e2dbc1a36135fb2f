import * as vscode from 'vscode';
import { explain, sqlPreviewText, type SqlReport } from '../../core';
import type { SqlPreviews } from '../sqlPreviews';
import { EDITOR_TERMS } from '../terms';
import { automationOf, givenOrOpen, requireTrust, targetOf, versionBefore, type CommandSpec, type Context } from './shared';

/**
 * Preview SQL: the SQL applying (or, for an applied migration, rolling back) up to the target
 * would run, captured in a rolled-back transaction and shown in a read-only SQL view, one per target.
 * From the palette it previews the migration open in the editor; with none, every source's pending
 * migrations, each source on its own, so one that fails does not hide the others' SQL.
 */
async function previewSql(previews: SqlPreviews, ctx: Context, ...args: unknown[]): Promise<unknown> {
  requireTrust();
  const automation = automationOf(args);
  const target = await targetOf(ctx, automation ? args[0] : givenOrOpen(ctx, args[0]));
  const source = target.source ?? automation?.source;
  const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === source && m.state.version === target.version)?.state;
  const direction = state?.applied ? 'down' : 'up';
  const engine = ctx.model.engine(target.folder);
  const to = automation?.version ?? target.version;
  const preview = (only: string | undefined) => direction === 'up'
    ? engine.sql('up', { source: only, to })
    : engine.sql('down', { source: only, to: to === undefined ? undefined : versionBefore(ctx, target.folder, source, to) });
  const name = to === undefined ? `${direction} all pending` : `${direction} ${String(to).padStart(3, '0')}${state ? ` ${state.description}` : ''}`;
  if (source !== undefined || to !== undefined) {
    const report = await preview(source);
    await previews.show([target.folder.name, source ?? 'all sources', name], `${sqlPreviewText(report.steps)}\n`);
    return report;
  }
  const sources = (ctx.model.states.find((f) => f.folder === target.folder)?.report?.sources ?? []).filter((s) => !s.elsewhere && s.migrations.some((m) => !m.applied));
  const steps: SqlReport['steps'][number][] = [];
  const failed: string[] = [];
  for (const s of sources) {
    try {
      steps.push(...(await preview(s.id)).steps);
    } catch (err) {
      failed.push(`${s.id}: ${explain(err, EDITOR_TERMS)}`);
    }
  }
  const notes = failed.map((f) => `-- Not previewed: ${f.replace(/\n/g, ' ')}`);
  await previews.show([target.folder.name, 'all sources', name], `${[sqlPreviewText(steps), ...notes].join('\n\n')}\n`);
  if (failed.length > 0) void vscode.window.showWarningMessage(`Preview SQL: ${failed.length} of ${sources.length} sources could not be previewed (the others' SQL is shown). ${failed[0]}`);
  return { steps, failed };
}

/** The command (palette, editor) and the same from a tree item's menu. */
export function previewSqlCommands(previews: SqlPreviews): CommandSpec[] {
  return [
    { id: 'migrations.previewSql', run: (ctx, ...args) => previewSql(previews, ctx, ...args) },
    { id: 'migrations.previewSqlItem', run: (ctx, ...args) => previewSql(previews, ctx, ...args) },
  ];
}
