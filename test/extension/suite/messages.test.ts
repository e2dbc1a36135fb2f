import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport, VerifyReport } from '../../../src/core';
// The code as compiled beside this suite: the same as the bundle's, in this host.
import { appliedAfter, lastApplied, rollbackQuestion, runMessage } from '../../../src/extension/commands/shared';
import { EDITOR_TERMS } from '../../../src/extension/terms';
import { MigrationsTree, type Node } from '../../../src/extension/tree';
import { plural } from '../../../src/extension/words';
import { api, folder, lastLogLines, modelShows, states, step, waitFor, workspacePath } from './helpers';

const file = (version: number, name: string, up: string, down: string) => `export class M${version} {
  readonly version = ${version};
  readonly description = '${name}';
  async up(knex: any) { ${up} }
  async down(knex: any) { ${down} }
}
export function getMigration() { return M${version}; }
`;

// Issue 20, item 4: confirmations and results name the migrations they act on (source, version,
// description), warn about a down() Verify found irreversible, and count in words.
suite('Messages name what they act on', () => {
  const leaves = workspacePath('versions', 'migration_060_leaves_a_table.ts');
  const fails = workspacePath('versions', 'migration_061_fails_on_purpose.ts');
  suiteTeardown(async () => {
    const { model } = await api();
    if (states(model).get(60)?.applied) await vscode.commands.executeCommand('migrations.rollbackLast', undefined, { confirmed: true });
    for (const f of [leaves, fails]) fs.rmSync(f, { force: true });
    await vscode.commands.executeCommand('migrations.rehash');
    await model.refresh();
    await waitFor('migration 60 gone from the model', () => !model.migrations().some((m) => m.state.version === 60));
  });

  test('a partial success names what it applied, what failed and the failure; the rollback names the migration and warns that Verify found its down() irreversible', async () => {
    const { model } = await api();
    // Everything else applied first: the run below is about these two alone.
    await step('Apply All Pending', vscode.commands.executeCommand('migrations.applyAll'), 60_000);
    fs.writeFileSync(leaves, file(60, 'Leaves a table', "await knex.schema.createTable('messages_left', (t: any) => t.increments('id'));", ''));
    fs.writeFileSync(fails, file(61, 'Fails on purpose', "throw new Error('refused on purpose');", ''));
    await vscode.commands.executeCommand('migrations.rehash');
    await modelShows(model, 'migrations 60 and 61', () => states(model).has(60) && states(model).has(61));
    const node = (version: number): Node => ({ kind: 'migration', folder: folder(), state: states(model).get(version)!, last: false });
    const verified = await step('Verify 060', vscode.commands.executeCommand<VerifyReport>('migrations.verify', node(60)), 60_000);
    assert.ok(verified, `Verify returned nothing; the log's last lines:\n${lastLogLines()}`);
    assert.equal(verified.migrations.find((m) => m.version === 60)?.outcome, 'irreversible');

    const report = await step('Apply All Pending', vscode.commands.executeCommand<RunReport>('migrations.applyAll'), 60_000);
    assert.deepEqual(report.steps.map((s) => `${s.version} ${s.outcome}`), ['60 done', '61 failed']);
    const result = runMessage('Apply all pending', report, EDITOR_TERMS);
    assert.equal(result.level, 'error');
    assert.match(result.text, /^Apply all pending: applied 060 Leaves a table \(versions\); failed: 061 Fails on purpose \(versions\)\. Migration 61 \(versions\) failed during up\(\): .*refused on purpose/);

    await modelShows(model, '060 applied', () => states(model).get(60)?.applied === true);
    const last = lastApplied({ model }, folder());
    assert.equal(last?.version, 60);
    const question = rollbackQuestion({ model }, folder(), [last!]);
    assert.equal(question, 'Roll back 060 Leaves a table (versions)? Its down() will run.\n\nWarning: its down() was found irreversible: down() leaves table messages_left. Applying it again may then fail.');

    assert.equal(rollbackQuestion({ model }, folder(), appliedAfter({ model }, folder(), 59, 'versions'), { to: 59, source: 'versions' }),
      'Roll back 060 Leaves a table (versions), every migration after 059? Its down() will run.\n\nWarning: its down() was found irreversible: down() leaves table messages_left. Applying it again may then fail.');

    // The tooltip's applied time is local and readable, not an ISO string.
    const tree = new MigrationsTree(model);
    try {
      const tooltip = (tree.getTreeItem(node(60)).tooltip as vscode.MarkdownString).value;
      assert.doesNotMatch(tooltip, /\d{4}-\d\d-\d\dT\d\d/);
      const shown = tooltip.replace(/\\(.)/g, '$1');
      assert.ok(shown.includes(`Applied ${new Date(states(model).get(60)!.appliedAt!).toLocaleString(vscode.env.language)} in`), shown);
    } finally {
      tree.dispose();
    }

    fs.rmSync(fails);
    await modelShows(model, '061 without its file', () => !states(model).get(61)?.path);
    const rolledBack = await step('Roll Back Last', vscode.commands.executeCommand<RunReport>('migrations.rollbackLast', undefined, { confirmed: true }), 60_000);
    assert.deepEqual(runMessage('Roll back last', rolledBack, EDITOR_TERMS), { level: 'info', text: 'Roll back last: rolled back 060 Leaves a table (versions).' });
  });

  test('counts are words: "1 migration", "3 migrations"; several migrations are listed by source', () => {
    assert.equal(plural(1, 'migration'), '1 migration');
    assert.equal(plural(3, 'migration'), '3 migrations');
    assert.equal(plural(2, 'index', 'indexes'), '2 indexes');
    const steps = [1, 2, 3].map((version) => ({ source: 'versions', version, description: `Step ${version}`, direction: 'up' as const, path: null, outcome: 'done' as const }));
    assert.equal(runMessage('Apply all pending', { ok: true, steps }, EDITOR_TERMS).text, 'Apply all pending: applied 3 migrations (versions: 001 Step 1, 002 Step 2, 003 Step 3).');
    assert.equal(runMessage('Apply all pending', { ok: true, steps: [] }, EDITOR_TERMS).text, 'Apply all pending: nothing to do.');
    // Out-of-order migrations an apply left pending are said too.
    assert.equal(runMessage('Apply all pending', { ok: true, steps: [], passedOver: [{ source: 'versions', version: 2, description: 'Step 2' }] }, EDITOR_TERMS).text, 'Apply all pending: left pending, out of order: 002 Step 2 (versions).');
  });
});
