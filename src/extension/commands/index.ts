import * as vscode from 'vscode';
import { HistoryPanels } from '../historyView';
import { SqlPreviews } from '../sqlPreviews';
import { applyAll } from './applyAll';
import { checkDrift, lint, rehash, verify, writeSchema } from './checks';
import { applyTo } from './applyTo';
import { create } from './create';
import { forceUnlock } from './forceUnlock';
import { forget } from './forget';
import { generateCommands } from './generate';
import { markApplied } from './markApplied';
import { openFile } from './openFile';
import { previewSqlCommands } from './previewSql';
import { redo } from './redo';
import { redoLast } from './redoLast';
import { refresh } from './refresh';
import { renameSource } from './renameSource';
import { rollbackLast } from './rollbackLast';
import { rollbackTo } from './rollbackTo';
import { rollbackToHere } from './rollbackToHere';
import { selectDatabase } from './selectDatabase';
import { command, type CommandSpec, type Context } from './shared';
import { showDocs } from './showDocs';
import { showHistory } from './showHistory';
import { validate } from './validate';

/** Every command of the extension (package.json's `contributes.commands`), each in the one error wrapper. */
export function registerCommands(ctx: Context): vscode.Disposable[] {
  const history = new HistoryPanels(ctx);
  const previews = new SqlPreviews();
  const commands: CommandSpec[] = [
    applyAll, applyTo, rollbackLast, rollbackToHere, rollbackTo, redoLast, redo,
    create, ...previewSqlCommands(previews), showHistory(history), validate,
    markApplied, forget, renameSource, forceUnlock, refresh, openFile, selectDatabase,
    verify, lint, checkDrift, writeSchema, rehash, ...generateCommands(previews), showDocs(previews),
  ];
  return [history, previews, ...commands.map((c) => command(ctx, c.id, (...args) => c.run(ctx, ...args)))];
}
