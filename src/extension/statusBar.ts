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
    const count = (...statuses: string[]) => all.filter((m) => statuses.includes(m.state.status)).length;
    const pending = all.filter((m) => !m.state.applied && ['pending', 'out-of-order', 'failed'].includes(m.state.status)).length;
    const invalid = count('invalid');
    const repair = count('failed-partial');
    item.text = `$(database) ${pending} pending${invalid ? ` $(warning) ${invalid}` : ''}${repair ? ` $(tools) ${repair}` : ''}`;
    item.tooltip = `Migrations: ${pending} pending, ${invalid} invalid, ${repair ? `${repair} to repair (failed part-way), ` : ''}${all.length} in all`;
    item.show();
  };
  return [item, model.onDidChange(update)];
}
