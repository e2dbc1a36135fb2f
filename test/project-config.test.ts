// migrations.config.* at the workspace root: one project config the CLI, the runner and
// the library all read (the editor's reading of it is tested in the extension host).
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createMigrator, createOrchestrator } from '../src/lib';
import { cli, inspect, tempWorkspace, tsMigration } from './helpers';

const closing: { close(): Promise<void> }[] = [];
after(() => Promise.all(closing.map((c) => c.close())));

/** A config with a folder under a declared id, migrations in code, a plugin service and hooks that log to a file. */
const CONFIG = `
import * as fs from 'node:fs';
import * as path from 'node:path';
const log = (line: string) => fs.appendFileSync(path.join(__dirname, 'hooks.log'), line + '\\n');
const seed = (version: number) => ({
  version, description: 'seed ' + version,
  up: async (knex: any) => { await knex('t1').insert({ id: version }); },
  down: async (knex: any) => { await knex('t1').where({ id: version }).del(); },
});
export default {
  database: { client: 'sqlite', connection: { filename: 'data/app.sqlite' } },
  sources: [
    { id: 'core', dir: 'db/versions' },
    { id: 'seed', migrations: [seed(1), seed(2)], priority: 50 },
  ],
  services: [{ name: 'search-index', migrations: [{ version: 1, description: 'build index', transaction: false,
    up: async () => fs.writeFileSync(path.join(__dirname, 'index.json'), '{}'), down: async () => fs.rmSync(path.join(__dirname, 'index.json')) }] }],
  hooks: {
    beforeMigration: async (s: { source: string; version: number }) => { await new Promise((r) => setTimeout(r, 2)); log('before ' + s.source + ' ' + s.version); },
    afterMigration: (s: { source: string; version: number; outcome: string }) => log('after ' + s.source + ' ' + s.version + ' ' + s.outcome),
  },
};
`;

function projectWorkspace(config = CONFIG): string {
  return tempWorkspace({
    'migrations.config.ts': config,
    'db/versions/migration_001_t1.ts': tsMigration(1, 't1'),
    'db/versions/migration_002_t2.ts': tsMigration(2, 't2'),
    // Settings that the config overrides: its database wins.
    '.vscode/settings.json': JSON.stringify({ 'migrations.database': 'ignored.sqlite' }),
  });
}

const statusOf = (ws: string, ...args: string[]) => {
  const r = cli(['status', '--json', ...args], { cwd: ws });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { database: string; sources: { id: string; migrations: { version: number; status: string }[] }[] };
};

test('the CLI reads the config: its database over settings.json, declared ids, code sources and services in priority order', () => {
  const ws = projectWorkspace();
  const status = statusOf(ws);
  assert.match(status.database, /data[\\/]app\.sqlite$/);
  assert.deepEqual(status.sources.map((s) => [s.id, s.migrations.map((m) => `${m.version} ${m.status}`)]), [
    ['core', ['1 pending', '2 pending']],
    ['seed', ['1 pending', '2 pending']],
    ['search-index', ['1 pending']],
  ]);
  assert.equal(fs.existsSync(path.join(ws, 'ignored.sqlite')), false);
});

test('up from the CLI runs the config\'s code migrations and hooks in the runner child, recorded under their ids', async () => {
  const ws = projectWorkspace();
  const r = cli(['up'], { cwd: ws });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readFileSync(path.join(ws, 'hooks.log'), 'utf8').trim().split('\n'), [
    'before core 1', 'after core 1 done', 'before core 2', 'after core 2 done',
    'before seed 1', 'after seed 1 done', 'before seed 2', 'after seed 2 done',
    'before search-index 1', 'after search-index 1 done',
  ]);
  assert.equal(fs.existsSync(path.join(ws, 'index.json')), true, 'the service ran');
  const rows = await inspect(path.join(ws, 'data', 'app.sqlite'), async (db) => ({
    history: (await db('migration_history').select('source', 'version', 'success').orderBy('id')).map((h) => `${h.source} ${h.version} ${h.success}`),
    t1: (await db('t1').select('id').orderBy('id')).map((x) => x.id as number),
  }));
  assert.deepEqual(rows.history, ['core 1 1', 'core 2 1', 'seed 1 1', 'seed 2 1', 'search-index 1 1']);
  assert.deepEqual(rows.t1, [1, 2]);
  // The last applied across sources is the service's: one down undoes it, not a file migration.
  const down = cli(['down', '--json'], { cwd: ws });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(JSON.parse(down.stdout).steps.map((s: { source: string; version: number }) => `${s.source} ${s.version}`), ['search-index 1']);
  assert.equal(fs.existsSync(path.join(ws, 'index.json')), false);
});

test('a declared id survives a folder move: change dir, keep id, and nothing looks pending', () => {
  const ws = projectWorkspace();
  assert.equal(cli(['up', '--source', 'core'], { cwd: ws }).code, 0);
  fs.mkdirSync(path.join(ws, 'database'));
  fs.renameSync(path.join(ws, 'db', 'versions'), path.join(ws, 'database', 'versions'));
  fs.writeFileSync(path.join(ws, 'migrations.config.ts'), CONFIG.replace("dir: 'db/versions'", "dir: 'database/versions'"));
  const core = statusOf(ws).sources.find((s) => s.id === 'core')!;
  assert.deepEqual(core.migrations.map((m) => m.status), ['applied', 'applied']);
  // The folder's path still names the source on the command line.
  assert.equal(statusOf(ws, '--source', 'database/versions').sources[0].id, 'core');
});

test('--db wins over the config\'s database', () => {
  const ws = projectWorkspace();
  assert.match(statusOf(ws, '--db', 'other.sqlite').database, /other\.sqlite$/);
});

test('a broken config stops every command with its file, line and what to fix; nothing is created', () => {
  const cases: [string, RegExp][] = [
    ['export default { sources: [ { id: "a", dir: "versions" }, ] ;', /migrations\.config\.ts:1: Syntax error: Unexpected token, expected ","\. Fix it at this line\./],
    ['throw new Error("no DATABASE_URL");\nexport default {};', /migrations\.config\.ts:1: Loading the file failed: no DATABASE_URL/],
    ['export default { source: [] };', /"source" must be one of the known keys \(database, environment, sources, services, hooks, settings\)/],
    ['export default { sources: [{ id: "a", dir: "versions" }, { id: "a", migrations: [] }] };', /sources\[1\]\.id must be unique; "a" is declared twice/],
    ['export default { sources: [{ id: "x", dir: "../elsewhere/versions" }] };', /sources\[0\]\.dir must be a folder inside the workspace/],
    ['export default { sources: [{ id: "x", migrations: [{ version: 0, description: "zero", up() {} }] }] };', /source "x": entry 0 has version 0; a version is a whole number of 1 or more/],
    ['export default { settings: { lockTimeoutMs: "soon" } };', /"migrations\.lockTimeoutMs" must be a non-negative number/],
  ];
  for (const [config, expected] of cases) {
    const ws = tempWorkspace({ 'migrations.config.ts': config, 'versions/migration_001_t1.ts': tsMigration(1, 't1') });
    const r = cli(['up'], { cwd: ws });
    assert.equal(r.code, 1, config);
    assert.match(r.stderr, expected, config);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(path.join(ws, '.migrations', 'dev.sqlite3')), false, 'nothing was created');
  }
});

test('the config may be ESM or CommonJS JavaScript', () => {
  for (const [name, text] of [
    ['migrations.config.mjs', "export default { sources: [{ id: 'main', dir: 'versions' }] };"],
    ['migrations.config.cjs', "module.exports = { sources: [{ id: 'main', dir: 'versions' }] };"],
  ]) {
    const ws = tempWorkspace({ [name]: text, 'versions/migration_001_t1.ts': tsMigration(1, 't1') });
    assert.deepEqual(statusOf(ws).sources.map((s) => s.id), ['main'], name);
  }
});

test('createMigrator reads the same config; the orchestrator runs the config\'s services after the database', async () => {
  const ws = projectWorkspace();
  const migrator = createMigrator({ workspace: ws });
  closing.push(migrator);
  const report = await createOrchestrator(migrator).runAll();
  assert.equal(report.ok, true);
  assert.deepEqual(report.services.map((s) => [s.service, s.steps.map((x) => `${x.source} ${x.version}`)]), [
    ['database', ['core 1', 'core 2', 'seed 1', 'seed 2']],
    ['search-index', ['search-index 1']],
  ]);
  assert.equal(fs.readFileSync(path.join(ws, 'hooks.log'), 'utf8').split('\n').filter(Boolean).length, 10, 'hooks ran in the app');
  // Same database and ids as the CLI sees.
  assert.deepEqual(statusOf(ws).sources.map((s) => s.migrations.every((m) => m.status === 'applied')), [true, true, true]);
  // config: false reads none: the folder is found by discovery under its path.
  const bare = createMigrator({ workspace: ws, config: false });
  closing.push(bare);
  assert.deepEqual((await bare.status()).sources.map((s) => s.id), ['db/versions']);
});
