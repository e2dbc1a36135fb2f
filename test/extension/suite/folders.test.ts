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
});
