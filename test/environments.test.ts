// Tagged and conditional migrations: a run for an environment (or for tags) records the others
// as skipped, a status of their own, never as applied; their environment's run applies them later.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { createMigrator } from '../src/lib';
import { cli, DEFAULT_DB, inspect, tempWorkspace, tsMigration, userTables } from './helpers';

const closing: { close(): Promise<void> }[] = [];
after(() => Promise.all(closing.map((c) => c.close())));

/** Migration `version` creating t<version>, with a line declaring environments or tags added to its class. */
const declaring = (version: number, line: string) => tsMigration(version, `t${version}`).replace(/(readonly version = \d+;)/, `$1\n  ${line}`);

function workspace(): string {
  return tempWorkspace({
    'versions/migration_001_t1.ts': tsMigration(1, 't1'),
    'versions/migration_002_t2.ts': declaring(2, "readonly environments = ['production'];"),
    'versions/migration_003_t3.ts': declaring(3, "readonly tags: string[] = ['seed'];"),
    'versions/migration_004_t4.ts': tsMigration(4, 't4'),
  });
}

const statuses = (ws: string, ...args: string[]) => {
  const r = cli(['status', '--json', ...args], { cwd: ws });
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries((JSON.parse(r.stdout).sources[0].migrations as { version: number; status: string }[]).map((m) => [m.version, m.status]));
};
const skippedRows = (ws: string) => inspect(DEFAULT_DB(ws), async (db) =>
  (await db('migration_history').where({ skipped: true }).select('version').orderBy('id')).map((r) => Number(r.version)));

test('status shows a migration for another environment as skipped, known without running it', () => {
  const ws = workspace();
  assert.equal(declaring(2, 'x').includes('readonly version = 2;\n  x'), true, 'the helper adds the line to the class');
  assert.deepEqual(statuses(ws), { 1: 'pending', 2: 'skipped', 3: 'pending', 4: 'pending' });
  assert.deepEqual(statuses(ws, '--env', 'production'), { 1: 'pending', 2: 'pending', 3: 'pending', 4: 'pending' });
});

test('up records the other environment\'s migration as skipped, never applied; its environment\'s run applies it later, in place', async () => {
  const ws = workspace();
  const r = cli(['up'], { cwd: ws });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /skip up\s+versions 002/);
  assert.match(r.stdout, /3 migration\(s\) done, 1 skipped/);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't3', 't4']);
  assert.deepEqual(await skippedRows(ws), [2]);
  assert.deepEqual(statuses(ws), { 1: 'applied', 2: 'skipped', 3: 'applied', 4: 'applied' });
  // Nothing left to do, and passing over it again writes nothing.
  assert.match(cli(['up'], { cwd: ws }).stdout, /Nothing to apply/);
  assert.deepEqual(await skippedRows(ws), [2]);
  const history = cli(['history'], { cwd: ws }).stdout;
  assert.match(history, /versions\s+2\s+up\s+0\s+skipped/);
  // Production: it is pending there (not out of order: it was passed over on purpose) and runs.
  assert.deepEqual(statuses(ws, '--env', 'production')[2], 'pending');
  const prod = cli(['up', '--env', 'production', '--json'], { cwd: ws });
  assert.equal(prod.code, 0, prod.stderr);
  assert.deepEqual(JSON.parse(prod.stdout).steps.map((s: { version: number; outcome: string }) => `${s.version} ${s.outcome}`), ['2 done']);
  assert.deepEqual(statuses(ws), { 1: 'applied', 2: 'applied', 3: 'applied', 4: 'applied' });
});

test('up --tag works as Liquibase contexts: untagged migrations always run, the tag selects tagged ones in addition', async () => {
  const ws = workspace();
  const tagged = cli(['up', '--tag', 'demo', '--json'], { cwd: ws });
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.deepEqual(JSON.parse(tagged.stdout).steps.map((s: { version: number; outcome: string }) => `${s.version} ${s.outcome}`), ['1 done', '2 skipped', '3 skipped', '4 done']);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't4']);
  assert.deepEqual(statuses(ws), { 1: 'applied', 2: 'skipped', 3: 'pending', 4: 'applied' });
  // A later run without tags runs the tagged one passed over (it is not out of order: it was passed over on purpose).
  const rest = cli(['up', '--json'], { cwd: ws });
  assert.deepEqual(JSON.parse(rest.stdout).steps.map((s: { version: number; outcome: string }) => `${s.version} ${s.outcome}`), ['3 done']);
  assert.deepEqual(await skippedRows(ws), [2, 3], 'one skip row per migration passed over, none twice');
  // Rolling everything back passes the never-applied one by.
  const down = cli(['down', '--all', '--json'], { cwd: ws });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(JSON.parse(down.stdout).steps.map((s: { version: number }) => s.version), [4, 3, 1]);
});

test('up --tag seed on a fresh database runs the untagged base, then the seed that needs it, in order', async () => {
  const ws = tempWorkspace({
    'versions/migration_001_users.ts': tsMigration(1, 'users'),
    'versions/migration_002_seed_users.ts': tsMigration(2, 'seed', { up: "await knex('users').insert({ id: 7 });", down: "await knex('users').where({ id: 7 }).delete();" })
      .replace(/(readonly version = 2;)/, "$1\n  readonly tags = ['seed'];"),
  });
  const r = cli(['up', '--tag', 'seed', '--json'], { cwd: ws });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).steps.map((s: { version: number; outcome: string }) => `${s.version} ${s.outcome}`), ['1 done', '2 done']);
  assert.deepEqual(await inspect(DEFAULT_DB(ws), async (db) => (await db('users').select('id')).map((u) => Number(u.id))), [7]);
});

test('--env and --tag are checked: an empty name or a tag on another command is a usage error', () => {
  const ws = workspace();
  for (const args of [['up', '--env', ''], ['up', '--tag', ''], ['down', '--tag', 'seed']]) {
    const r = cli(args, { cwd: ws });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /--(env|tag) /);
  }
});

test('the API: an app\'s environment and code migrations that declare theirs', async () => {
  const ws = workspace();
  const migrator = createMigrator({ workspace: ws, environment: 'production', config: false });
  closing.push(migrator);
  migrator.registerMigrations('plugin', [
    { version: 1, description: 'dev data', environments: ['development'], up: async (k) => { await k.schema.createTable('dev_data', (t) => t.integer('id')); } },
  ]);
  const report = await migrator.up();
  assert.deepEqual(report.steps.map((s) => `${s.source} ${s.version} ${s.outcome}`), ['plugin 1 skipped', 'versions 1 done', 'versions 2 done', 'versions 3 done', 'versions 4 done']);
  assert.equal((await migrator.status('plugin')).sources[0].migrations[0].status, 'skipped');
  await assert.rejects(migrator.up({ tags: 'seed' as never }), /tags must be a list of tag names/);
  assert.equal(path.basename(DEFAULT_DB(ws)), 'dev.sqlite3');
});
