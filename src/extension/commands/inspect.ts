import * as vscode from 'vscode';
import { historyOutcome, sqlPreviewText, type HistoryRow } from '../../core';
import { automationOf, command, requireTrust, targetOf, type Context } from './shared';

const HISTORY_SCHEME = 'migrations-history';

/** Preview SQL, Show History, Validate: commands that read and show, never change the database. */
export function registerInspectCommands(ctx: Context): vscode.Disposable[] {
  const history = new HistoryDocuments(ctx);
  const previewSql = async (...args: unknown[]) => {
    requireTrust();
    const target = await targetOf(ctx, args[0]);
    const state = ctx.model.migrations().find((m) => m.folder === target.folder && m.state.source === target.source && m.state.version === target.version)?.state;
    const direction = state?.applied ? 'down' : 'up';
    const engine = ctx.model.engine(target.folder);
    const to = automationOf(args)?.version ?? target.version;
    const report = direction === 'up'
      ? await engine.sql('up', { source: target.source, to })
      : await engine.sql('down', { source: target.source, to: to === undefined ? undefined : to - 1 });
    const doc = await vscode.workspace.openTextDocument({ language: 'sql', content: `-- Dry run: captured in a transaction that was rolled back; nothing changed.\n\n${sqlPreviewText(report.steps)}\n` });
    await vscode.window.showTextDocument(doc, { preview: true });
    return report;
  };
  return [
    vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, history),
    command(ctx, 'migrations.previewSql', previewSql),
    command(ctx, 'migrations.previewSqlItem', previewSql),
    command(ctx, 'migrations.showHistory', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const uri = vscode.Uri.from({ scheme: HISTORY_SCHEME, path: `/${target.folder.name} history.md`, query: target.folder.uri.toString() });
      history.changed.fire(uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
      return doc.getText();
    }),
    command(ctx, 'migrations.validate', async (...args) => {
      const target = await targetOf(ctx, args[0]);
      const engine = ctx.model.engine(target.folder);
      // Loading runs the files: only when trusted; otherwise the static checks alone.
      const problems = vscode.workspace.isTrusted ? await engine.validate() : engine.sources().flatMap((s) => [...s.problems, ...s.migrations.flatMap((m) => m.problems)]);
      await ctx.model.refresh();
      const errors = problems.filter((p) => p.severity === 'error').length;
      const message = `Validate: ${errors} error(s), ${problems.length - errors} warning(s)${vscode.workspace.isTrusted ? '' : ' (static checks only: the workspace is not trusted)'}.`;
      ctx.log.info(message);
      if (errors > 0) void vscode.window.showErrorMessage(message, 'Show Problems').then((c) => c && vscode.commands.executeCommand('workbench.actions.view.problems'));
      else void vscode.window.showInformationMessage(message);
      return problems;
    }),
  ];
}

/** The history as a read-only Markdown table, one virtual document per folder. */
class HistoryDocuments implements vscode.TextDocumentContentProvider {
  readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Context) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const folder = this.ctx.model.folders.find((f) => f.uri.toString() === uri.query);
    if (!folder) return 'This workspace folder is no longer open.';
    const rows = await this.ctx.model.engine(folder).history();
    return historyMarkdown(folder.name, rows);
  }
}

export function historyMarkdown(name: string, rows: readonly HistoryRow[]): string {
  const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const lines = [`# Migration history: ${name}`, '', `${rows.length} run(s), newest first.`, ''];
  if (rows.length === 0) return [...lines, 'No migration has run yet.'].join('\n');
  lines.push('| time | source | version | direction | duration | result | error |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of [...rows].reverse()) {
    lines.push(`| ${r.startedAt} | ${cell(r.source)} | ${r.version} | ${r.direction} | ${r.durationMs} ms | ${historyOutcome(r)} | ${cell(r.error ?? '')} |`);
  }
  return lines.join('\n');
}
