import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCodeActions } from './codeActions';
import { registerCommands } from './commands';
import { registerDiagnostics } from './diagnostics';
import { MigrationsModel } from './model';
import { registerSchemaLenses } from './schemaLenses';
import { registerStatusBar } from './statusBar';
import { registerSumFollowing } from './sum';
import { registerTree } from './tree';

/** What `activate` returns: the model, for tests and other extensions. */
export interface MigrationsApi {
  readonly model: MigrationsModel;
}

let active: MigrationsModel | undefined;

/** Only wiring: every piece registers its own disposables. */
export function activate(context: vscode.ExtensionContext): MigrationsApi {
  const log = vscode.window.createOutputChannel('Migrations', { log: true });
  // Migration files run in a child Node process on VS Code's own runtime (as language servers
  // do), so a synchronous driver or a runaway migration never freezes the editor and can be ended.
  const isolate = { execPath: process.execPath, entry: path.join(context.extensionPath, 'dist', 'editor-runner.js'), env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
  // The settings the engine reads are the ones this extension contributes: one list, in package.json.
  const properties = (context.extension.packageJSON as { contributes: { configuration: { properties: Record<string, unknown> } } }).contributes.configuration.properties;
  const settingKeys = Object.keys(properties).map((k) => k.replace(/^migrations\./, ''));
  const model = (active = new MigrationsModel(log, path.join(context.extensionPath, 'templates'), context.secrets, isolate, settingKeys));
  const ctx = { model, log, secrets: context.secrets };
  context.subscriptions.push(
    log,
    model,
    ...registerTree(model),
    ...registerStatusBar(model),
    ...registerDiagnostics(model, log),
    ...registerCodeActions(model),
    ...registerSchemaLenses(model, log),
    registerSumFollowing(model, log),
    ...registerCommands(ctx),
  );
  void vscode.commands.executeCommand('setContext', 'migrations.active', true);
  // The first read loads knex and the driver: after activation returns, not during it.
  model.scheduleRefresh(0);
  return { model };
}

/** VS Code waits for this: the engines' connections (a SQLite file's WAL, a server session) close cleanly. */
export async function deactivate(): Promise<void> {
  await active?.close();
  active = undefined;
}
