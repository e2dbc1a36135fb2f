import * as vscode from 'vscode';
import { explain, MigrationsError, runError, type MigrationEngine, type RunEvents, type RunReport } from '../../core';
import { EDITOR_TERMS } from '../terms';
import type { MigrationsModel } from '../model';
import type { Node } from '../tree';

/** What every command handler gets. */
export interface Context {
  readonly model: MigrationsModel;
  readonly log: vscode.LogOutputChannel;
  /** Server passwords (Select Database stores them; the engine reads them when it connects). */
  readonly secrets: vscode.SecretStorage;
}

/** One command, in a file of its own: its id and what it does (registered inside the one error wrapper). */
export interface CommandSpec {
  readonly id: string;
  run(ctx: Context, ...args: unknown[]): Promise<unknown>;
}

/** Where a command acts: a folder, and (from an item or an editor) one migration. */
export interface Target {
  readonly folder: vscode.WorkspaceFolder;
  readonly source?: string;
  readonly version?: number;
}

/** Options programmatic callers (tests, other extensions) may pass instead of answering prompts. */
export interface Automation {
  readonly confirmed?: boolean;
  readonly description?: string;
  readonly source?: string;
  readonly version?: number;
  readonly including?: boolean;
}

/**
 * Registers a command inside the one error wrapper: every failure is logged and shown
 * with "Open Output", never as `[object Object]` or a stack.
 */
export function command(ctx: Context, id: string, handler: (...args: unknown[]) => Promise<unknown>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (err) {
      // Esc on a prompt: nothing to report.
      if (err instanceof Cancelled) return undefined;
      const message = explain(err, EDITOR_TERMS);
      ctx.log.error(`${id}: ${message}`);
      if (!(err instanceof MigrationsError) && err instanceof Error && err.stack) ctx.log.debug(err.stack);
      void showError(ctx, message);
      return undefined;
    }
  });
}

export async function showError(ctx: Context, message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Open Output');
  if (choice === 'Open Output') ctx.log.show(true);
}

/** Refuses anything that would execute a migration file in a restricted workspace. */
export function requireTrust(): void {
  if (!vscode.workspace.isTrusted) {
    throw new MigrationsError('This workspace is not trusted: running migrations executes their code. Trust the folder (Manage Workspace Trust) to apply or roll back.');
  }
}

/** Reads the target from a tree node, a file URI (CodeLens, explorer) or the open editor. */
export async function targetOf(ctx: Context, arg: unknown): Promise<Target> {
  if (isNode(arg) && arg.kind === 'migration') return { folder: arg.folder, source: arg.state.source, version: arg.state.version };
  if (isNode(arg)) return { folder: arg.folder, source: arg.kind === 'source' ? arg.id : undefined };
  const uri = arg instanceof vscode.Uri ? arg : undefined;
  if (uri) {
    const hit = ctx.model.migrations().find((m) => m.state.path === uri.fsPath);
    if (!hit) throw new MigrationsError(`${uri.fsPath} is not a discovered migration (versions/migration_<version>_<name>.ts).`);
    return { folder: hit.folder, source: hit.state.source, version: hit.state.version };
  }
  return { folder: await pickFolder(ctx) };
}

/**
 * For commands that check or preview one migration: what they were given, else the migration open
 * in the active editor (the palette passes nothing), else nothing (all of a folder).
 */
export function givenOrOpen(ctx: Context, arg: unknown): unknown {
  if (arg !== undefined) return arg;
  const open = vscode.window.activeTextEditor?.document.uri;
  return open && ctx.model.migrations().some((m) => m.state.path === open.fsPath) ? open : undefined;
}

async function pickFolder(ctx: Context): Promise<vscode.WorkspaceFolder> {
  const folders = ctx.model.folders;
  if (folders.length === 0) throw new MigrationsError('Open a folder first: migrations live in its versions/ folders.');
  if (folders.length === 1) return folders[0];
  const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder' });
  if (!picked) throw new Cancelled();
  return picked;
}

/** The user dismissed a prompt: end quietly. */
export class Cancelled extends MigrationsError {
  constructor() {
    super('Cancelled.');
  }
}

export async function confirm(message: string, action: string, automation?: Automation): Promise<void> {
  if (automation?.confirmed) return;
  const choice = await vscode.window.showWarningMessage(message, { modal: true }, action);
  if (choice !== action) throw new Cancelled();
}

/** A cancellable progress notification whose cancel button aborts `work`'s signal. */
export function cancellableProgress<T>(title: string, work: (signal: AbortSignal, progress: vscode.Progress<{ message?: string; increment?: number }>) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return work(abort.signal, progress);
  });
}

/**
 * Runs engine work under a cancellable progress notification (cancel stops between
 * migrations), logs each step, refreshes the model and reports the outcome.
 */
export async function runWithProgress(ctx: Context, target: Target, title: string, work: (engine: MigrationEngine, opts: { signal: AbortSignal; events: RunEvents; source?: string }) => Promise<RunReport>): Promise<RunReport> {
  requireTrust();
  const engine = ctx.model.engine(target.folder);
  const report = await cancellableProgress(title, async (signal, progress) => {
    const events: RunEvents = {
      beforeMigration: (s, i, total) => progress.report({ message: `${i + 1}/${total}: ${s.direction} ${s.version} ${s.description}`, increment: i === 0 ? 0 : 100 / total }),
      afterMigration: (s) => {
        // The tree follows the run migration by migration, not only at its end.
        void ctx.model.refresh();
        if (s.outcome === 'done') ctx.log.info(`${s.direction} ${s.source} ${s.version} ${s.description}: done in ${s.durationMs} ms`);
        else ctx.log.error(`${s.direction} ${s.source} ${s.version} ${s.description}: ${s.error}`);
      },
    };
    try {
      return await work(engine, { signal, events, source: target.source });
    } finally {
      await ctx.model.refresh();
    }
  });
  const done = report.steps.filter((s) => s.outcome === 'done').length;
  if (report.ok) void vscode.window.showInformationMessage(report.steps.length === 0 ? 'Nothing to do.' : `${title}: ${done} migration(s) done.`);
  else if (report.cancelled) void vscode.window.showWarningMessage(`${title}: cancelled after ${done} migration(s).`);
  else void showError(ctx, runError(report, EDITOR_TERMS) ?? `${title} failed.`);
  return report;
}

function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'folder' in arg;
}

/** The options a programmatic caller may pass, each with its type. */
const AUTOMATION: Record<keyof Automation, 'boolean' | 'string' | 'number'> = { confirmed: 'boolean', description: 'string', source: 'string', version: 'number', including: 'boolean' };

/**
 * The automation options among a command's arguments. Tree items, Uris and arrays (a menu's
 * selection) are the editor's own arguments; any other object must have exactly that shape, or
 * the command refuses it rather than guess.
 */
export function automationOf(args: readonly unknown[]): Automation | undefined {
  for (const arg of args) {
    if (typeof arg !== 'object' || arg === null || arg instanceof vscode.Uri || Array.isArray(arg) || isNode(arg)) continue;
    const wrong = Object.entries(arg).filter(([key, value]) => !Object.hasOwn(AUTOMATION, key) || typeof value !== AUTOMATION[key as keyof Automation] || (key === 'version' && !Number.isSafeInteger(value)));
    if (wrong.length > 0) {
      const takes = Object.entries(AUTOMATION).map(([key, type]) => `${key} (${type === 'number' ? 'a whole number' : `a ${type}`})`).join(', ');
      throw new MigrationsError(`The command was given ${wrong.map(([key, value]) => `${key}: ${JSON.stringify(value) ?? String(value)}`).join(', ')}, which it does not take; its options are ${takes}.`);
    }
    return arg as Automation;
  }
  return undefined;
}
