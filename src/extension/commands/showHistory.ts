import * as vscode from 'vscode';
import { historyOutcome, type HistoryRow } from '../../core';
import { targetOf, type CommandSpec, type Context } from './shared';

const HISTORY_SCHEME = 'migrations-history';

/** Show History: the folder's run history as a read-only Markdown document, read afresh on every open. */
export function showHistory(history: HistoryDocuments): CommandSpec {
  return {
    id: 'migrations.showHistory',
    async run(ctx, ...args) {
      const target = await targetOf(ctx, args[0]);
      const uri = vscode.Uri.from({ scheme: HISTORY_SCHEME, path: `/${target.folder.name} history.md`, query: target.folder.uri.toString() });
      history.changed.fire(uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
      return doc.getText();
    },
  };
}

export function registerHistoryDocuments(history: HistoryDocuments): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, history);
}

/** The history as a read-only Markdown table, one virtual document per folder. */
export class HistoryDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Context) {}

  dispose(): void {
    this.changed.dispose();
  }

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
