// examples/app as it would run: its start-up migrates the database, a plugin's declared tables (an
// audit log) and a plugin's search index through the orchestrator, then serves what the migrations
// made; on SQLite and on PostgreSQL.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, cli, inspect } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';

const PG = SERVERS.find((s) => s.client === 'pg')!;
const databases: TestDatabase[] = [];
after(() => Promise.all(databases.map((d) => d.drop())));

/** The example copied to a temp folder, `migration-manager` resolving to this package (as after npm install). */
function exampleCopy(): { dir: string; nodePath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-example-'));
  fs.cpSync(path.join(ROOT, 'examples', 'app'), dir, { recursive: true });
  const links = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-modules-'));
  fs.symlinkSync(ROOT, path.join(links, 'migration-manager'));
  return { dir, nodePath: [links, path.join(ROOT, 'node_modules')].join(path.delimiter) };
}

/** Starts the app; resolves with its URL once it listens, or with its exit and output when it does not. */
function startApp(dir: string, env: NodeJS.ProcessEnv): Promise<{ url?: string; code?: number | null; output: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['server.js'], { cwd: dir, env: { ...process.env, ...env, PORT: '0' } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app neither listened nor exited within 30 s:\n${output}`)), 30_000);
    const seen = (d: Buffer) => {
      output += d;
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], output, stop });
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', (d) => (output += d));
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ code, output, stop });
    });
  });
}

function get(url: string): Promise<{ notes: { id: number; text: string }[]; index: unknown; audit: string[] }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

async function startsMigratedAndServes(dir: string, env: NodeJS.ProcessEnv, history: () => Promise<string[]>): Promise<void> {
  const first = await startApp(dir, env);
  assert.ok(first.url, `the app did not start:\n${first.output}`);
  assert.match(first.output, /migrations: database: ok \(2 step\(s\)\)\nmigrations: audit-log: ok \(1 step\(s\)\)\nmigrations: search-index: ok \(1 step\(s\)\)/);
  assert.deepEqual(await get(first.url!), { notes: [{ id: 1, text: 'migrated at start-up' }], index: { notes: [] }, audit: ['started'] });
  await first.stop();
  const [audit] = (await history()).filter((r) => r.startsWith('audit-log'));
  assert.match(audit, /^audit-log \d+ up$/);
  assert.deepEqual(await history(), ['versions 1 up', 'versions 2 up', audit, 'search-index 1 up']);

  // The next start has nothing to migrate.
  const again = await startApp(dir, env);
  assert.ok(again.url, again.output);
  assert.match(again.output, /migrations: database: ok \(0 step\(s\)\)\nmigrations: audit-log: ok \(0 step\(s\)\)\nmigrations: search-index: ok \(0 step\(s\)\)/);
  await again.stop();

  // The plugin declares a new column: the next start-up adds it (the old version superseded), and the app uses it.
  const server = path.join(dir, 'server.js');
  fs.writeFileSync(server, fs.readFileSync(server, 'utf8')
    .replace("event: string(100).notNullable() }", "event: string(100).notNullable(), source: string(50) }")
    .replace("insert({ event: 'started' })", "insert({ event: 'started', source: 'server.js' })"));
  const added = await startApp(dir, env);
  assert.ok(added.url, added.output);
  assert.match(added.output, /migrations: audit-log: ok \(1 step\(s\)\)/);
  await added.stop();
  const audits = (await history()).filter((r) => r.startsWith('audit-log'));
  assert.equal(audits.length, 3);
  assert.deepEqual([audits[0], audits[1].replace(/ down$/, ' up')], [audit, audit]);
  assert.notEqual(audits[2], audit);

  // A broken migration stops the start-up: exit 1, the database service failed, the plugin not run.
  fs.writeFileSync(path.join(dir, 'versions', 'migration_003_broken.js'), "exports.getMigration = () => ({ version: 3, description: 'Broken', async up() { throw new Error('no such column'); }, async down() {} });\n");
  const broken = await startApp(dir, env);
  assert.equal(broken.url, undefined, 'the app must not serve after a failed migration');
  assert.equal(broken.code, 1);
  assert.match(broken.output, /migrations: database: FAILED: Migration 3 \(versions\) failed during up\(\): no such column/);
  assert.match(broken.output, /migrations: search-index: not run/);
}

const rowsText = (rows: Record<string, unknown>[]) => rows.filter((r) => r.success === 1 || r.success === true).map((r) => `${r.source} ${r.version} ${r.direction}`);

test('examples/app on SQLite (better-sqlite3, the app\'s own knex): migrated at start-up, then serving', async () => {
  const { dir, nodePath } = exampleCopy();
  const file = path.join(dir, 'app.sqlite3');
  const env = { NODE_PATH: nodePath, SQLITE_FILE: file, SEARCH_INDEX: path.join(dir, 'index.json') };
  const history = () => inspect(file, (db) => db('migration_history').orderBy('id').select('*')).then(rowsText);
  await startsMigratedAndServes(dir, env, history);
  const auditVersion = (await history()).filter((r) => r.startsWith('audit-log')).at(-1)!.split(' ')[1];
  // The CLI reads the same migrations.config.js: the app's database, and its plugin's service beside the files.
  const status = cli(['status', '--json'], { cwd: dir, env: { ...process.env, ...env } });
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { database: string; sources: { id: string; migrations: { version: number; status: string }[] }[] };
  assert.equal(report.database, `better-sqlite3 ${file}`);
  assert.deepEqual(report.sources.map((s) => [s.id, s.migrations.map((m) => `${m.version} ${m.status}`)]), [
    ['versions', ['1 applied', '2 applied', '3 failed']],
    ['search-index', ['1 applied']],
    // The audit log's schema, registered in code by the app: its version in effect, from the history alone.
    ['audit-log', [`${auditVersion} applied`]],
  ]);
});

test('examples/app on PostgreSQL (DATABASE_URL): migrated at start-up, then serving', async () => {
  const unreachable = await probe(PG);
  assert.equal(unreachable, undefined, `the example needs a PostgreSQL server on loopback for this test: ${unreachable}`);
  const db = await TestDatabase.create(PG);
  databases.push(db);
  const { host, port, user, database } = db.connection();
  const { dir, nodePath } = exampleCopy();
  await startsMigratedAndServes(dir, { NODE_PATH: nodePath, DATABASE_URL: `postgres://${user}@${host}:${port}/${database}`, SEARCH_INDEX: path.join(dir, 'index.json') },
    async () => rowsText(await db.db('migration_history').orderBy('id').select('*')));
});
