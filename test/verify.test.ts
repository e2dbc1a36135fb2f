// Know before it runs: reversibility (verify), safety lint, drift and the schema snapshot, on a
// shadow database — SQLite in memory, a temporary database on PostgreSQL and MariaDB — never the
// user's. SQLite goes through the CLI (and its runner thread); the servers through the engine.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LINT_CODES, type MigrationEngine, type VerifyReport, type DriftReport } from '../src/core';
import { cli, DEFAULT_DB, engine as makeEngine, RUNNER, tempWorkspace, tsMigration, userTables } from './helpers';
import { probe, SERVERS, spawnCli, TestDatabase } from './servers';

const closing: { close(): Promise<void> }[] = [];
const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(closing.map((c) => c.close()));
  await Promise.all(databases.map((d) => d.drop()));
});

const users = tsMigration(1, 'users', { up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email').notNullable(); });", down: "await knex.schema.dropTable('users');" });
/** up() adds a column, down() forgets to drop it. */
const leavesColumn = tsMigration(2, 'users', { up: "await knex.schema.alterTable('users', (t) => { t.boolean('is_spammer'); });", down: '' });
/** down() drops more than up() added. */
const removesTooMuch = tsMigration(3, 'users', { up: "await knex.schema.createTable('notes', (t) => { t.increments('id'); });", down: "await knex.schema.dropTable('notes'); await knex.schema.dropTable('users');" });
const noDown = tsMigration(4, 'tags', { down: null });

/** Where a check runs: the CLI on SQLite, the engine on a server; the same report either way. */
interface Target {
  readonly name: string;
  readonly verify: (ws: string) => Promise<{ code: number; report: VerifyReport }>;
  readonly lint: (ws: string) => Promise<{ code: number; report: VerifyReport }>;
  /** Lint again with the `migrations.lint` setting given. */
  readonly lintWith: (ws: string, lint: Record<string, 'off' | 'warning' | 'error'>) => Promise<{ code: number; report: VerifyReport }>;
  readonly drift: (ws: string) => Promise<{ code: number; report: DriftReport }>;
  readonly up: (ws: string, to?: number) => Promise<void>;
  /** Runs SQL on the real database (a change by hand). */
  readonly exec: (ws: string, sql: string) => Promise<void>;
  readonly tables: (ws: string) => Promise<string[]>;
}

const viaCli = (command: string) => async (ws: string) => {
  const r = cli([command, '--json'], { cwd: ws });
  assert.ok(r.code === 0 || r.code === 1, `${command} exited ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) };
};

const sqlite: Target = {
  name: 'SQLite',
  verify: viaCli('verify'),
  lint: viaCli('lint'),
  lintWith: (ws, lint) => {
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'migrations.lint': lint }));
    return viaCli('lint')(ws);
  },
  drift: viaCli('drift'),
  up: async (ws, to) => assert.equal(cli(['up', ...(to ? ['--to', String(to)] : [])], { cwd: ws }).code, 0),
  exec: async (ws, sql) => {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(DEFAULT_DB(ws));
    db.exec(sql);
    db.close();
  },
  tables: (ws) => userTables(DEFAULT_DB(ws)),
};

function serverTarget(server: (typeof SERVERS)[number]): Target {
  const engines = new Map<string, { engine: MigrationEngine; db: TestDatabase }>();
  const of = async (ws: string) => {
    let e = engines.get(ws);
    if (!e) {
      const db = await TestDatabase.create(server);
      databases.push(db);
      const engine = makeEngine(ws, { settings: db.settings() });
      closing.push(engine);
      engines.set(ws, (e = { engine, db }));
    }
    return e;
  };
  return {
    name: server.name,
    verify: async (ws) => {
      const report = await (await of(ws)).engine.verify();
      return { code: report.ok ? 0 : 1, report };
    },
    lint: async (ws) => {
      const report = await (await of(ws)).engine.lint();
      return { code: report.ok ? 0 : 1, report };
    },
    lintWith: async (ws, lint) => {
      const { db } = await of(ws);
      const e = makeEngine(ws, { settings: db.settings({ lint }) });
      closing.push(e);
      const report = await e.lint();
      return { code: report.ok ? 0 : 1, report };
    },
    drift: async (ws) => {
      const report = await (await of(ws)).engine.drift();
      return { code: report.drifted ? 1 : 0, report };
    },
    up: async (ws, to) => assert.equal((await (await of(ws)).engine.up({ to })).ok, true),
    exec: async (ws, sql) => void (await (await of(ws)).db.db.raw(sql)),
    tables: async (ws) => {
      const { db } = await of(ws);
      const rows = server.client === 'pg'
        ? (await db.db.raw("select tablename as name from pg_tables where schemaname = current_schema() order by 1")).rows
        : (await db.db.raw("select table_name as name from information_schema.tables where table_schema = database() order by 1"))[0];
      return (rows as { name: string }[]).map((r) => r.name);
    },
  };
}

const TARGETS: Target[] = [sqlite, ...SERVERS.map(serverTarget)];
const outcomes = (report: VerifyReport) => report.migrations.map((m) => `${m.version} ${m.outcome}`);

async function reachable(target: Target): Promise<void> {
  const server = SERVERS.find((s) => s.name === target.name);
  const why = server && (await probe(server));
  assert.equal(why, undefined, `${target.name} must run on loopback for this test: ${why}`);
}

for (const target of TARGETS) {
  test(`${target.name}: verify proves each pending migration reversible on a shadow, names what down() gets wrong, and touches nothing real`, async () => {
    await reachable(target);
    const ws = tempWorkspace({
      'versions/migration_001_users.ts': users,
      'versions/migration_002_spammer.ts': leavesColumn,
      'versions/migration_003_notes.ts': removesTooMuch,
      'versions/migration_004_tags.ts': noDown,
    });
    const before = await target.tables(ws);
    const { code, report } = await target.verify(ws);
    assert.equal(code, 1);
    assert.deepEqual(outcomes(report), ['1 reversible', '2 irreversible', '3 irreversible', '4 no-down']);
    assert.deepEqual(report.migrations[1].problems, ['down() leaves column users.is_spammer']);
    assert.deepEqual(report.migrations[2].problems, ['down() removes table users, which up() did not add']);
    assert.deepEqual(report.migrations[3].problems, ['down() is missing: it cannot be rolled back.']);
    assert.deepEqual(await target.tables(ws), before, 'the real database is untouched');
    // Applied migrations are replayed first: 002 finds the users table 001 made.
    await target.up(ws, 1);
    const again = await target.verify(ws);
    assert.deepEqual(outcomes(again.report), ['2 irreversible', '3 irreversible', '4 no-down']);
  });

  test(`${target.name}: drift lists what changed outside migrations, and exits 1 only then`, async () => {
    await reachable(target);
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
    await target.up(ws);
    const clean = await target.drift(ws);
    assert.deepEqual([clean.code, clean.report.drifted, clean.report.changes.length], [0, false, 0]);
    await target.exec(ws, 'alter table users add column nickname varchar(40)');
    await target.exec(ws, 'create table scratch (id integer)');
    const drifted = await target.drift(ws);
    assert.equal(drifted.code, 1);
    assert.deepEqual(drifted.report.changes.map((c) => c.summary), [
      'exists only in the database: table scratch',
      'exists only in the database: column users.nickname',
    ]);
  });

  test(`${target.name}: lint fires every rule that applies on this database, and a comment or the lint setting silences one`, async () => {
    await reachable(target);
    const pg = target.name === 'PostgreSQL';
    const ws = tempWorkspace({
      'versions/migration_001_base.ts': tsMigration(1, 'base', {
        up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); t.integer('age'); }); await knex.schema.createTable('legacy', (t) => t.increments('id')); await knex.schema.createTable('old_name', (t) => t.increments('id'));",
        down: "await knex.schema.dropTable('users'); await knex.schema.dropTable('legacy'); await knex.schema.dropTable('old_name');",
      }),
      'versions/migration_002_drop_table.ts': tsMigration(2, 'legacy', { up: "await knex.schema.dropTable('legacy');", down: "await knex.schema.createTable('legacy', (t) => t.increments('id'));" }),
      'versions/migration_003_drop_column.ts': tsMigration(3, 'users', { up: "await knex.schema.alterTable('users', (t) => t.dropColumn('email'));", down: "await knex.schema.alterTable('users', (t) => t.string('email'));" }),
      'versions/migration_004_rename_table.ts': tsMigration(4, 'x', { up: "await knex.schema.renameTable('old_name', 'new_name');", down: "await knex.schema.renameTable('new_name', 'old_name');" }),
      'versions/migration_005_rename_column.ts': tsMigration(5, 'x', { up: "await knex.schema.alterTable('users', (t) => t.renameColumn('age', 'years'));", down: "await knex.schema.alterTable('users', (t) => t.renameColumn('years', 'age'));" }),
      'versions/migration_006_change_type.ts': tsMigration(6, 'x', { up: "await knex.schema.alterTable('users', (t) => t.bigInteger('years').alter());", down: "await knex.schema.alterTable('users', (t) => t.integer('years').alter());" }),
      'versions/migration_007_no_down.ts': tsMigration(7, 'seven', { down: null }),
      // Silenced by the comment right above up():
      'versions/migration_008_silenced.ts': tsMigration(8, 'x', { up: "await knex.schema.dropTable('seven');", down: "await knex.schema.createTable('seven', (t) => t.increments('id'));" })
        .replace('  async up(', '  // migrations-disable-next-line drop-table\n  async up('),
      ...(pg ? {
        'versions/migration_010_index.ts': tsMigration(10, 'x', { up: "await knex.schema.alterTable('users', (t) => t.index(['years']));", down: "await knex.schema.alterTable('users', (t) => t.dropIndex(['years']));" }),
        'versions/migration_011_concurrently.ts': tsMigration(11, 'x', { up: "await knex.raw('create index concurrently users_id_idx on users (id)');", down: "await knex.raw('drop index users_id_idx');" }),
      } : {}),
      'versions/migration_009_not_null.ts': tsMigration(9, 'x', { up: "await knex.schema.alterTable('users', (t) => t.integer('score').notNullable());", down: "await knex.schema.alterTable('users', (t) => t.dropColumn('score'));" }),
    });
    await target.up(ws, 1);
    const { code, report } = await target.lint(ws);
    assert.equal(code, 1);
    const found = report.migrations.map((m) => `${m.version}: ${m.lint.map((f) => `${f.code} ${f.severity}`).join(', ')}`);
    assert.deepEqual(found, [
      '2: drop-table error',
      '3: drop-column error',
      '4: rename-table error',
      '5: rename-column error',
      '6: change-column-type warning',
      '7: no-down warning',
      '8: ',
      '9: add-not-null-column error',
      ...(pg ? ['10: index-not-concurrently warning', '11: concurrently-in-transaction error'] : []),
    ]);
    const first = report.migrations[0].lint[0];
    assert.equal(first.file, path.join(ws, 'versions', 'migration_002_drop_table.ts'));
    assert.equal(first.line, 5, "on the line of the migration's up()");
    assert.match(first.message, /^Drops table legacy and every row in it\./);
    if (pg) assert.deepEqual(report.migrations.find((m) => m.version === 11)?.outcome, 'failed', 'CONCURRENTLY in a transaction fails on PostgreSQL too');
    // Every rule can be turned off by the setting: nothing is found, and lint passes (but on PostgreSQL, where 11 fails on the shadow).
    const off = await target.lintWith(ws, Object.fromEntries(LINT_CODES.map((c) => [c, 'off' as const])));
    assert.deepEqual(off.report.migrations.flatMap((m) => m.lint), []);
    assert.equal(off.code, pg ? 1 : 0);
  });
}

test('SQLite: the lint setting turns a rule off or changes its severity', () => {
  const ws = tempWorkspace({
    'versions/migration_001_users.ts': users,
    'versions/migration_002_no_down.ts': tsMigration(2, 'two', { down: null }),
    'versions/migration_003_not_null.ts': tsMigration(3, 'x', { up: "await knex.schema.alterTable('users', (t) => t.integer('score').notNullable());" }),
    '.vscode/settings.json': JSON.stringify({ 'migrations.lint': { 'no-down': 'off', 'add-not-null-column': 'warning' } }),
  });
  const r = cli(['lint', '--json'], { cwd: ws });
  const report = JSON.parse(r.stdout) as VerifyReport;
  assert.deepEqual(report.migrations.map((m) => `${m.version} ${m.outcome} ${m.lint.map((f) => `${f.code} ${f.severity}`).join(',')}`), [
    '1 checked ',
    '2 checked ',
    '3 checked add-not-null-column warning',
  ]);
  assert.equal(r.code, 0, 'warnings alone pass');
  const text = cli(['lint'], { cwd: ws });
  assert.match(text.stdout, /versions\/migration_003_not_null\.ts:5 warning \[add-not-null-column\] Adds users\.score as NOT NULL without a default/);
});

test('SQLite: the schema snapshot is written after a run beside the only source, byte-identical when dumped again', () => {
  const ws = tempWorkspace({ 'db/versions/migration_001_users.ts': users });
  assert.equal(cli(['up'], { cwd: ws }).code, 0);
  const file = path.join(ws, 'db', 'schema.sql');
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text, [
    '-- Schema dumped by Migration Manager (SQLite). Do not edit: it is rewritten after every run.',
    '-- Database: sqlite .migrations/dev.sqlite3',
    '',
    'CREATE TABLE users (',
    '  id integer NOT NULL,',
    '  email varchar(255) NOT NULL,',
    '  PRIMARY KEY (id)',
    ');',
    '',
  ].join('\n'));
  const again = cli(['schema'], { cwd: ws });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /-- Unchanged: db[\\/]schema\.sql/);
  assert.equal(fs.readFileSync(file, 'utf8'), text);
  // migrations.schemaFile "off": none written.
  const off = tempWorkspace({ 'versions/migration_001_users.ts': users, '.vscode/settings.json': JSON.stringify({ 'migrations.schemaFile': 'off' }) });
  assert.equal(cli(['up'], { cwd: off }).code, 0);
  assert.equal(fs.existsSync(path.join(off, 'schema.sql')), false);
});

test('migrations.sum: create writes it, an edit behind its back is a problem on that file, rehash accepts it', () => {
  const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
  const created = cli(['create', 'add notes', '--json'], { cwd: ws });
  assert.equal(created.code, 0, created.stderr);
  const sum = fs.readFileSync(path.join(ws, 'versions', 'migrations.sum'), 'utf8').split('\n');
  assert.match(sum[0], /^h1:/);
  assert.deepEqual(sum.slice(1).map((l) => l.split(' ')[0]), ['migration_001_users.ts', 'migration_002_add_notes.ts', '']);
  fs.appendFileSync(path.join(ws, 'versions', 'migration_001_users.ts'), '// edited\n');
  const status = JSON.parse(cli(['status', '--json'], { cwd: ws }).stdout);
  assert.deepEqual(status.sources[0].migrations[0].problems.map((p: { code: string }) => p.code), ['sum-edited']);
  const rehash = cli(['rehash'], { cwd: ws });
  assert.match(rehash.stdout, /Rewrote versions[\\/]migrations\.sum/);
  assert.deepEqual(JSON.parse(cli(['status', '--json'], { cwd: ws }).stdout).sources[0].migrations[0].problems, []);
});

test('a server with no right to create a database and no shadowDatabase set: a clear message, and the real database untouched', async () => {
  const pg = SERVERS.find((s) => s.client === 'pg')!;
  await reachable({ name: pg.name } as Target);
  const db = await TestDatabase.create(pg);
  databases.push(db);
  const role = `mm_nocreate_${process.pid}`;
  await db.db.raw(`drop role if exists ${role}`);
  await db.db.raw(`create role ${role} login nocreatedb`);
  try {
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
    const e = makeEngine(ws, { settings: { ...db.settings(), connection: { ...db.connection(), user: role } } });
    closing.push(e);
    await assert.rejects(e.verify(), /No shadow database to try the migrations on: creating one failed \(.*permission denied.*\)\. Set migrations\.shadowDatabase/);
  } finally {
    await db.db.raw(`drop role if exists ${role}`).catch(() => undefined);
  }
});

test('PostgreSQL: migrations.shadowDatabase is the scratch copy: marked when first taken empty, emptied before each use, and nothing else is created', async () => {
  const pg = SERVERS.find((s) => s.client === 'pg')!;
  await reachable({ name: pg.name } as Target);
  const [db, shadow] = [await TestDatabase.create(pg), await TestDatabase.create(pg)];
  databases.push(db, shadow);
  const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, 'versions/migration_002_spammer.ts': leavesColumn });
  const e = makeEngine(ws, { settings: db.settings({ shadowDatabase: shadow.connection().database }) });
  closing.push(e);
  const databasesBefore = (await db.db.raw("select count(*)::int as n from pg_database where datname like 'mm_shadow_%'")).rows[0].n;
  assert.deepEqual(outcomes(await e.verify()), ['1 reversible', '2 irreversible']);
  // A table left in the marked shadow (by a check, or by hand) is emptied by the next one.
  await shadow.db.raw('create table leftover (id integer)');
  const report = await e.verify();
  assert.equal(report.shadow, `the shadow database ${shadow.connection().database}`);
  assert.deepEqual(outcomes(report), ['1 reversible', '2 irreversible']);
  const left = (await shadow.db.raw("select tablename from pg_tables where schemaname = current_schema() order by 1")).rows.map((r: { tablename: string }) => r.tablename);
  assert.equal(left.includes('leftover'), false, 'the shadow was emptied first');
  assert.equal((await db.db.raw("select count(*)::int as n from pg_database where datname like 'mm_shadow_%'")).rows[0].n, databasesBefore, 'no temporary database was made');
});

test('a check stuck in a migration\'s synchronous loop is ended at once by a cancel: the child is gone, nothing real touched', async () => {
  const marker = path.join(tempWorkspace(), 'looping');
  const ws = tempWorkspace({
    'versions/migration_001_users.ts': users,
    'versions/migration_002_loops.ts': tsMigration(2, 'x', { up: loopingUp(marker) }),
  });
  const e = makeEngine(ws, { isolate: { execPath: process.execPath, entry: RUNNER } });
  closing.push(e);
  const abort = new AbortController();
  const checking = e.verify({ signal: abort.signal });
  const pid = Number(await waitForFile(marker));
  abort.abort();
  await assert.rejects(checking, /Cancelled: the process trying the migrations on a shadow database was stopped/);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the child that looped is gone');
  assert.equal(fs.existsSync(DEFAULT_DB(ws)), false, 'the real database was never created');
});

/**
 * An up() that writes its pid to `marker` and loops synchronously. Written whole, then named: a
 * test that sees the file reads the pid, never an empty file (pid 0 would answer kill(0, 0)).
 */
function loopingUp(marker: string): string {
  return `const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(marker + '.part')}, String(process.pid)); fs.renameSync(${JSON.stringify(marker + '.part')}, ${JSON.stringify(marker)}); for (;;) {}`;
}

/** The file's text once it exists (the child writes it as its migration starts looping). */
async function waitForFile(file: string): Promise<string> {
  const started = Date.now();
  while (!fs.existsSync(file)) {
    if (Date.now() - started > 20_000) throw new Error(`${file} did not appear within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return fs.readFileSync(file, 'utf8');
}

test('migrationTimeoutMs holds on the shadow too: an up() that never settles fails the check; a synchronous loop ends the CLI\'s child', async () => {
  const settings = { 'migrations.migrationTimeoutMs': 400 };
  const hangs = tempWorkspace({
    'versions/migration_001_users.ts': users,
    'versions/migration_002_hangs.ts': tsMigration(2, 'x', { up: 'await new Promise(() => {});' }),
    '.vscode/settings.json': JSON.stringify(settings),
  });
  const e = makeEngine(hangs);
  closing.push(e);
  const report = await e.verify();
  assert.deepEqual(outcomes(report), ['1 reversible', '2 failed']);
  assert.match(report.migrations[1].problems[0], /^up\(\) failed on the shadow: .*did not finish within 400 ms/);

  const loops = tempWorkspace({
    'versions/migration_001_loops.ts': tsMigration(1, 'x', { up: 'for (;;) {}' }),
    '.vscode/settings.json': JSON.stringify(settings),
  });
  // Without the parent's watchdog this would hang until the helper's own 120 s limit (exit -1).
  const r = cli(['verify'], { cwd: loops });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Migration 1 \(versions\) kept the process trying it on a shadow database busy past migrations\.migrationTimeoutMs \(400 ms, a synchronous loop\?\); the process was stopped\. Nothing but the shadow was touched\./);
  assert.equal(fs.existsSync(DEFAULT_DB(loops)), false);
});

/** The temporary shadow databases on `db`'s server that process `pid` made (see openShadow). */
async function shadowsOf(db: TestDatabase, pid: number): Promise<string[]> {
  const names = db.server.client === 'pg'
    ? (await db.db.raw('select datname as name from pg_database')).rows
    : (await db.db.raw('select schema_name as name from information_schema.schemata'))[0];
  return (names as { name: string }[]).map((r) => r.name).filter((n) => n.startsWith(`mm_shadow_${pid}_`));
}

/**
 * A fresh database on `server`, and a workspace using it whose migration 2 writes its process's
 * pid to `marker` and then loops synchronously (its check never ends on its own).
 */
async function loopingOn(server: (typeof SERVERS)[number]): Promise<{ db: TestDatabase; marker: string; ws: string }> {
  await reachable({ name: server.name } as Target);
  const db = await TestDatabase.create(server);
  databases.push(db);
  const marker = path.join(tempWorkspace(), 'looping');
  const ws = tempWorkspace({
    'versions/migration_001_users.ts': users,
    'versions/migration_002_loops.ts': tsMigration(2, 'x', { up: loopingUp(marker) }),
    '.vscode/settings.json': db.settingsJson(),
  });
  return { db, marker, ws };
}

for (const server of SERVERS) {
  test(`${server.name}: Ctrl-C while verify's runner is stuck in a synchronous loop ends it, and its temporary shadow database is dropped`, async () => {
    const { db, marker, ws } = await loopingOn(server);
    const { child, done } = spawnCli(['verify', '--dir', ws]);
    const shadowsOfCli = () => shadowsOf(db, child.pid!);
    await waitForFile(marker);
    assert.equal((await shadowsOfCli()).length, 1, 'the check is running on a temporary database named after the CLI');
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Stopping \(SIGINT\); press Ctrl-C again to quit at once\.\n.*Cancelled: the process trying the migrations on a shadow database was stopped\. Nothing but the shadow was touched\./s);
    assert.deepEqual(await shadowsOfCli(), [], 'the shadow database was dropped');
    assert.deepEqual(await db.tables(), [], 'the real database was not touched');
  });

  test(`${server.name}: the editor's cancel of a check ends its runner child, and the child's temporary shadow database is dropped`, async () => {
    const { db, marker, ws } = await loopingOn(server);
    const e = makeEngine(ws, { settings: db.settings(), isolate: { execPath: process.execPath, entry: RUNNER } });
    closing.push(e);
    const abort = new AbortController();
    const checking = e.verify({ signal: abort.signal });
    const pid = Number(await waitForFile(marker));
    assert.notEqual(pid, process.pid, 'the check runs in a child process');
    assert.equal((await shadowsOf(db, pid)).length, 1, 'the child made its temporary database');
    abort.abort();
    await assert.rejects(checking, /Cancelled: the process trying the migrations on a shadow database was stopped/);
    assert.deepEqual(await shadowsOf(db, pid), [], 'the shadow database was dropped');
  });
}
