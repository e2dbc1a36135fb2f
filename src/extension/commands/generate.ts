import * as path from 'node:path';
import * as vscode from 'vscode';
import { MigrationsError, render, type Advice, type GenerateReport, type RenameQuestion } from '../../core';
import { declaredSchemaAt, declaredSchemas } from '../schemaLenses';
import type { SqlPreviews } from '../sqlPreviews';
import { EDITOR_TERMS } from '../terms';
import { plural } from '../words';
import { automationOf, Cancelled, cancellableProgress, confirm, requireTrust, targetOf, type Automation, type CommandSpec, type Context } from './shared';

const WITH_DROPS = 'Generate with Drops';

/**
 * Generate Migration from Schema (the palette, the Schema item, a schema file's CodeLens) and from
 * Database Drift: the engine's generate, its questions asked here. A rename question is a quick pick
 * (renamed, or dropped and added), a refusal to drop is a modal offering to write the drops; the
 * new file opens beside a diff of the source's schema before and after it, and its lint findings
 * are diagnostics at once (the same path as Lint's). Executes workspace code: trusted only.
 */
async function generate(previews: SqlPreviews, ctx: Context, fromDatabase: boolean, args: unknown[]): Promise<GenerateReport> {
  requireTrust();
  const automation = automationOf(args);
  const { folder, source, schemaFile } = await whereTo(ctx, args[0], automation, fromDatabase);
  const engine = ctx.model.engine(folder);
  // The engine reads the schema from disk: what is typed in it is what is generated from.
  const open = schemaFile && vscode.workspace.textDocuments.find((d) => d.uri.fsPath === schemaFile && d.isDirty);
  if (open) await open.save();
  const description = automation?.description ?? (await vscode.window.showInputBox({
    title: fromDatabase ? 'Generate Migration from Database Drift' : 'Generate Migration from Schema',
    prompt: `Describe the migration${source ? ` of ${source}` : ''}`,
    placeHolder: 'add nickname to users',
    validateInput: (v) => (/[A-Za-z0-9]/.test(v) ? undefined : 'Use some letters or digits: they name the file.'),
  }));
  if (description === undefined) throw new Cancelled();

  const what = fromDatabase ? `the drift of ${engine.databaseLabel}` : `the schema of ${source ?? 'the source'}`;
  const renames: Record<string, string | null> = {};
  let allowDestructive = false;
  let report: GenerateReport;
  for (;;) {
    try {
      report = await cancellableProgress(`Generate Migration: comparing ${what} with its migrations on a shadow database`, (signal) =>
        engine.generate({ description, source, fromDatabase, renames: { ...renames }, allowDestructive, signal }));
    } catch (err) {
      // confirmed: false (a caller's "never drop") ends it as refused, with the reason.
      if (allowDestructive || !refusesDrops(err) || automation?.confirmed === false) throw err;
      ctx.log.info(`Generate Migration (${source ?? 'the source'}): drops refused; asking whether to write them.`);
      await confirm(render(err.text, (a) => (isDropAdvice(a) ? `choose "${WITH_DROPS}"` : EDITOR_TERMS(a))), WITH_DROPS, automation);
      allowDestructive = true;
      continue;
    }
    if (report.questions.length === 0) break;
    Object.assign(renames, await ask(report.questions));
  }

  if (!report.created) {
    ctx.log.info(`Generate Migration (${report.source}): ${report.message}`);
    void vscode.window.showInformationMessage(`Generate Migration (${report.source}): ${report.message}`);
    return report;
  }
  engine.invalidate();
  await ctx.model.refresh();
  // Its lint findings (and what verify found) as Lint's and Verify's are: diagnostics on the file, kept while it is unchanged.
  const stamp = ctx.model.stamp(folder);
  if (report.verify && stamp) ctx.model.checks.record(folder, { ok: report.verify.outcome === 'reversible', shadow: 'a shadow database', migrations: [report.verify] }, stamp);
  const name = path.basename(report.created.path);
  const before = previews.put([folder.name, report.source, `schema before ${name}`], report.before);
  const after = previews.put([folder.name, report.source, `schema after ${name}`], report.after);
  await vscode.commands.executeCommand('vscode.diff', before, after, `Schema of ${report.source}: before ↔ after ${name}`, { preview: false });
  await vscode.window.showTextDocument(vscode.Uri.file(report.created.path), { viewColumn: vscode.ViewColumn.Beside, preview: false });
  const lint = report.verify?.lint ?? [];
  const message = `Generate Migration (${report.source}): ${report.message} Lint: ${lint.length === 0 ? 'no findings' : `${plural(lint.length, 'finding')} (see Problems)`}.`;
  ctx.log.info([message, ...report.changes.map((c) => `  ${c}`), ...lint.map((f) => `  ${f.severity} [${f.code}] ${f.message}`)].join('\n'));
  if (lint.length === 0) void vscode.window.showInformationMessage(message);
  else void vscode.window.showWarningMessage(message);
  return report;
}

/**
 * The folder and source: from a schema file (its CodeLens, or the editor it is open in), a tree item,
 * the options given, else asked when the folder has several sources to write into.
 */
async function whereTo(ctx: Context, arg: unknown, automation: Automation | undefined, fromDatabase: boolean): Promise<{ folder: vscode.WorkspaceFolder; source?: string; schemaFile?: string }> {
  const uri = arg instanceof vscode.Uri ? arg : fromDatabase ? undefined : vscode.window.activeTextEditor?.document.uri;
  const declared = uri && declaredSchemaAt(ctx.model, uri);
  if (declared) return { folder: declared.folder, source: automation?.source ?? declared.source, schemaFile: declared.file };
  const target = await targetOf(ctx, arg instanceof vscode.Uri ? undefined : arg);
  const given = automation?.source ?? target.source;
  const schemas = declaredSchemas(ctx.model).filter((d) => d.folder === target.folder);
  if (given !== undefined) return { folder: target.folder, source: given, schemaFile: schemas.find((d) => d.source === given)?.file };
  // From a schema, the sources that declare one; from the drift (or with none declared), every folder source: the engine says why one does not fit.
  const candidates: { label: string; description: string; file?: string }[] = !fromDatabase && schemas.length > 0
    ? schemas.map((d) => ({ label: d.source, description: vscode.workspace.asRelativePath(d.file, false), file: d.file }))
    : ctx.model.engine(target.folder).sources().filter((s) => s.dir !== '').map((s) => ({ label: s.id, description: vscode.workspace.asRelativePath(s.dir, false) }));
  if (candidates.length <= 1) return { folder: target.folder, source: candidates[0]?.label, schemaFile: candidates[0]?.file };
  const picked = await vscode.window.showQuickPick(candidates, { placeHolder: fromDatabase ? 'Which versions folder gets the migration?' : 'Generate from which source\'s schema?' });
  if (!picked) throw new Cancelled();
  return { folder: target.folder, source: picked.label, schemaFile: picked.file };
}

/** drizzle-kit's question, one quick pick per column: renamed (its data kept), or dropped and added. */
async function ask(questions: readonly RenameQuestion[]): Promise<Record<string, string | null>> {
  const answers: Record<string, string | null> = {};
  for (const [i, q] of questions.entries()) {
    const from = `${q.table}.${q.from}`;
    const to = `${q.table}.${q.to}`;
    const picked = await vscode.window.showQuickPick([
      { label: `${from} → ${to}: renamed`, detail: `renameColumn: the data in ${from} is kept.`, renamed: true },
      { label: `${from} → ${to}: dropped and added`, detail: `dropColumn and a new column: the data in ${from} is lost.`, renamed: false },
    ], {
      title: `Generate Migration: was ${from} renamed to ${to}?${questions.length > 1 ? ` (${i + 1} of ${questions.length})` : ''}`,
      placeHolder: `${from} is gone and ${to} is new, of the same type`,
      ignoreFocusOut: true,
    });
    if (!picked) throw new Cancelled();
    answers[from] = picked.renamed ? to : null;
  }
  return answers;
}

const isDropAdvice = (a: Advice) => a.do === 'override' && a.flag === 'allow-destructive';

/** generate's refusal of drops and narrowing, which allowDestructive writes (it crosses from the runner child as a MigrationsError). */
function refusesDrops(err: unknown): err is MigrationsError {
  return err instanceof MigrationsError && err.text.some((part) => typeof part !== 'string' && isDropAdvice(part));
}

/** The commands: from the declared schema, and from the database's drift. */
export function generateCommands(previews: SqlPreviews): CommandSpec[] {
  return [
    { id: 'migrations.generate', run: (ctx, ...args) => generate(previews, ctx, false, args) },
    { id: 'migrations.generateFromDatabase', run: (ctx, ...args) => generate(previews, ctx, true, args) },
  ];
}
