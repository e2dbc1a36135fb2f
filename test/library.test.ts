// The engine as a library, proven as an app would use it: `npm pack`, the tarball installed into
// a fresh project, imported with require, with import and from TypeScript (type-checked), and run
// on SQLite and on the PostgreSQL server on loopback with the app's own Knex instance.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { migrationFiles, ROOT, sqliteKnex, tempWorkspace, tsMigration } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

const PG = SERVERS.find((s) => s.client === 'pg')!;
let app: string;
let pg: TestDatabase | undefined;

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  // The tarball npm would publish, from the tree the test command just built (dist/lib.js, dist/types).
  const packs = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-pack-'));
  const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packs], ROOT)) as { filename: string }[];
  app = tempWorkspace({
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    ...migrationFiles([1, 2]),
  });
  // Its dependencies come from npm's cache when they are there; the registry otherwise.
  run('npm', ['install', path.join(packs, filename), '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], app);
});

after(async () => {
  await pg?.drop();
});

test('the package exports the engine, not the extension: require, import and TypeScript see the same API', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'migration-manager', 'package.json'), 'utf8'));
  assert.equal(manifest.main, './dist/extension.js', 'main stays the extension (VS Code loads it)');
  const names = "['createMigrator', 'MigrationRunFailedError', 'MigrationEngine', 'MigrationsError'].map((n) => typeof lib[n]).join(',')";
  assert.equal(run(process.execPath, ['-e', `const lib = require('migration-manager'); console.log(${names})`], app).trim(), 'function,function,function,function');
  fs.writeFileSync(path.join(app, 'names.mjs'), `import * as lib from 'migration-manager';\nconsole.log(${names});\n`);
  assert.equal(run(process.execPath, ['names.mjs'], app).trim(), 'function,function,function,function');

  fs.writeFileSync(path.join(app, 'app.ts'), `import { createMigrator, MigrationRunFailedError, type Migrator, type RunReport } from 'migration-manager';
import knex from 'knex';

const migrator: Migrator = createMigrator({ workspace: '.', knex: knex({ client: 'pg' }) });
export async function start(): Promise<RunReport> {
  try {
    return await migrator.up({ to: 2 });
  } catch (err) {
    if (err instanceof MigrationRunFailedError) return err.report;
    throw err;
  }
}
// @ts-expect-error: a version is a number
void migrator.up({ to: 'two' });
createMigrator({ workspace: '.', connection: { client: 'sqlite', connection: { filename: 'app.sqlite3' } } });
`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'app.ts'], app);
});

test('on SQLite from a connection config: up applies, status shows it, a failing migration rejects with its report', async () => {
  fs.writeFileSync(path.join(app, 'sqlite.cjs'), `const { createMigrator, MigrationRunFailedError } = require('migration-manager');
(async () => {
  const migrator = createMigrator({ workspace: __dirname, connection: { client: 'sqlite', connection: { filename: 'app.sqlite3' } } });
  let done;
  let failure;
  try {
    done = (await migrator.up()).steps.map((s) => s.version);
  } catch (err) {
    failure = { isClass: err instanceof MigrationRunFailedError, code: err.code, facts: err.facts, outcomes: err.report.steps.map((s) => s.outcome), message: err.message };
  }
  const again = await migrator.up().then((r) => r.steps.length, (err) => err.code);
  const status = await migrator.status();
  await migrator.close();
  console.log(JSON.stringify({ done, again, statuses: status.sources[0].migrations.map((m) => m.status), failure }));
})();
`);
  const first = JSON.parse(run(process.execPath, ['sqlite.cjs'], app));
  assert.deepEqual(first.done, [1, 2]);
  assert.equal(first.again, 0, 'a second up() with nothing to do resolves with no steps');
  assert.deepEqual(first.statuses, ['applied', 'applied']);
  assert.equal(first.failure, undefined);

  const broken = path.join(app, 'versions', 'migration_003_broken.ts');
  fs.writeFileSync(broken, tsMigration(3, 't3', { up: "throw new Error('kaboom');" }));
  let second;
  try {
    second = JSON.parse(run(process.execPath, ['sqlite.cjs'], app));
  } finally {
    fs.rmSync(broken);
  }
  assert.deepEqual(second.failure?.outcomes, ['failed']);
  assert.equal(second.failure.isClass, true);
  assert.equal(second.failure.code, 'migration-failed');
  assert.equal(second.failure.facts.version, 3);
  assert.match(second.failure.message, /Migration 3 \(versions\) failed during up\(\): kaboom/);
  assert.equal(second.again, 'migration-failed', 'it fails again, the same way, until fixed');
  assert.deepEqual(second.statuses, ['applied', 'applied', 'failed']);
  const db = sqliteKnex(path.join(app, 'app.sqlite3'));
  try {
    assert.deepEqual((await db('migration_history').select('version', 'success')).map((r) => [r.version, Boolean(r.success)]), [[1, true], [2, true], [3, false], [3, false]]);
  } finally {
    await db.destroy();
  }
});

test('on PostgreSQL with the app\'s own Knex instance (ESM): applied through it, and left open for the app', async () => {
  const unreachable = await probe(PG);
  assert.equal(unreachable, undefined, `the library needs a PostgreSQL server on loopback for this test: ${unreachable}`);
  pg = await TestDatabase.create(PG);
  fs.writeFileSync(path.join(app, 'pg.mjs'), `import knexFactory from 'knex';
import { createMigrator } from 'migration-manager';
const knex = knexFactory({ client: 'pg', connection: JSON.parse(process.env.PG_CONNECTION) });
const migrator = createMigrator({ workspace: process.cwd(), knex });
const report = await migrator.up();
const rolledBack = await migrator.down();
await migrator.close();
// The app's instance still works: the migrator never destroys it.
const tables = (await knex('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name')).sort();
await knex.destroy();
console.log(JSON.stringify({ done: report.steps.map((s) => s.version), rolledBack: rolledBack.steps.map((s) => s.version), tables }));
`);
  const out = JSON.parse(run(process.execPath, ['pg.mjs'], app, { PG_CONNECTION: JSON.stringify(pg.connection()) }));
  assert.deepEqual(out.done, [1, 2]);
  assert.deepEqual(out.rolledBack, [2], 'down() with no target rolls back exactly one');
  assert.deepEqual(out.tables, ['migration_history', 'migration_lock', 't1']);
});
