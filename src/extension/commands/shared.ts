import * as vscode from 'vscode';
import { explain, MigrationsError, runError, type MigrationEngine, type MigrationState, type RunEvents, type RunReport, type Terms } from '../../core';
import { EDITOR_TERMS } from '../terms';
import { migrationName, migrationsNamed, padded } from '../words';
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
  const result = runMessage(title, report, EDITOR_TERMS);
  ctx.log.info(result.text);
  if (result.level === 'info') void vscode.window.showInformationMessage(result.text);
  else if (result.level === 'warning') void vscode.window.showWarningMessage(result.text);
  else void showError(ctx, result.text);
  return report;
}

/**
 * What a run came to, naming its migrations: what was applied or rolled back, what failed, what
 * was not run (a partial success says what it did before the failure), then the failure itself.
 */
export function runMessage(title: string, report: RunReport, terms: Terms): { level: 'info' | 'warning' | 'error'; text: string } {
  if (report.ok && report.steps.length === 0 && !report.passedOver?.length) return { level: 'info', text: `${title}: nothing to do.` };
  const steps = (outcome: string, direction?: string) => report.steps.filter((s) => s.outcome === outcome && (!direction || s.direction === direction));
  const [down, up] = [steps('done', 'down'), steps('done', 'up')];
  const again = down.filter((d) => up.some((u) => u.source === d.source && u.version === d.version));
  const parts = again.length > 0 && again.length === down.length && again.length === up.length
    ? [`rolled back and applied again ${migrationsNamed(again)}`]
    : [...(down.length ? [`rolled back ${migrationsNamed(down)}`] : []), ...(up.length ? [`applied ${migrationsNamed(up)}`] : [])];
  const skipped = steps('skipped');
  if (skipped.length) parts.push(`passed over ${migrationsNamed(skipped)} (not for this environment or its tags)`);
  // Older than one applied: left pending unless applied up to (Apply Up to Here takes them).
  if (report.passedOver?.length) parts.push(`left pending, out of order: ${migrationsNamed(report.passedOver)}`);
  const failed = steps('failed');
  const notRun = steps('not-run');
  if (report.ok) return { level: 'info', text: `${title}: ${parts.join('; ')}.` };
  if (failed.length) parts.push(`${report.cancelled ? 'stopped' : 'failed'}: ${migrationsNamed(failed)}`);
  if (notRun.length) parts.push(`not run: ${migrationsNamed(notRun)}`);
  const why = runError(report, terms);
  if (report.cancelled) {
    // "Cancelled after 1 of 3 migrations." says nothing the parts do not; a migration stopped mid-way says how it was left.
    const stopped = failed.length && why ? ` ${why}` : '';
    return { level: 'warning', text: `${title} was cancelled${parts.length ? `: ${parts.join('; ')}` : ''}.${stopped}` };
  }
  // Nothing else happened: the failure alone names the migration.
  const alone = down.length + up.length + skipped.length + notRun.length === 0;
  return { level: 'error', text: alone ? (why ?? `${title} failed.`) : `${title}: ${parts.join('; ')}.${why ? ` ${why}` : ''}` };
}

/**
 * The confirmation before migrations are rolled back: which (source, version, description),
 * and a warning for each one whose down() the last Verify found irreversible.
 */
export function rollbackQuestion(ctx: Pick<Context, 'model'>, folder: vscode.WorkspaceFolder, targets: readonly MigrationState[], after?: { to: number; source?: string }): string {
  const kept = after && after.to > 0 ? ctx.model.migrations().find((m) => m.folder === folder && m.state.version === after.to && (after.source === undefined || m.state.source === after.source))?.state : undefined;
  const every = !after ? '' : after.to === 0 ? `every applied migration${after.source ? ` of ${after.source}` : ''}` : `every migration after ${kept ? migrationName(kept) : padded(after.to)}`;
  // The view as last read shows nothing to undo: still asked, since the database decides (the run then does nothing).
  if (targets.length === 0) return `Roll back ${every || 'the last applied migration'}? Its down() will run.`;
  const question = `Roll back ${migrationsNamed(targets)}${every ? `, ${every}` : ''}? ${targets.length > 1 ? 'Their' : 'Its'} down() will run.`;
  return [question, ...irreversibleWarnings(ctx, folder, targets)].join('\n\n');
}

/** For each migration whose down() the last Verify found irreversible (or missing): a warning line naming what it leaves. */
export function irreversibleWarnings(ctx: Pick<Context, 'model'>, folder: vscode.WorkspaceFolder, targets: readonly MigrationState[]): string[] {
  return targets.flatMap((t) => {
    const checked = ctx.model.checks.verdict(folder, t.source, t.version);
    const whose = targets.length === 1 ? 'its' : `${migrationName(t)}: its`;
    if (checked?.outcome === 'irreversible') return [`Warning: ${whose} down() was found irreversible: ${checked.problems.join('; ')}. Applying it again may then fail.`];
    if (checked?.outcome === 'no-down') return [`Warning: ${whose} down() is missing: its changes stay.`];
    return [];
  });
}

/**
 * The version just before `version` in its source (0 when it is the first): what "roll back this
 * one too" rolls back to. Not `version - 1`, which need not exist (versions may skip numbers),
 * and a rollback to a version that does not exist is refused.
 */
export function versionBefore(ctx: Pick<Context, 'model'>, folder: vscode.WorkspaceFolder, source: string | undefined, version: number): number {
  const before = ctx.model.migrations().filter((m) => m.folder === folder && m.state.source === source && m.state.version < version).map((m) => m.state.version);
  return before.length > 0 ? Math.max(...before) : 0;
}

/** The migration Roll Back Last and Redo Last act on: the one applied last, across the folder's sources. */
export function lastApplied(ctx: Pick<Context, 'model'>, folder: vscode.WorkspaceFolder): MigrationState | undefined {
  const lasts = ctx.model.states.find((f) => f.folder === folder)?.report?.sources
    .map((s) => s.migrations.find((m) => m.applied && m.version === s.lastApplied))
    .filter((m): m is MigrationState => m !== undefined) ?? [];
  // Across sources, by when each was applied (the engine's own order is the history's).
  return lasts.sort((a, b) => (b.appliedAt ?? '').localeCompare(a.appliedAt ?? ''))[0];
}

/** The applied migrations a rollback down to `to` (which stays applied) would undo, newest first. */
export function appliedAfter(ctx: Pick<Context, 'model'>, folder: vscode.WorkspaceFolder, to: number, source?: string): MigrationState[] {
  return ctx.model.migrations()
    .filter((m) => m.folder === folder && m.state.applied && m.state.version > to && (source === undefined || m.state.source === source))
    .map((m) => m.state)
    .sort((a, b) => b.version - a.version);
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
