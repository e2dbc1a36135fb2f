import * as vscode from 'vscode';
import { SchemaOfAnotherDatabase } from '../../core';
import { plural } from '../words';
import { checkSummary } from '../checks';
import { automationOf, cancellableProgress, confirm, givenOrOpen, requireTrust, targetOf, type CommandSpec, type Context, type Target } from './shared';

/** Verify: each pending migration (or the one chosen) up → down → up on a shadow database. */
export const verify: CommandSpec = {
  id: 'migrations.verify',
  run: (ctx, ...args) => check(ctx, args[0], 'Verify'),
};

/** Lint: each pending migration's SQL, captured on a shadow database, against the safety rules. */
export const lint: CommandSpec = {
  id: 'migrations.lint',
  run: (ctx, ...args) => check(ctx, args[0], 'Lint'),
};

async function check(ctx: Context, arg: unknown, what: 'Verify' | 'Lint') {
  // Both execute the migrations (on the shadow): only in a trusted workspace.
  requireTrust();
  const target = await targetOf(ctx, givenOrOpen(ctx, arg));
  const engine = ctx.model.engine(target.folder);
  // The result belongs to the files, database and history as they are now (read first, so none is stale).
  await ctx.model.refresh();
  const stamp = ctx.model.stamp(target.folder);
  // A cancel ends the child trying migrations on the shadow at once (a migration may loop forever).
  const report = await cancellableProgress(`${what}: trying ${describe(target)} on a shadow database`, (signal) => {
    const opts = { source: target.source, version: target.version, signal };
    return what === 'Verify' ? engine.verify(opts) : engine.lint(opts);
  });
  if (stamp) ctx.model.checks.record(target.folder, report, stamp);
  const message = checkSummary(report, what);
  ctx.log.info(message);
  for (const m of report.migrations) for (const p of m.problems) ctx.log.warn(`${m.source} ${m.version}: ${p}`);
  if (report.ok) void vscode.window.showInformationMessage(message);
  else void vscode.window.showWarningMessage(message, 'Show Problems').then((c) => c && vscode.commands.executeCommand('workbench.actions.view.problems'));
  return { ...report, message };
}

/** Check Drift: the live schema against the applied migrations replayed on a shadow; shown in the tree. */
export const checkDrift: CommandSpec = {
  id: 'migrations.checkDrift',
  async run(ctx, ...args) {
    requireTrust();
    const target = await targetOf(ctx, args[0]);
    await ctx.model.refresh();
    const stamp = ctx.model.stamp(target.folder);
    const report = await cancellableProgress('Check Drift: replaying the applied migrations on a shadow database', (signal) => ctx.model.engine(target.folder).drift({ signal }));
    if (stamp) ctx.model.checks.recordDrift(target.folder, report, stamp);
    const message = report.drifted ? `Drift: ${plural(report.changes.length, 'difference')} between the database and its migrations (see the Migrations view).` : 'No drift: the database is what its migrations make.';
    ctx.log.info([message, ...report.changes.map((c) => `  ${c.summary}`)].join('\n'));
    if (report.drifted) void vscode.window.showWarningMessage(message);
    else void vscode.window.showInformationMessage(message);
    return report;
  },
};

/**
 * Write Schema Snapshot: the live schema to schema.sql (migrations.schemaFile), opened beside, and
 * said: which file, how many tables. A file holding another database's snapshot is replaced only
 * when the user says so.
 */
export const writeSchema: CommandSpec = {
  id: 'migrations.writeSchema',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const engine = ctx.model.engine(target.folder);
    let dumped;
    try {
      dumped = await engine.schema({ write: true });
    } catch (err) {
      if (!(err instanceof SchemaOfAnotherDatabase) || automationOf(args)?.confirmed === false) throw err;
      await confirm(`${err.shown} is the schema snapshot of ${err.describes}. Replace it with the schema of ${err.database}?`, 'Replace', automationOf(args));
      dumped = await engine.schema({ write: true, replace: true });
    }
    const tables = `${dumped.model.tables.length} table${dumped.model.tables.length === 1 ? '' : 's'}`;
    const where = dumped.path ? vscode.workspace.asRelativePath(dumped.path, false) : undefined;
    const message = !where
      ? `Schema Snapshot: not written (migrations.schemaFile is "off"); ${dumped.database} has ${tables}.`
      : `Schema Snapshot: ${dumped.written ? 'wrote' : 'unchanged'} ${where} (${tables} of ${dumped.database}).`;
    ctx.log.info(message);
    void vscode.window.showInformationMessage(message);
    if (dumped.path) await vscode.window.showTextDocument(vscode.Uri.file(dumped.path), { preview: true, preserveFocus: true });
    return { ...dumped, message };
  },
};

/** Rehash: each source's migrations.sum rewritten from its files (after a merge, or an edit that is meant). */
export const rehash: CommandSpec = {
  id: 'migrations.rehash',
  async run(ctx, ...args) {
    const target = await targetOf(ctx, args[0]);
    const written = ctx.model.engine(target.folder).rehash(target.source);
    await ctx.model.refresh();
    void vscode.window.showInformationMessage(`Rehash: ${written.filter((w) => w.changed).length} of ${plural(written.length, 'migrations.sum file')} rewritten.`);
    return written;
  },
};

function describe(target: Target): string {
  if (target.version !== undefined) return `migration ${target.version}${target.source ? ` of ${target.source}` : ''}`;
  return target.source ? `the pending migrations of ${target.source}` : 'the pending migrations';
}

