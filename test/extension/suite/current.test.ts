import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport, VerifyReport } from '../../../src/core';
import type { DatabaseChoice } from '../../../src/extension/commands/selectDatabase';
// The tree as compiled beside this suite: the same code as the bundle's, in this host.
import { MigrationsTree, type Node } from '../../../src/extension/tree';
import { api, folder, step, waitFor, workspacePath, migrationSource } from './helpers';

const file = migrationSource;
const creates = (table: string) => `await knex.schema.createTable('${table}', (t) => t.increments('id'));`;
const drops = (table: string) => `await knex.schema.dropTable('${table}');`;

const select = (choice: DatabaseChoice) => step(`Select Database ${JSON.stringify(choice)}`, vscode.commands.executeCommand<string>('migrations.selectDatabase', undefined, choice));

async function stateOf(version: number, source = 'versions') {
  const { model } = await api();
  return waitFor(`${source} ${version} in the model`, () => model.migrations().find((m) => m.state.source === source && m.state.version === version)?.state);
}

async function nodeOf(version: number, source = 'versions'): Promise<Node> {
  return { kind: 'migration', folder: folder(), state: await stateOf(version, source), last: false };
}

/** The row's description in the Migrations view ("pending · irreversible"), as drawn now. */
async function row(version: number, source = 'versions'): Promise<string> {
  const { model } = await api();
  const tree = new MigrationsTree(model);
  try {
    return String(tree.getTreeItem(await nodeOf(version, source)).description);
  } finally {
    tree.dispose();
  }
}

async function driftShown(): Promise<boolean> {
  const { model } = await api();
  const tree = new MigrationsTree(model);
  try {
    return (await tree.getChildren()).some((n) => n.kind === 'drift');
  } finally {
    tree.dispose();
  }
}

/** Files this file writes into the workspace, removed after each suite; migrations.sum put back as it was. */
function scratch() {
  const written: string[] = [];
  const sum = workspacePath('versions', 'migrations.sum');
  const sumBefore = fs.existsSync(sum) ? fs.readFileSync(sum, 'utf8') : undefined;
  const schema = workspacePath('schema.sql');
  const schemaBefore = fs.existsSync(schema) ? fs.readFileSync(schema, 'utf8') : undefined;
  return {
    write(rel: string[], text: string) {
      const p = workspacePath(...rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
      written.push(p);
      return p;
    },
    async cleanUp(dirs: string[] = []) {
      await select({ client: 'sqlite' });
      for (const p of written) fs.rmSync(p, { force: true });
      for (const d of dirs) fs.rmSync(workspacePath(d), { recursive: true, force: true });
      if (sumBefore === undefined) fs.rmSync(sum, { force: true });
      else fs.writeFileSync(sum, sumBefore);
      if (schemaBefore === undefined) fs.rmSync(schema, { force: true });
      else fs.writeFileSync(schema, schemaBefore);
      const { model } = await api();
      await model.refresh();
      await waitFor('the files of this suite gone from the model', () => !model.migrations().some((m) => m.state.version >= 70 || m.state.source === 'billing/versions'));
    },
  };
}

// A check result belongs to the file content, the database and the history it was computed for.
suite('Results stay current', () => {
  const files = scratch();
  const flag = workspacePath('db', 'current-073.go');
  suiteSetup(async () => {
    const { model } = await api();
    await select({ client: 'sqlite', database: 'db/current.sqlite3' });
    files.write(['versions', 'migration_070_breaks.ts'], file(70, 'Breaks', "throw new Error('070 is broken');", drops('t070')));
    files.write(['versions', 'migration_071_leaves_a_table.ts'], file(71, 'Leaves a table', `if (!(await knex.schema.hasTable('t071'))) ${creates('t071')}`, ''));
    // A migrations.sum left by another suite would refuse the new files.
    if (fs.existsSync(workspacePath('versions', 'migrations.sum'))) await vscode.commands.executeCommand('migrations.rehash');
    await waitFor('070 and 071 pending in the new database', () => model.migrations().filter((m) => m.state.version >= 70 && m.state.status === 'pending').length === 2);
  });
  suiteTeardown(async () => {
    await files.cleanUp();
    for (const f of ['current.sqlite3', 'current2.sqlite3', 'current-073.go']) fs.rmSync(workspacePath('db', f), { force: true });
  });

  test('a failed migration fixed: its row no longer reads "failed · failed"', async () => {
    const run = await step('Apply All', vscode.commands.executeCommand<RunReport>('migrations.applyAll'));
    assert.equal(run?.ok, false);
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.verify', await nodeOf(70));
    assert.deepEqual(report.migrations.map((m) => `${m.version} ${m.outcome}`), ['70 failed']);
    assert.equal(await row(70), 'failed · failed');
    files.write(['versions', 'migration_070_breaks.ts'], file(70, 'Breaks', creates('t070'), drops('t070')));
    await waitFor('the row without the old result', async () => (await row(70)) === 'failed' || undefined);
  });

  test('a rollback does not bring back "· irreversible"', async () => {
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.verify', await nodeOf(71));
    assert.deepEqual(report.migrations.map((m) => `${m.version} ${m.outcome}`), ['71 irreversible']);
    assert.equal(await row(71), 'pending · irreversible');
    const run = await step('Apply All', vscode.commands.executeCommand<RunReport>('migrations.applyAll'));
    assert.equal(run?.ok, true, run?.error);
    const back = await step('Roll Back Last', vscode.commands.executeCommand<RunReport>('migrations.rollbackLast', undefined, { confirmed: true }));
    assert.deepEqual(back?.steps.map((s) => `${s.direction} ${s.version} ${s.outcome}`), ['down 71 done']);
    assert.equal(await row(71), 'pending');
  });

  test('rows follow a run migration by migration, not only at its end', async () => {
    const { model } = await api();
    files.write(['versions', 'migration_072_quick.ts'], file(72, 'Quick', creates('t072'), drops('t072')));
    files.write(['versions', 'migration_073_waits.ts'], file(73, 'Waits', `while (!fs.existsSync(${JSON.stringify(flag)})) await new Promise((r) => setTimeout(r, 50)); ${creates('t073')}`, drops('t073'), "import * as fs from 'node:fs';"));
    await waitFor('072 and 073 in the model', () => model.migrations().filter((m) => m.state.version === 72 || m.state.version === 73).length === 2);
    let settled = false;
    const running = Promise.resolve(vscode.commands.executeCommand<RunReport>('migrations.applyAll')).finally(() => (settled = true));
    try {
      await waitFor('071 and 072 applied while 073 still runs', async () => {
        const rows = [await row(71), await row(72), await row(73)];
        if (rows.join() !== 'applied,applied,pending') throw new Error(`071, 072, 073: ${rows.join(', ')}`);
        return true;
      });
      assert.equal(settled, false, 'the run had already ended');
    } finally {
      fs.writeFileSync(flag, 'go');
    }
    const report = await step('the run to end', running);
    assert.equal(report?.ok, true, report?.error);
    assert.equal(await row(73), 'applied');
  });

  test('Mark Applied makes the drift stale; a database switched to another SQLite file shows none of the old one\'s', async () => {
    files.write(['versions', 'migration_074_marked.ts'], file(74, 'Marked', creates('t074'), drops('t074')));
    await stateOf(74);
    const db = new DatabaseSync(workspacePath('db', 'current.sqlite3'));
    db.exec('create table gift_notes (id integer)');
    db.close();
    const drift = async () => (await vscode.commands.executeCommand<{ drifted: boolean }>('migrations.checkDrift'))?.drifted;
    assert.equal(await drift(), true);
    assert.equal(await driftShown(), true);
    await vscode.commands.executeCommand('migrations.markApplied', await nodeOf(74), { confirmed: true });
    await waitFor('the drift gone after Mark Applied', async () => !(await driftShown()));
    assert.equal(await drift(), true);
    assert.equal(await driftShown(), true);
    await select({ client: 'sqlite', database: 'db/current2.sqlite3' });
    await waitFor('the old database\'s drift gone', async () => !(await driftShown()));
    await waitFor('the new database\'s statuses', async () => (await row(74)) === 'pending');
  });
});

// Verify, Lint and Preview act on what was asked; one source's failure hides nothing of the others.
suite('Two sources: checks act on what was asked', () => {
  const files = scratch();
  const open = async (version: number) => vscode.window.showTextDocument(vscode.Uri.file((await stateOf(version)).path!));
  suiteSetup(async () => {
    await select({ client: 'sqlite', database: 'db/scope.sqlite3' });
    files.write(['billing', 'versions', 'migration_001_invoices.ts'], file(1, 'Invoices', "throw new Error('billing is broken');", drops('invoices')));
    files.write(['billing', 'versions', 'migration_002_payments.ts'], file(2, 'Payments', creates('payments'), drops('payments')));
    files.write(['versions', 'migration_075_notes.ts'], file(75, 'Notes', creates('notes'), drops('notes')));
    if (fs.existsSync(workspacePath('versions', 'migrations.sum'))) await vscode.commands.executeCommand('migrations.rehash');
    await stateOf(2, 'billing/versions');
    await stateOf(75);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await files.cleanUp(['billing']);
    for (const f of ['scope.sqlite3', 'scope2.sqlite3']) fs.rmSync(workspacePath('db', f), { force: true });
  });

  test('Verify on a tree item reports that migration, not another source\'s failure', async () => {
    const report = await vscode.commands.executeCommand<VerifyReport & { message: string }>('migrations.verify', await nodeOf(75));
    assert.deepEqual(report.migrations.map((m) => `${m.source} ${m.version} ${m.outcome}`), ['versions 75 reversible']);
    assert.equal(report.message, 'Verify on a SQLite database in memory: 1 reversible in 1 migration.');
  });

  test('Lint of everything: the failing source is counted as not linted, the other source is linted', async () => {
    const report = await vscode.commands.executeCommand<VerifyReport & { message: string }>('migrations.lint');
    const outcomes = report.migrations.map((m) => `${m.source} ${m.version} ${m.outcome}`);
    assert.ok(outcomes.includes('billing/versions 1 failed') && outcomes.includes('billing/versions 2 not-run') && outcomes.includes('versions 75 checked'), outcomes.join());
    const linted = outcomes.filter((o) => o.endsWith('checked')).length;
    assert.match(report.message, new RegExp(`^Lint on a SQLite database in memory: \\d+ errors?, \\d+ warnings? in ${linted} migrations; 2 not linted \\(1 failed on the shadow, 1 after a failed migration of the same source\\)\\. billing/versions 1 Invoices: up\\(\\) failed on the shadow: .*billing is broken`));
  });

  test('Verify and Preview SQL from the palette act on the migration open in the editor', async () => {
    await open(75);
    const report = await vscode.commands.executeCommand<VerifyReport>('migrations.verify');
    assert.deepEqual(report.migrations.map((m) => `${m.source} ${m.version} ${m.outcome}`), ['versions 75 reversible']);
    await open(75);
    await vscode.commands.executeCommand('migrations.previewSql');
    const text = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(text, /-- up versions 75: Notes\ncreate table `notes`/);
    assert.doesNotMatch(text, /billing/);
  });

  test('Preview SQL of everything shows the sources that can be previewed and names the one that cannot', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('migrations.previewSql');
    const text = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(text, /-- up versions 75: Notes/);
    assert.match(text, /-- Not previewed: billing\/versions: .*billing is broken/);
  });

  test('Write Schema Snapshot says what it wrote where: the workspace root\'s schema.sql, not the first source\'s folder', async () => {
    const result = await vscode.commands.executeCommand<{ message: string; path: string }>('migrations.writeSchema');
    assert.equal(result.path, workspacePath('schema.sql'));
    assert.equal(fs.existsSync(workspacePath('billing', 'schema.sql')), false);
    assert.match(result.message, /^Schema Snapshot: (wrote|unchanged) schema\.sql \(0 tables of sqlite db\/scope\.sqlite3\)\.$/);
    assert.match(fs.readFileSync(result.path, 'utf8'), /^-- Database: sqlite db\/scope\.sqlite3$/m);
  });

  test('after switching databases the other database\'s snapshot is replaced only when confirmed', async () => {
    const snapshot = workspacePath('schema.sql');
    const before = fs.readFileSync(snapshot, 'utf8');
    await select({ client: 'sqlite', database: 'db/scope2.sqlite3' });
    const { model } = await api();
    await waitFor('the new database', () => model.engine(folder()).databaseLabel.endsWith('scope2.sqlite3'));
    assert.equal(await vscode.commands.executeCommand('migrations.writeSchema', undefined, { confirmed: false }), undefined, 'refused');
    assert.equal(fs.readFileSync(snapshot, 'utf8'), before);
    const replaced = await vscode.commands.executeCommand<{ message: string }>('migrations.writeSchema', undefined, { confirmed: true });
    assert.match(replaced.message, /^Schema Snapshot: wrote schema\.sql \(0 tables of sqlite db\/scope2\.sqlite3\)\.$/);
    assert.match(fs.readFileSync(snapshot, 'utf8'), /^-- Database: sqlite db\/scope2\.sqlite3$/m);
  });
});
