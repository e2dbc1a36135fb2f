import * as path from 'node:path';
import * as vscode from 'vscode';
import { localTime, plural } from './words';
import { elsewhereLabel, explain, summarize, wasCancelled, type CheckedMigration, type DriftReport, type LockHolder, type MigrationState, type MigrationStatus, type TableModel } from '../core';
import { EDITOR_TERMS } from './terms';
import type { MigrationsModel } from './model';

/** Tree elements are plain data; `getTreeItem` builds the UI from them. */
export type Node =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder }
  | { kind: 'source'; folder: vscode.WorkspaceFolder; id: string; dir: string }
  | { kind: 'migration'; folder: vscode.WorkspaceFolder; state: MigrationState; last: boolean }
  | { kind: 'lock'; folder: vscode.WorkspaceFolder; holder: LockHolder & { stale: boolean } }
  | { kind: 'error'; folder: vscode.WorkspaceFolder; message: string }
  /** The live database's tables → columns, read when expanded (read-only). */
  | { kind: 'schema'; folder: vscode.WorkspaceFolder }
  | { kind: 'table'; folder: vscode.WorkspaceFolder; table: TableModel }
  | { kind: 'column'; folder: vscode.WorkspaceFolder; text: string; key: string }
  /** The last Check Drift: its differences below it. */
  | { kind: 'drift'; folder: vscode.WorkspaceFolder; report: DriftReport }
  | { kind: 'difference'; folder: vscode.WorkspaceFolder; text: string; key: string }
  /** A line saying why a node has nothing below it (an empty schema). */
  | { kind: 'note'; folder: vscode.WorkspaceFolder; text: string };

const ICONS: Record<MigrationStatus, [string, string]> = {
  applied: ['pass-filled', 'testing.iconPassed'],
  pending: ['circle-large-outline', 'descriptionForeground'],
  failed: ['error', 'testing.iconFailed'],
  // Worse than failed: changes were left behind that need a repair by hand.
  'failed-partial': ['tools', 'testing.iconErrored'],
  // As bad: its process ended mid-way, and what it changed by then stays.
  interrupted: ['debug-disconnect', 'testing.iconErrored'],
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

  async getChildren(node?: Node): Promise<Node[]> {
    const states = this.model.states;
    if (!node) {
      if (states.length === 1) return this.folderChildren(states[0].folder);
      // Every folder with nothing in it: the view's welcome (Create Migration) instead of bare folder rows.
      const shown = await Promise.all(states.map(async (s) => (await this.folderChildren(s.folder)).length > 0));
      return shown.some(Boolean) ? states.map((s) => ({ kind: 'folder', folder: s.folder })) : [];
    }
    if (node.kind === 'folder') return this.folderChildren(node.folder);
    if (node.kind === 'schema') return this.tables(node.folder);
    if (node.kind === 'table') {
      const { table } = node;
      return table.columns.map((c) => ({
        kind: 'column', folder: node.folder, key: `${table.name}.${c.name}`,
        text: `${c.name}  ${c.type}${c.nullable ? '' : ' not null'}${c.default !== null ? ` default ${c.default}` : ''}${table.primaryKey.includes(c.name) ? '  (primary key)' : ''}`,
      }));
    }
    if (node.kind === 'drift') return node.report.changes.map((c, i) => ({ kind: 'difference', folder: node.folder, text: c.summary, key: String(i) }));
    if (node.kind !== 'source') return [];
    const source = this.model.source(node.folder, node.id);
    // The one Redo and Roll Back Last act on: the engine's choice, by apply order.
    return (source?.migrations ?? []).map((state) => ({ kind: 'migration', folder: node.folder, state, last: state.version === source?.lastApplied }));
  }

  private async folderChildren(folder: vscode.WorkspaceFolder): Promise<Node[]> {
    const state = this.model.states.find((s) => s.folder === folder);
    if (!state) return [];
    if (state.error) return [{ kind: 'error', folder, message: state.error }];
    const lock: Node[] = state.report?.lock ? [{ kind: 'lock', folder, holder: state.report.lock }] : [];
    const drift = this.model.checks.drift(folder);
    const sources = state.report?.sources ?? [];
    // No migrations and no tables: nothing to show, so the view shows its welcome (Create Migration).
    const schema: Node[] = sources.length > 0 || lock.length > 0 || drift || (await this.hasTables(folder)) ? [{ kind: 'schema', folder }] : [];
    const checks: Node[] = [...(drift ? [{ kind: 'drift', folder, report: drift } as const] : []), ...schema];
    return [...lock, ...sources.map((s): Node => ({ kind: 'source', folder, id: s.id, dir: s.dir })), ...checks];
  }

  private async hasTables(folder: vscode.WorkspaceFolder): Promise<boolean> {
    try {
      return (await this.model.engine(folder).schema()).model.tables.length > 0;
    } catch {
      // A database that cannot be read: the folder's status says so already.
      return false;
    }
  }

  /** The live schema's tables; a database that cannot be read says why, as an item. */
  private async tables(folder: vscode.WorkspaceFolder): Promise<Node[]> {
    try {
      const { model } = await this.model.engine(folder).schema();
      if (model.tables.length === 0) return [{ kind: 'note', folder, text: `No tables yet in ${databaseShown(this.model, folder) ?? 'the database'}.` }];
      return model.tables.map((table) => ({ kind: 'table', folder, table }));
    } catch (err) {
      return [{ kind: 'error', folder, message: explain(err, EDITOR_TERMS) }];
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = this.item(node);
    // A screen reader reads the row as it shows, never its path (resourceUri) or tooltip.
    item.accessibilityInformation ??= { label: rowWords(item) };
    return item;
  }

  private item(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `folder:${node.folder.uri}`;
        item.iconPath = vscode.ThemeIcon.Folder;
        // Which database this folder's rows are read from.
        item.description = databaseShown(this.model, node.folder);
        return item;
      }
      case 'source': {
        const item = new vscode.TreeItem(node.id, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `source:${node.folder.uri}:${node.id}`;
        item.iconPath = new vscode.ThemeIcon('database');
        // A folder whose files match a moved source's history offers to take that history over.
        const report = this.model.source(node.folder, node.id);
        item.contextValue = report?.movedFrom ? 'source:moved' : report?.elsewhere ? 'source:elsewhere' : 'source';
        // A source only the history knows: said on the row, as the CLI's status says it.
        if (report?.elsewhere) item.description = elsewhereLabel(report.elsewhere);
        // With one folder there is no folder row, and a view alone in its container shows no
        // description (code-server 4.103): the source row says which database it is read from.
        else if (this.model.states.length === 1) item.description = databaseShown(this.model, node.folder);
        item.tooltip = node.dir || (report?.elsewhere ? `${node.id}: ${elsewhereLabel(report.elsewhere)}` : node.id);
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
          ? `Left by ${node.holder.holder} (pid ${node.holder.pid} on ${node.holder.host}, no longer running) since ${localTime(node.holder.acquiredAt, vscode.env.language)}. It blocks nothing: the next run takes it over; Force Unlock removes it now.`
          : `Held by ${node.holder.holder} (pid ${node.holder.pid} on ${node.holder.host}) since ${localTime(node.holder.acquiredAt, vscode.env.language)}; last heartbeat ${localTime(node.holder.heartbeat, vscode.env.language)}.`;
        return item;
      }
      case 'error': {
        const item = new vscode.TreeItem(node.message);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.tooltip = node.message;
        return item;
      }
      case 'migration':
        return migrationItem(node, this.model.checks.of(node.folder, node.state.source, node.state.version));
      case 'schema': {
        const item = new vscode.TreeItem('Schema', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `schema:${node.folder.uri}`;
        item.iconPath = new vscode.ThemeIcon('symbol-structure');
        item.description = 'live, read-only';
        item.contextValue = 'schema';
        return item;
      }
      case 'table': {
        const item = new vscode.TreeItem(node.table.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `table:${node.folder.uri}:${node.table.name}`;
        item.iconPath = new vscode.ThemeIcon('table');
        item.description = `${plural(node.table.columns.length, 'column')}${node.table.indexes.length ? `, ${plural(node.table.indexes.length, 'index', 'indexes')}` : ''}`;
        item.tooltip = [...node.table.indexes.map((i) => `${i.unique ? 'unique ' : ''}index ${i.name} (${i.columns.join(', ')})`), ...node.table.foreignKeys.map((f) => `foreign key (${f.columns.join(', ')}) → ${f.table} (${f.references.join(', ')})`)].join('\n') || undefined;
        return item;
      }
      case 'column': {
        const item = new vscode.TreeItem(node.text);
        item.id = `column:${node.folder.uri}:${node.key}`;
        item.iconPath = new vscode.ThemeIcon('symbol-field');
        return item;
      }
      case 'drift': {
        const { drifted, changes } = node.report;
        const item = new vscode.TreeItem(drifted ? `Drift: ${plural(changes.length, 'difference')}` : 'No drift', drifted ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        item.id = `drift:${node.folder.uri}`;
        item.iconPath = new vscode.ThemeIcon(drifted ? 'warning' : 'pass', new vscode.ThemeColor(drifted ? 'editorWarning.foreground' : 'testing.iconPassed'));
        item.tooltip = `The database against its applied migrations replayed on ${node.report.shadow}.`;
        item.contextValue = 'drift';
        return item;
      }
      case 'difference': {
        const item = new vscode.TreeItem(node.text);
        item.id = `difference:${node.folder.uri}:${node.key}`;
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('info', new vscode.ThemeColor('descriptionForeground'));
        return item;
      }
    }
  }
}

/** "003 Add JSON metadata, applied": the label, then the description's parts. */
function rowWords(item: vscode.TreeItem): string {
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  const description = typeof item.description === 'string' && item.description ? item.description.split(' · ') : [];
  return [label, ...description].join(', ');
}

function migrationItem(node: Extract<Node, { kind: 'migration' }>, checked: CheckedMigration | undefined): vscode.TreeItem {
  const { state } = node;
  const item = new vscode.TreeItem(`${String(state.version).padStart(3, '0')} ${state.description}`);
  item.id = `migration:${node.folder.uri}:${state.source}:${state.version}:${state.path ?? 'missing'}`;
  // What the last Verify or Lint found, while it is still pending (once applied it no longer applies).
  const shown = checked && !state.applied ? checked : undefined;
  const findings = shown?.lint.length ? ` · ${shown.lint.length} lint` : '';
  // A run the user cancelled is recorded as failed, but nothing in the migration needs fixing.
  const status = cancelled(state) ? 'cancelled' : state.status;
  item.description = shown ? `${status} · ${shown.outcome === 'checked' ? 'linted' : shown.outcome}${findings}` : status;
  const [icon, color] = status === 'cancelled' ? ['circle-slash', 'descriptionForeground'] : ICONS[state.status];
  item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
  item.contextValue = `migration:${state.status}${node.last ? ':last' : ''}`;
  item.tooltip = tooltip(state, shown);
  if (state.path) {
    item.resourceUri = vscode.Uri.file(state.path);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(state.path)] };
  }
  return item;
}

function tooltip(state: MigrationState, checked?: CheckedMigration): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${state.version} ${escape(state.description)}** — ${cancelled(state) ? 'cancelled (nothing needs fixing: run it again)' : state.status}\n\n`);
  if (state.appliedAt) md.appendMarkdown(`Applied ${escape(localTime(state.appliedAt, vscode.env.language))} in ${state.durationMs} ms\n\n`);
  if (state.path) md.appendMarkdown(`${escape(path.basename(state.path))}\n\n`);
  else md.appendMarkdown('The file is gone (applied, missing from disk).\n\n');
  if (state.lastError) md.appendMarkdown(`${cancelled(state) ? 'Last run' : 'Last error'}: ${escape(state.lastError)}\n\n`);
  if (state.environments) md.appendMarkdown(`Runs in: ${escape(state.environments.join(', '))}${state.skippedAt ? ` (skipped ${escape(localTime(state.skippedAt, vscode.env.language))})` : ''}\n\n`);
  if (state.tags) md.appendMarkdown(`Tags: ${escape(state.tags.join(', '))}\n\n`);
  for (const p of state.problems) md.appendMarkdown(`${p.severity}: ${escape(p.message)} (line ${p.line})\n\n`);
  if (checked) md.appendMarkdown(`Last check on a shadow database: ${checked.outcome}\n\n`);
  for (const p of checked?.problems ?? []) md.appendMarkdown(`- ${escape(p)}\n`);
  for (const f of checked?.lint ?? []) md.appendMarkdown(`- ${f.severity} [${f.code}]: ${escape(f.message)}\n`);
  return md;
}

/** Failed because the user cancelled it (the engine records "was cancelled during up(): … nothing needs fixing"). */
export function cancelled(state: MigrationState): boolean {
  return state.status === 'failed' && wasCancelled(state.lastError);
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}

/**
 * The database a folder's status is read from, as its label says it ("pg app@db:5432/shop"), a
 * file inside the folder by its relative path ("sqlite .migrations/dev.sqlite3").
 */
export function databaseShown(model: MigrationsModel, folder: vscode.WorkspaceFolder): string | undefined {
  let label = model.states.find((s) => s.folder === folder)?.report?.database;
  try {
    label ??= model.engine(folder).databaseLabel;
  } catch {
    return undefined;
  }
  return label.split(folder.uri.fsPath + path.sep).join('');
}

export function registerTree(model: MigrationsModel): vscode.Disposable[] {
  const tree = new MigrationsTree(model);
  const view = vscode.window.createTreeView('migrations.view', { treeDataProvider: tree, showCollapseAll: true });
  const update = () => {
    const { pending } = summarize(model.migrations().map((m) => m.state));
    view.badge = pending > 0 ? { value: pending, tooltip: `${plural(pending, 'pending migration')}` } : undefined;
    // The view's title says which database it talks to (with several folders, each folder's row does).
    view.description = model.states.length === 1 ? databaseShown(model, model.states[0].folder) : undefined;
  };
  return [view, tree, model.onDidChange(update)];
}
