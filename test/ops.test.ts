// The operations (core/ops) and their contexts: a CLI `up` executes the project config, discovers
// and plans once (not again in its runner thread); one sources context serves several databases;
// a target takes the HistoryStorage it is given.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Discovery, loadProjectConfig, MemoryHistory, MigrationEngine, type Logger } from '../src/core';
import { OPS, perform, SourcesContext, TargetContext, type OpContext } from '../src/core/internal';
import { cli, DEFAULT_DB, engine, migrationFiles, RUNNER, tempWorkspace, userTables } from './helpers';

const open: MigrationEngine[] = [];
after(() => Promise.all(open.map((e) => e.close())));

/** A config that says so each time it is executed, by appending a line to a file beside it. */
const COUNTED_CONFIG = "require('node:fs').appendFileSync(require('node:path').join(__dirname, 'executed.txt'), 'x\\n');\nmodule.exports = { sources: [{ id: 'main', dir: 'versions' }] };\n";
const executions = (ws: string) => fs.readFileSync(path.join(ws, 'executed.txt'), 'utf8').split('\n').filter(Boolean).length;

test('one CLI up executes migrations.config.* once, though its migrations run on the runner thread', () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2, 3]), 'migrations.config.js': COUNTED_CONFIG });
  const r = cli(['up'], { cwd: ws });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(executions(ws), 1);
});

test('an isolated up (runner thread, as the CLI) discovers and plans once: the child runs the parent\'s precheck', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2, 3]), 'migrations.config.js': COUNTED_CONFIG });
  const debug: string[] = [];
  const logger: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: (m) => debug.push(m) };
  const e = engine(ws, { project: loadProjectConfig(ws), logger, isolate: { execPath: process.execPath, entry: RUNNER, thread: {} } });
  open.push(e);
  const report = await e.up();
  assert.equal(report.ok, true);
  assert.deepEqual(report.steps.map((s) => s.version), [1, 2, 3]);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2', 't3']);
  assert.equal(debug.filter((m) => m.startsWith('Discovery:')).length, 1, debug.join('\n'));
  assert.equal(debug.filter((m) => m.startsWith('Planned ') || m.includes('planned again')).length, 1, debug.join('\n'));
  assert.equal(executions(ws), 1, 'the config was executed by the test only');
});

test('a history that changed while the run waited for the lock is planned again there (and nothing runs twice)', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const debug: string[] = [];
  const e = engine(ws, { logger: { info: () => {}, warn: () => {}, error: () => {}, debug: (m) => debug.push(m) } });
  const other = engine(ws);
  open.push(e, other);
  const ctx = (e as unknown as { ctx: OpContext }).ctx;
  const args = OPS.up.args({});
  const pre = await OPS.up.precheck!(ctx, args);
  // Another runner applies 1 between this one's read and its lock.
  assert.equal((await other.up({ to: 1 })).ok, true);
  const report = await OPS.up.run(ctx, args, pre as never, {});
  assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
  assert.ok(debug.some((m) => m.includes('planned again under the lock')), debug.join('\n'));
});

test('one sources context serves two SQLite databases: settings read and discovery run once', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const discover = Discovery.prototype.discover;
  let discovered = 0;
  Discovery.prototype.discover = function (this: Discovery) {
    discovered++;
    return discover.call(this);
  };
  try {
    const sources = new SourcesContext({ workspace: ws }).frozen();
    const logger: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    for (const file of ['a.sqlite', 'b.sqlite']) {
      const ctx: OpContext = { sources, target: TargetContext.of(sources, { db: path.join(ws, file), logger }), logger };
      try {
        assert.equal((await perform(OPS.up, ctx)).ok, true);
        assert.deepEqual((await perform(OPS.status, ctx)).sources[0].migrations.map((m) => m.status), ['applied', 'applied']);
      } finally {
        await ctx.target.close();
      }
      assert.deepEqual(await userTables(path.join(ws, file)), ['t1', 't2']);
    }
    assert.equal(discovered, 1);
  } finally {
    Discovery.prototype.discover = discover;
  }
});

test('a target keeps its history where it is told: an in-memory HistoryStorage, the lock still on the database', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const history = new MemoryHistory();
  const e = engine(ws, { history });
  open.push(e);
  assert.equal((await e.markApplied({ version: 1 })).recorded, true);
  const report = await e.up();
  assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
  assert.deepEqual((await history.rows()).map((r) => [r.version, r.direction, r.manual]), [[1, 'up', true], [2, 'up', false]]);
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'applied']);
  await e.close();
  const db = new DatabaseSync(DEFAULT_DB(ws), { readOnly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all().map((t) => t.name);
    assert.ok(!tables.includes('migration_history') && tables.includes('t2'), tables.join(', '));
  } finally {
    db.close();
  }
});
