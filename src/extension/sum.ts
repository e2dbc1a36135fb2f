import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkSum, explain, SUM_FILE, type MigrationState } from '../core';
import { EDITOR_TERMS } from './terms';
import type { MigrationsModel } from './model';

/**
 * Whether migrations.sum may follow this migration's edits: it is not applied on the database the
 * editor reads (nor skipped there, which may mean applied in another environment). An applied
 * migration edited keeps its sum warning: that is what the sum exists for.
 */
export function sumFollows(state: MigrationState | undefined): state is MigrationState {
  return state !== undefined && !state.applied && state.status !== 'skipped';
}

/**
 * The user's own save of a pending migration rewrites its source's migrations.sum, so a new
 * migration never shows `sum-edited` while it is being written. Only when that save is the one
 * difference: a file added by hand, a merge's conflict or another file changed behind the sum's
 * back stay on screen (with the quick fix "Update migrations.sum"). Runs no workspace code (it
 * reads files and writes the sum, as Rehash does), so it works in a restricted workspace too.
 */
export function registerSumFollowing(model: MigrationsModel, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.workspace.onDidSaveTextDocument((doc) => {
    const file = doc.uri.fsPath;
    const hit = model.migrations().find((m) => m.state.path === file);
    // The sum is opt-in: a source without one does not get one on a save.
    if (!hit || !sumFollows(hit.state) || !fs.existsSync(path.join(path.dirname(file), SUM_FILE))) return;
    try {
      const engine = model.engine(hit.folder);
      engine.invalidate(file);
      const [source] = engine.sources(hit.state.source);
      const problems = source?.dir ? checkSum(source.dir, source.migrations) : [];
      if (problems.length !== 1 || problems[0].code !== 'sum-edited' || problems[0].file !== file) return;
      engine.rehash(hit.state.source);
      log.info(`Updated ${path.join(source.dir, SUM_FILE)} for your save of ${path.basename(file)} (not applied).`);
      model.scheduleRefresh();
    } catch (err) {
      log.warn(`Could not update ${SUM_FILE} after the save of ${path.basename(file)}: ${explain(err, EDITOR_TERMS)}`);
    }
  });
}
