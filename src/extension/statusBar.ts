import * as vscode from 'vscode';
import type { MigrationsModel } from './model';

/** "$(database) 3 pending": the pending count; a click opens the view. */
export function registerStatusBar(model: MigrationsModel): vscode.Disposable[] {
  const item = vscode.window.createStatusBarItem('migrations.pending', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Migrations';
  item.command = 'migrations.view.focus';
  const update = () => {
    const all = model.migrations();
    if (all.length === 0) return item.hide();
    const pending = all.filter((m) => !m.state.applied && m.state.status !== 'invalid').length;
    const invalid = all.filter((m) => m.state.status === 'invalid').length;
    item.text = `$(database) ${pending} pending${invalid ? ` $(warning) ${invalid}` : ''}`;
    item.tooltip = `Migrations: ${pending} pending, ${invalid} invalid, ${all.length} in all`;
    item.show();
  };
  return [item, model.onDidChange(update)];
}
