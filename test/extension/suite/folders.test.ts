import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteTeardown, test } from 'mocha';
import { api, waitFor, workspacePath } from './helpers';

const migration = (version: number) => `import type { Knex } from 'knex';
export class CreateTable${version} {
  readonly version = ${version};
  readonly description = 'Create table t${version}';
  async up(knex: Knex): Promise<void> { await knex.schema.createTable('t${version}', (t) => t.increments('id')); }
  async down(knex: Knex): Promise<void> { await knex.schema.dropTable('t${version}'); }
}
export function getMigration() { return CreateTable${version}; }
`;

suite('Folders that come and go whole', () => {
  const moved = workspacePath('moved');
  suiteTeardown(() => fs.rmSync(moved, { recursive: true, force: true }));

  test('a folder moved into the workspace with versions/ appears in the model, and leaves it when deleted', async () => {
    const { model } = await api();
    const inMoved = () => model.migrations().filter((m) => m.state.source === 'moved/versions').length;
    // Written outside the workspace, then moved in: the watcher reports the folder alone.
    const staging = path.join(workspacePath(), '..', 'moved-staging');
    fs.mkdirSync(path.join(staging, 'versions'), { recursive: true });
    for (let v = 1; v <= 3; v++) fs.writeFileSync(path.join(staging, 'versions', `migration_00${v}_create_table_t${v}.ts`), migration(v));
    fs.renameSync(staging, moved);
    await waitFor('the moved-in source to appear in the model', () => inMoved() === 3);
    // Deleted whole: again one event, for the folder.
    fs.rmSync(moved, { recursive: true });
    await waitFor('the deleted source to leave the model', () => inMoved() === 0);
  });

  test('a versions/ folder made after start-up: a file written into it later still appears', async () => {
    const { model } = await api();
    const dir = workspacePath('late', 'versions');
    const inLate = () => model.migrations().filter((m) => m.state.source === 'late/versions').length;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'migration_001_create_table_t1.ts'), migration(1));
      await waitFor('the new source with its first file', () => inLate() === 1);
      fs.writeFileSync(path.join(dir, 'migration_002_create_table_t2.ts'), migration(2));
      await waitFor('the second file, written later, without a manual refresh', () => inLate() === 2);
    } finally {
      fs.rmSync(workspacePath('late'), { recursive: true, force: true });
      await waitFor('the source gone', () => inLate() === 0);
    }
  });
});
