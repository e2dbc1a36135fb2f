import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { Created, HistoryRow, MigrationState, Problem, RunReport } from '../../../src/core';
// The module as compiled beside this suite: the same code as the bundle's, in this host.
import { automationOf } from '../../../src/extension/commands/shared';
import { EDITOR_TERMS } from '../../../src/extension/terms';
import { render } from '../../../src/core';
import { api, columns, dbFile, folder, lastLogLines, modelShows, states, statuses, tables, waitFor, workspacePath } from './helpers';

async function history(): Promise<HistoryRow[]> {
  const { model } = await api();
  return model.engine(folder()).history();
}

/** Migration 5's file: class `name` whose up() runs these lines, with an empty down(). */
function migration5(name: string, description: string, up: readonly string[]): string {
  return `import type { Knex } from 'knex';

export class ${name} {
  readonly version = 5;
  readonly description = '${description}';

  async up(knex: Knex): Promise<void> {
${up.map((line) => `    ${line}`).join('\n')}
  }

  async down(): Promise<void> {}
}

export function getMigration() {
  return ${name};
}
`;
}

const summary = (rows: readonly HistoryRow[]) => rows.map((r) => `${r.direction} ${r.version} ${r.success ? 'ok' : 'failed'}`);

suite('Running migrations from the commands', () => {
  const failing = workspacePath('versions', 'migration_005_explode.ts');

  // Removed outside the editor, so migrations.sum is updated as the user would (a sum listing a gone file blocks runs).
  suiteTeardown(async () => {
    fs.rmSync(failing, { force: true });
    await vscode.commands.executeCommand('migrations.rehash');
  });

  test('Apply All Pending applies the sample: model, database and history agree', async () => {
    const { model } = await api();
    const report = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.ok(report, 'the command returned no report (it failed: see the Migrations log)');
    assert.equal(report.ok, true, report.error);
    assert.deepEqual(report.steps.map((s) => `${s.direction} ${s.version} ${s.outcome}`), ['up 1 done', 'up 2 done', 'up 3 done']);
    assert.deepEqual(statuses(model), { 1: 'applied', 2: 'applied', 3: 'applied' });
    for (const s of states(model).values()) assert.ok(s.appliedAt, `no applied time on ${s.version}`);
    // Once run, the description is the one the migration declares (kept in the history).
    assert.deepEqual([...states(model).values()].map((s) => s.description), ['Create chat_users and chat_messages', 'Add is_spammer flag to chat_users', 'Add JSON metadata to chat_users']);
    assert.deepEqual((await tables(dbFile())).filter((t) => t.startsWith('chat_')), ['chat_messages', 'chat_users']);
    assert.deepEqual(await columns(dbFile(), 'chat_users'), ['id', 'telegram_id', 'username', 'created_at', 'is_spammer', 'metadata']);
    assert.deepEqual(summary(await history()), ['up 1 ok', 'up 2 ok', 'up 3 ok']);
  });

  test('an applied file edited afterwards shows as modified, with a warning on the file', async () => {
    const { model } = await api();
    const file = workspacePath('versions', 'migration_003_add_metadata_to_chat_users.ts');
    const original = fs.readFileSync(file, 'utf8');
    const uri = vscode.Uri.file(file);
    const modifiedWarnings = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'migrations' && d.code === 'modified');
    fs.writeFileSync(file, original + '\n// edited after it ran\n');
    try {
      await modelShows(model, '003 modified', () => states(model).get(3)?.status === 'modified');
      await waitFor('a "modified" warning on the file', () => modifiedWarnings().length === 1);
      assert.equal(modifiedWarnings()[0].severity, vscode.DiagnosticSeverity.Warning);
    } finally {
      fs.writeFileSync(file, original);
    }
    await modelShows(model, '003 applied again', () => states(model).get(3)?.status === 'applied');
    await waitFor('the warning to go away', () => modifiedWarnings().length === 0);
  });

  test('Create Migration writes migration_004_add_index.ts from the template, opens it and lists it', async () => {
    const { model } = await api();
    const created = await vscode.commands.executeCommand<Created>('migrations.create', undefined, { description: 'add index' });
    const expected = workspacePath('versions', 'migration_004_add_index.ts');
    assert.ok(created, 'the command returned nothing (it failed: see the Migrations log)');
    assert.equal(created.path, expected);
    assert.equal(created.version, 4);
    const text = fs.readFileSync(expected, 'utf8');
    assert.match(text, /^export class \w+ \{$/m);
    assert.match(text, /readonly version = 4;/);
    assert.match(text, /readonly description = 'add index';/);
    assert.match(text, /export function getMigration\(\) \{\n\s+return \w+;\n\}/);
    assert.doesNotMatch(text, /\{\{\w+\}\}/, 'a template placeholder was left in the file');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, expected, 'the new file is not the active editor');
    const state = states(model).get(4);
    assert.ok(state, `004 is not in the model: ${JSON.stringify(statuses(model))}`);
    assert.equal(state.status, 'pending');
    assert.equal(state.description, 'add index');
    assert.deepEqual(state.problems, []);
    // Validate loads the file (trusted workspace): the template must pass every check.
    const problems = await vscode.commands.executeCommand<Problem[]>('migrations.validate');
    assert.ok(problems, `Validate returned nothing (it failed); the log's last lines:\n${lastLogLines()}`);
    assert.deepEqual(problems.filter((p) => p.file === expected), []);
  });

  test('Apply All then Roll Back Last: only the newest is rolled back', async () => {
    const { model } = await api();
    const applied = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.deepEqual(applied?.steps.map((s) => `${s.direction} ${s.version} ${s.outcome}`), ['up 4 done']);
    assert.equal(states(model).get(4)?.status, 'applied');
    const rolledBack = await vscode.commands.executeCommand<RunReport>('migrations.rollbackLast', undefined, { confirmed: true });
    assert.equal(rolledBack?.ok, true, rolledBack?.error);
    assert.deepEqual(rolledBack.steps.map((s) => `${s.direction} ${s.version} ${s.outcome}`), ['down 4 done']);
    assert.deepEqual(statuses(model), { 1: 'applied', 2: 'applied', 3: 'applied', 4: 'pending' });
    assert.deepEqual(summary(await history()).slice(-2), ['up 4 ok', 'down 4 ok']);
  });

  test('Roll Back To 1 runs down() of 3 and 2: the schema, history and model follow', async () => {
    const { model } = await api();
    const report = await vscode.commands.executeCommand<RunReport>('migrations.rollbackTo', undefined, { version: 1, confirmed: true });
    assert.equal(report?.ok, true, report?.error);
    assert.deepEqual(report.steps.map((s) => `${s.direction} ${s.version}`), ['down 3', 'down 2']);
    assert.deepEqual(statuses(model), { 1: 'applied', 2: 'pending', 3: 'pending', 4: 'pending' });
    assert.deepEqual(await columns(dbFile(), 'chat_users'), ['id', 'telegram_id', 'username', 'created_at']);
    assert.deepEqual(summary(await history()).slice(-2), ['down 3 ok', 'down 2 ok']);
  });

  test('a migration whose up() throws shows as failed, with its error, and the ones before it apply', async () => {
    const { model } = await api();
    await writeBehindItsBack(failing, migration5('Explode', 'Explode on purpose', [
      "await knex.schema.createTable('half_done', (t) => t.increments('id'));",
      "throw new Error('explode: intentional failure in up()');",
    ]));
    // The file watcher, not a manual refresh, brings it into the model.
    await modelShows(model, '005 pending', () => states(model).get(5)?.status === 'pending');
    const report = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.equal(report?.ok, false, 'a run with a throwing migration reported ok');
    assert.deepEqual(report.steps.map((s) => `${s.version} ${s.outcome}`), ['2 done', '3 done', '4 done', '5 failed']);
    const failed: MigrationState | undefined = states(model).get(5);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.lastError ?? '', /explode: intentional failure in up\(\)/);
    assert.deepEqual(statuses(model), { 1: 'applied', 2: 'applied', 3: 'applied', 4: 'applied', 5: 'failed' });
    // Its transaction rolled back: the table it created first is gone.
    assert.equal((await tables(dbFile())).includes('half_done'), false);
    const last = (await history()).at(-1);
    assert.equal(last?.version, 5);
    assert.equal(last?.success, false);
    assert.match(last?.error ?? '', /explode: intentional failure/);
  });

  test('without a transaction the same failure is failed-partial; Mark Applied and Forget record the repair', async () => {
    const { model } = await api();
    const before = states(model).get(5)?.checksum;
    await writeBehindItsBack(failing, fs.readFileSync(failing, 'utf8').replace("readonly description = 'Explode on purpose';", "$&\n  readonly transaction = false;"));
    await modelShows(model, '005 edited', () => states(model).get(5)?.checksum !== before);
    const report = await vscode.commands.executeCommand<RunReport>('migrations.applyAll');
    assert.equal(report?.ok, false, 'a run with a throwing migration reported ok');
    assert.match(report.error ?? '', /not rolled back/i);
    // The engine's advice is data; the editor says it with its own commands, never the CLI's flags.
    const shown = render(report.errorText ?? [], EDITOR_TERMS);
    assert.match(shown, /finish what up\(\) does and use "Mark Applied" on migration 5 \(versions\) in the Migrations view, or undo what ran and use "Forget" on migration 5/);
    assert.doesNotMatch(shown, /--source|migrations mark-applied/);
    assert.equal(states(model).get(5)?.status, 'failed-partial');
    assert.equal((await tables(dbFile())).includes('half_done'), true, 'the table created before the failure should still be there');
    assert.equal((await history()).at(-1)?.partial, true);

    const target = vscode.Uri.file(failing);
    const marked = await vscode.commands.executeCommand<{ status: string; recorded: boolean }>('migrations.markApplied', target, { confirmed: true });
    assert.deepEqual(marked && { status: marked.status, recorded: marked.recorded }, { status: 'applied', recorded: true });
    assert.equal(states(model).get(5)?.status, 'applied');
    const forgotten = await vscode.commands.executeCommand<{ status: string }>('migrations.forget', target, { confirmed: true });
    assert.equal(forgotten?.status, 'pending');
    assert.equal(states(model).get(5)?.status, 'pending');
    assert.deepEqual((await history()).slice(-2).map((r) => `${r.direction} ${r.success ? 'ok' : 'failed'} ${r.manual ? 'by hand' : 'run'}`), ['up ok by hand', 'down ok by hand']);
  });

  test('an up() stuck in a synchronous loop runs in a child process: the editor stays responsive, migrationTimeoutMs ends it, nothing half-applied', async () => {
    const { model } = await api();
    const config = vscode.workspace.getConfiguration('migrations', folder().uri);
    await config.update('migrationTimeoutMs', 1000, vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      await writeBehindItsBack(failing, migration5('Spin', 'Spin forever', [
        "await knex.schema.createTable('spin_table', (t) => t.increments('id'));",
        'for (;;) {}',
      ]));
      await modelShows(model, '005 spins', () => states(model).get(5)?.description === 'Spin forever');
      const started = Date.now();
      const running = vscode.commands.executeCommand<RunReport>('migrations.applyAll');
      // While the child spins, the extension host answers: a timer fires on time and a command completes.
      await waitFor('the run to start', async () => (await model.engine(folder()).lockHolder()) !== undefined, 10_000);
      const tick = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(Date.now() - tick < 600, `a 200 ms timer took ${Date.now() - tick} ms: the extension host is blocked`);
      await vscode.commands.executeCommand('migrations.refresh');
      const report = await running;
      assert.ok(Date.now() - started >= 1000, 'stopped before migrationTimeoutMs');
      assert.equal(report?.ok, false);
      assert.match(report.error ?? '', /^Migration 5 \(versions\) failed during up\(\): it did not finish within 1000 ms .*and was stopped\. Its changes were rolled back/);
      assert.equal(states(model).get(5)?.status, 'failed');
      assert.equal((await tables(dbFile())).includes('spin_table'), false, 'the table created before the loop was rolled back');
      assert.deepEqual(summary((await history()).slice(-1)), ['up 5 failed']);
      assert.equal(await model.engine(folder()).lockHolder(), undefined, 'the lock was left held');
    } finally {
      await config.update('migrationTimeoutMs', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
  });
});

suite('Command arguments', () => {
  test('tree items, Uris and a selection pass; options must have their declared shape or the command says which it does not take', () => {
    assert.deepEqual(automationOf([vscode.Uri.file(workspacePath('versions')), [vscode.Uri.file('/x')], { confirmed: true, version: 2 }]), { confirmed: true, version: 2 });
    assert.equal(automationOf([vscode.Uri.file('/x'), [1, 2]]), undefined);
    assert.throws(() => automationOf([{ versoin: 2 }]), /given versoin: 2, which it does not take; its options are confirmed \(a boolean\)/);
    assert.throws(() => automationOf([{ version: 1.5 }]), /version: 1\.5/);
    assert.throws(() => automationOf([{ confirmed: 'yes' }]), /confirmed: "yes"/);
  });
});

suite('A moved versions folder', () => {
  const root = workspacePath('moved');
  suiteTeardown(() => fs.rmSync(root, { recursive: true, force: true }));

  test('shows as a rename on the new folder, and "Move Its Old History Here" takes the history over without running anything', async () => {
    const { model } = await api();
    const oldDir = path.join(root, 'old', 'versions');
    fs.mkdirSync(oldDir, { recursive: true });
    fs.writeFileSync(path.join(oldDir, 'migration_001_moved_table.ts'), `import type { Knex } from 'knex';
export class M1 { readonly version = 1; readonly description = 'moved table';
  async up(knex: Knex) { await knex.schema.createTable('moved_table', (t) => t.increments('id')); }
  async down(knex: Knex) { await knex.schema.dropTable('moved_table'); } }
export function getMigration() { return M1; }
`);
    const source = (id: string) => model.states[0].report?.sources.find((s) => s.id === id);
    await modelShows(model, 'the moved/old/versions source', () => source('moved/old/versions') !== undefined);
    assert.equal((await model.engine(folder()).up({ source: 'moved/old/versions' })).ok, true);
    fs.mkdirSync(path.join(root, 'new'));
    fs.renameSync(oldDir, path.join(root, 'new', 'versions'));
    await model.refresh();
    await modelShows(model, 'moved/new/versions offered as the moved folder', () => source('moved/new/versions')?.movedFrom === 'moved/old/versions');
    assert.equal(source('moved/new/versions')?.migrations[0].status, 'pending');

    const node = { kind: 'source', folder: folder(), id: 'moved/new/versions', dir: path.join(root, 'new', 'versions') };
    const moved = await vscode.commands.executeCommand<{ versions: number[] }>('migrations.renameSource', node, { confirmed: true });
    assert.deepEqual(moved?.versions, [1]);
    assert.equal(source('moved/new/versions')?.migrations[0].status, 'applied');
    assert.equal(source('moved/new/versions')?.movedFrom, undefined);
    assert.ok((await tables(dbFile())).includes('moved_table'));
    // Undone for the suites after this one: the table dropped and the history forgotten.
    assert.equal((await model.engine(folder()).down({ source: 'moved/new/versions' })).ok, true);
  });
});

/**
 * Writes a migration file outside the editor, then updates migrations.sum as the user's quick fix
 * ("Update migrations.sum", or Rehash) would: a file the sum does not know blocks every run.
 */
async function writeBehindItsBack(file: string, text: string): Promise<void> {
  fs.writeFileSync(file, text);
  await vscode.commands.executeCommand('migrations.rehash');
}
