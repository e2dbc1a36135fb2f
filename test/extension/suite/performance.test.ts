import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { api, metrics, waitFor, workspacePath } from './helpers';

const COUNT = 1000;
const SOURCE = 'perf/versions';

function migration(version: number, note = ''): string {
  return `import type { Knex } from 'knex';
${note}
export class CreateTable${version} {
  readonly version = ${version};
  readonly description = 'Create table t${version}';

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('t${version}', (t) => t.increments('id'));
  }

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('t${version}');
  }
}

export function getMigration() {
  return CreateTable${version};
}
`;
}

suite(`A workspace with ${COUNT} more migrations`, () => {
  const dir = workspacePath('perf', 'versions');
  const fileOf = (v: number) => path.join(dir, `migration_${String(v).padStart(4, '0')}_create_table_t${v}.ts`);
  const perf = async () => (await api()).model.migrations().filter((m) => m.state.source === SOURCE);

  suiteSetup(async function () {
    this.timeout(120_000);
    // The file watcher (parcel, inotify) starts watching a new folder only after it reports
    // it; a folder made inside it before then (mkdir -p) is never watched. So one level at a
    // time, each reported before the next, then a probe file to prove the watch.
    const reported = new Set<string>();
    const watcher = vscode.workspace.createFileSystemWatcher('**');
    watcher.onDidCreate((u) => reported.add(u.fsPath));
    watcher.onDidChange((u) => reported.add(u.fsPath));
    const probe = path.join(dir, 'probe.txt');
    try {
      for (const folder of [path.dirname(dir), dir]) {
        fs.mkdirSync(folder);
        await waitFor(`the file watcher to report ${folder}`, () => reported.has(folder));
      }
      await waitFor('the file watcher to report a file in perf/versions', () => {
        fs.writeFileSync(probe, String(Date.now()));
        return reported.has(probe);
      });
    } finally {
      watcher.dispose();
      fs.rmSync(probe, { force: true });
    }
    for (let v = 1; v <= COUNT; v++) fs.writeFileSync(fileOf(v), migration(v));
    await waitFor(`the model to list ${COUNT} migrations in ${SOURCE}`, async () => (await perf()).length === COUNT, 60_000);
  });

  suiteTeardown(() => fs.rmSync(workspacePath('perf'), { recursive: true, force: true }));

  test('editing one of them refreshes the model quickly (the other files come from the cache)', async () => {
    const { model } = await api();
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const full: number[] = [];
    for (let i = 0; i < 3; i++) {
      await model.refresh();
      full.push(model.lastRefreshMs);
    }
    metrics.refreshMs = round(median(full));
    const afterEdit: number[] = [];
    const editToModel: number[] = [];
    for (const version of [100, 300, 500, 700, 900]) {
      const before = (await perf()).find((m) => m.state.version === version)?.state.checksum;
      assert.ok(before, `migration ${version} has no checksum`);
      fs.writeFileSync(fileOf(version), migration(version, '// edited by the performance test'));
      const edited = performance.now();
      // The watcher reports the edit; the model re-reads that one file and refreshes.
      await waitFor(`the model to pick up the edit of migration ${version}`, async () => {
        const after = (await perf()).find((m) => m.state.version === version)?.state.checksum;
        return after !== undefined && after !== before;
      }, 30_000);
      editToModel.push(performance.now() - edited);
      afterEdit.push(model.lastRefreshMs);
    }
    metrics.refreshAfterEditMedianMs = round(median(afterEdit));
    metrics.refreshAfterEditMaxMs = round(Math.max(...afterEdit));
    metrics.editToModelMedianMs = round(median(editToModel));
    assert.equal((await perf()).length, COUNT);
    assert.ok((await perf()).every((m) => m.state.status === 'pending' && m.state.problems.length === 0), 'a generated migration is not pending');
    assert.ok(median(afterEdit) < 1000, `refreshes after one edit took ${afterEdit.map(round).join(', ')} ms with ${COUNT} more migrations`);
  });
});
