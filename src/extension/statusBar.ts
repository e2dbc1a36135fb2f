import * as vscode from 'vscode';
import { summarize } from '../core';
import type { MigrationsModel } from './model';

/** "$(database) 3 pending": the pending count; a click opens the view. */
export function registerStatusBar(model: MigrationsModel): vscode.Disposable[] {
  const item = vscode.window.createStatusBarItem('migrations.pending', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Migrations';
  item.command = 'migrations.view.focus';
  const update = () => {
    const all = model.migrations();
    if (all.length === 0) return item.hide();
    const { pending, invalid, repair, total } = summarize(all.map((m) => m.state));
    item.text = `$(database) ${pending} pending${invalid ? ` $(warning) ${invalid}` : ''}${repair ? ` $(tools) ${repair}` : ''}`;
    item.tooltip = `Migrations: ${pending} pending, ${invalid} invalid, ${repair ? `${repair} to repair (failed part-way), ` : ''}${total} in all`;
    item.show();
  };
  return [item, model.onDidChange(update)];
}
