import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { GenerateReport, RunReport } from '../../../src/core';
import { api, lastLogLines, metrics, waitFor, workspacePath } from './helpers';

// Issue 22 item 5: a declared schema in a project config of its own (one folder source, gen/versions,
// its own database), generated from in the editor: the CodeLens count, the rename question answered
// in the real quick pick, the drops refused then confirmed, the drift turned into a migration.
const CONFIG = `export default {
  database: { client: 'sqlite', connection: { filename: '.migrations/generate.sqlite' } },
  sources: [{ id: 'app', dir: 'gen/versions', schema: 'gen/schema.ts' }],
};
`;

const USERS = `import type { Knex } from 'knex';
export class Users {
  readonly version = 1;
  readonly description = 'Users';
  async up(knex: Knex) { await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email', 255).notNullable(); t.string('nick', 40); }); }
  async down(knex: Knex) { await knex.schema.dropTable('users'); }
}
export function getMigration() { return Users; }
`;

const schema = (columns: string) => `import { defineSchema, increments, string, integer, text } from 'migration-manager';

export default defineSchema({
  tables: { users: { columns: { id: increments(), email: string(255).notNullable(), ${columns} } } },
});
`;

const lensTitles = async (uri: vscode.Uri) => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? []).map((l) => l.command?.title ?? '');

/** Waits until the schema file's CodeLens says `title` (the count is the engine's, on a shadow: it takes a moment). */
async function lensSays(uri: vscode.Uri, title: string): Promise<void> {
  let seen: string[] = [];
  await waitFor(`the schema CodeLens to say "${title}"`, async () => {
    seen = await lensTitles(uri);
    return seen.includes(title) || undefined;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}; it says ${JSON.stringify(seen)}\n${lastLogLines()}`);
  });
}

/**
 * Runs a command that shows quick picks, accepting the item each one has selected (the first) as a
 * user pressing Enter does, until the command ends; how many were accepted is not known here, so the
 * result (the file written) says what was answered.
 */
async function acceptingQuickPicks<T>(running: Thenable<T>): Promise<T> {
  let settled = false;
  const done = Promise.resolve(running).finally(() => (settled = true));
  const deadline = Date.now() + 90_000;
  while (!settled && Date.now() < deadline) {
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await Promise.race([done.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 150))]);
  }
  if (!settled) throw new Error(`the command did not end within 90 s of answering its quick picks\n${lastLogLines()}`);
  return done;
}

function tabsNow(): { diff?: vscode.ViewColumn; file: (p: string) => vscode.ViewColumn | undefined; diffSides?: [vscode.Uri, vscode.Uri] } {
  const groups = vscode.window.tabGroups.all;
  const diffTab = groups.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.original.scheme === 'migrations-sql');
  const input = diffTab?.input as vscode.TabInputTextDiff | undefined;
  return {
    diff: diffTab?.group.viewColumn,
    diffSides: input && [input.original, input.modified],
    file: (p) => groups.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath === p)?.group.viewColumn,
  };
}

suite('Generate Migration from Schema', () => {
  const config = workspacePath('migrations.config.ts');
  const schemaFile = workspacePath('gen', 'schema.ts');
  const db = workspacePath('.migrations', 'generate.sqlite');
  const schemaUri = vscode.Uri.file(schemaFile);

  suiteSetup(async () => {
    const { model } = await api();
    fs.mkdirSync(workspacePath('gen', 'versions'), { recursive: true });
    fs.writeFileSync(workspacePath('gen', 'versions', 'migration_001_users.ts'), USERS);
    fs.writeFileSync(schemaFile, schema("nickname: string(40), bio: text(), score: integer().notNullable().defaultTo(0)"));
    fs.writeFileSync(config, CONFIG);
    await waitFor('the config\'s source app in the model', () => model.states[0]?.report?.sources.map((s) => s.id).join() === 'app' && model.project(model.states[0].folder)?.folders[0]?.schema === schemaFile);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const p of [config, workspacePath('gen'), db]) fs.rmSync(p, { recursive: true, force: true });
    const { model } = await api();
    await waitFor('the sample source back', () => model.states[0]?.report?.sources.map((s) => s.id).join() === 'versions');
  });

  test('the CodeLens counts the changes; the rename is answered in the quick pick; the file opens beside the schema diff, its lint findings already diagnostics; the count is then none', async () => {
    await vscode.window.showTextDocument(schemaUri);
    // nick gone, nickname, bio and score new: four, until the rename is answered.
    let started = performance.now();
    await lensSays(schemaUri, '4 changes not in migrations — Generate Migration');
    metrics.schemaLensFirstCountMs = Math.round(performance.now() - started);
    started = performance.now();
    const report = await acceptingQuickPicks(vscode.commands.executeCommand<GenerateReport>('migrations.generate', schemaUri, { description: 'profile' }));
    metrics.generateWithQuestionMs = Math.round(performance.now() - started);
    console.log(`schema CodeLens first count ${metrics.schemaLensFirstCountMs} ms; Generate Migration with one rename question ${metrics.generateWithQuestionMs} ms`);
    assert.ok(report?.created, `nothing generated: ${JSON.stringify(report)}\n${lastLogLines()}`);
    const created = report.created.path;
    assert.match(created, /gen[/\\]versions[/\\]migration_002_profile\.ts$/);
    // Answered "renamed" (the pick's first item): the data is kept.
    const text = fs.readFileSync(created, 'utf8');
    assert.match(text, /renameColumn\('nick', 'nickname'\)/);
    assert.doesNotMatch(text, /dropColumn\('nick'\)/);
    assert.equal(report.verify?.outcome, 'reversible');
    // Lint's finding on the rename is a diagnostic as soon as the command returns, not after a Lint.
    const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(created)).filter((d) => d.source === 'migrations lint');
    assert.deepEqual(diagnostics.map((d) => d.code), ['rename-column']);
    // The new file beside the diff of the schema before and after it, and focused.
    const tabs = tabsNow();
    assert.ok(tabs.diff !== undefined && tabs.diffSides, 'no schema diff open');
    assert.equal(tabs.file(created), tabs.diff + 1, `the new file is not beside the diff (diff in ${tabs.diff}, file in ${tabs.file(created)})`);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, created);
    const [before, after] = await Promise.all(tabs.diffSides.map(async (u) => (await vscode.workspace.openTextDocument(u)).getText()));
    assert.match(before, /^ {2}nick varchar\(40\),$/m);
    assert.doesNotMatch(before, /score/);
    assert.match(after, /^ {2}nickname varchar\(40\),$/m);
    assert.match(after, /^ {2}score integer NOT NULL DEFAULT '?0'?,?$/m);
    await lensSays(schemaUri, 'The schema matches the migrations of app');
  });

  test('a drop is refused, then written once confirmed ("Generate with Drops"); a drift becomes a migration recorded as applied', async () => {
    const { model } = await api();
    const applied = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.equal(applied?.ok, true, JSON.stringify(applied));
    // By hand in the database: Generate from Database Drift makes it a migration, already applied here.
    const live = new DatabaseSync(db);
    try {
      live.exec('alter table users add column city varchar(80)');
    } finally {
      live.close();
    }
    const drift = await vscode.commands.executeCommand<GenerateReport>('migrations.generateFromDatabase', { description: 'city by hand' });
    assert.ok(drift?.created, `nothing generated from the drift: ${JSON.stringify(drift)}\n${lastLogLines()}`);
    assert.equal(drift.recorded, true);
    assert.deepEqual(drift.changes, ['added column users.city']);
    await waitFor('003 applied in the tree', () => model.migrations().find((m) => m.state.source === 'app' && m.state.version === 3)?.state.status === 'applied');
    // The schema does not declare city: its migrations now add a column it does not have.
    await lensSays(schemaUri, '1 change not in migrations — Generate Migration');
    const files = () => fs.readdirSync(workspacePath('gen', 'versions')).sort();
    const written = files();
    // Not confirmed: refused, nothing written.
    assert.equal(await vscode.commands.executeCommand('migrations.generate', schemaUri, { description: 'drop city', confirmed: false }), undefined);
    assert.deepEqual(files(), written);
    const dropped = await vscode.commands.executeCommand<GenerateReport>('migrations.generate', schemaUri, { description: 'drop city', confirmed: true });
    assert.ok(dropped?.created, `the drop was not written: ${JSON.stringify(dropped)}\n${lastLogLines()}`);
    assert.match(fs.readFileSync(dropped.created.path, 'utf8'), /dropColumn\('city'\)/);
    await lensSays(schemaUri, 'The schema matches the migrations of app');
  });

  test('Show Migration Docs: the engine\'s Markdown (each migration, its status and schema effect, the ER diagram) in a Markdown preview', async () => {
    const shown = await vscode.commands.executeCommand<{ text: string; uri: vscode.Uri }>('migrations.showDocs');
    assert.ok(shown?.text, `no docs: ${JSON.stringify(shown)}\n${lastLogLines()}`);
    assert.match(shown.text, /^\| 2 \| profile \| applied \| .* \| .*added column users\.nickname.* \|$/m);
    assert.match(shown.text, /^\| 4 \| drop city \| pending \| {2}\| removed column users\.city \|$/m);
    assert.match(shown.text, /```mermaid\nerDiagram\n/);
    // The preview shows the read-only document the command filled (a webview of the Markdown extension).
    assert.equal((await vscode.workspace.openTextDocument(shown.uri)).getText(), shown.text);
    await waitFor('a Markdown preview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType) && /migration docs/.test(t.label)));
  });
});
