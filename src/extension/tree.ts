import * as path from 'node:path';
import * as vscode from 'vscode';
import { summarize, type LockHolder, type MigrationState, type MigrationStatus } from '../core';
import type { MigrationsModel } from './model';

/** Tree elements are plain data; `getTreeItem` builds the UI from them. */
export type Node =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder }
  | { kind: 'source'; folder: vscode.WorkspaceFolder; id: string; dir: string }
  | { kind: 'migration'; folder: vscode.WorkspaceFolder; state: MigrationState; last: boolean }
  | { kind: 'lock'; folder: vscode.WorkspaceFolder; holder: LockHolder & { stale: boolean } }
  | { kind: 'error'; folder: vscode.WorkspaceFolder; message: string };

const ICONS: Record<MigrationStatus, [string, string]> = {
  applied: ['pass-filled', 'testing.iconPassed'],
  pending: ['circle-large-outline', 'descriptionForeground'],
  failed: ['error', 'testing.iconFailed'],
  // Worse than failed: changes were left behind that need a repair by hand.
  'failed-partial': ['tools', 'testing.iconErrored'],
  modified: ['diff-modified', 'editorWarning.foreground'],
  missing: ['question', 'disabledForeground'],
  invalid: ['warning', 'problemsErrorIcon.foreground'],
  'out-of-order': ['arrow-swap', 'editorWarning.foreground'],
  skipped: ['debug-step-over', 'disabledForeground'],
};

export class MigrationsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor(private readonly model: MigrationsModel) {
    this.listener = model.onDidChange(() => this.changed.fire(undefined));
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }

  getChildren(node?: Node): Node[] {
    const states = this.model.states;
    if (!node) {
      if (states.length === 1) return this.folderChildren(states[0].folder);
      return states.map((s) => ({ kind: 'folder', folder: s.folder }));
    }
    if (node.kind === 'folder') return this.folderChildren(node.folder);
    if (node.kind !== 'source') return [];
    const source = this.model.source(node.folder, node.id);
    // The one Redo and Roll Back Last act on: the engine's choice, by apply order.
    return (source?.migrations ?? []).map((state) => ({ kind: 'migration', folder: node.folder, state, last: state.version === source?.lastApplied }));
  }

  private folderChildren(folder: vscode.WorkspaceFolder): Node[] {
    const state = this.model.states.find((s) => s.folder === folder);
    if (!state) return [];
    if (state.error) return [{ kind: 'error', folder, message: state.error }];
    const lock: Node[] = state.report?.lock ? [{ kind: 'lock', folder, holder: state.report.lock }] : [];
    return [...lock, ...(state.report?.sources ?? []).map((s): Node => ({ kind: 'source', folder, id: s.id, dir: s.dir }))];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `folder:${node.folder.uri}`;
        item.iconPath = vscode.ThemeIcon.Folder;
        return item;
      }
      case 'source': {
        const item = new vscode.TreeItem(node.id, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `source:${node.folder.uri}:${node.id}`;
        item.iconPath = new vscode.ThemeIcon('database');
        // A folder whose files match a moved source's history offers to take that history over.
        item.contextValue = this.model.source(node.folder, node.id)?.movedFrom ? 'source:moved' : 'source';
        item.tooltip = node.dir;
        return item;
      }
      case 'lock': {
        const age = Math.round((Date.now() - Date.parse(node.holder.acquiredAt)) / 1000);
        const { stale } = node.holder;
        const item = new vscode.TreeItem(stale ? `Stale lock of ${node.holder.holder}` : `Locked by ${node.holder.holder}`);
        item.id = `lock:${node.folder.uri}`;
        item.description = `pid ${node.holder.pid}${stale ? ' (gone)' : ''}, ${age} s`;
        item.iconPath = new vscode.ThemeIcon(stale ? 'unlock' : 'lock', new vscode.ThemeColor(stale ? 'disabledForeground' : 'editorWarning.foreground'));
        item.contextValue = 'lock';
        item.tooltip = stale
          ? `Left by ${node.holder.holder} (pid ${node.holder.pid} on ${node.holder.host}, no longer running) since ${node.holder.acquiredAt}. It blocks nothing: the next run takes it over; Force Unlock removes it now.`
          : `Held by ${node.holder.holder} (pid ${node.holder.pid} on ${node.holder.host}) since ${node.holder.acquiredAt}; last heartbeat ${node.holder.heartbeat}.`;
        return item;
      }
      case 'error': {
        const item = new vscode.TreeItem(node.message);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.tooltip = node.message;
        return item;
      }
      case 'migration':
        return migrationItem(node);
    }
  }
}

function migrationItem(node: Extract<Node, { kind: 'migration' }>): vscode.TreeItem {
  const { state } = node;
  const item = new vscode.TreeItem(`${String(state.version).padStart(3, '0')} ${state.description}`);
  item.id = `migration:${node.folder.uri}:${state.source}:${state.version}:${state.path ?? 'missing'}`;
  item.description = state.status;
  const [icon, color] = ICONS[state.status];
  item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
  item.contextValue = `migration:${state.status}${node.last ? ':last' : ''}`;
  item.tooltip = tooltip(state);
  if (state.path) {
    item.resourceUri = vscode.Uri.file(state.path);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(state.path)] };
  }
  return item;
}

function tooltip(state: MigrationState): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${state.version} ${escape(state.description)}** — ${state.status}\n\n`);
  if (state.appliedAt) md.appendMarkdown(`Applied ${state.appliedAt} in ${state.durationMs} ms\n\n`);
  if (state.path) md.appendMarkdown(`${escape(path.basename(state.path))}\n\n`);
  else md.appendMarkdown('The file is gone (applied, missing from disk).\n\n');
  if (state.lastError) md.appendMarkdown(`Last error: ${escape(state.lastError)}\n\n`);
  if (state.environments) md.appendMarkdown(`Runs in: ${escape(state.environments.join(', '))}${state.skippedAt ? ` (skipped ${state.skippedAt})` : ''}\n\n`);
  if (state.tags) md.appendMarkdown(`Tags: ${escape(state.tags.join(', '))}\n\n`);
  for (const p of state.problems) md.appendMarkdown(`${p.severity}: ${escape(p.message)} (line ${p.line})\n\n`);
  return md;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}

export function registerTree(model: MigrationsModel): vscode.Disposable[] {
  const tree = new MigrationsTree(model);
  const view = vscode.window.createTreeView('migrations.view', { treeDataProvider: tree, showCollapseAll: true });
  const update = () => {
    const { pending } = summarize(model.migrations().map((m) => m.state));
    view.badge = pending > 0 ? { value: pending, tooltip: `${pending} pending migration(s)` } : undefined;
  };
  return [view, tree, model.onDidChange(update)];
}
