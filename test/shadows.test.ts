// Shadow databases on PostgreSQL and MariaDB: a configured shadow is never the real database nor a
// database of someone else's (issue 19 item 1), and temporary shadows never outlive their run
// (item 15): each check drops those of runs that are gone, `migrations shadows --drop` on demand.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { knex as createKnex, type Knex } from 'knex';
import type { MigrationEngine } from '../src/core';
import { temporaryName } from '../src/core/database/shadow';
import { cli, engine as makeEngine, migrationFiles, tempWorkspace, tsMigration } from './helpers';
import { freshDatabase, rowsOf, SERVERS, spawnCli, TestDatabase, type Server } from './servers';

const closing: { close(): Promise<void> }[] = [];
const databases: TestDatabase[] = [];
/** Shadow-like databases a test made by hand, dropped at the end whatever the test left. */
const made: { server: Server; name: string }[] = [];
after(async () => {
  await Promise.all(closing.map((c) => c.close()));
  await Promise.all(databases.map((d) => d.drop()));
  for (const { server, name } of made) {
    const admin = serverKnex(server);
    await admin.raw(server.client === 'pg' ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`).finally(() => admin.destroy());
  }
});

const users = tsMigration(1, 'users', { up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); });", down: "await knex.schema.dropTable('users');" });
const notes = tsMigration(2, 'notes');

const fresh = (server: Server): Promise<TestDatabase> => freshDatabase(server, databases);

function track(e: MigrationEngine): MigrationEngine {
  closing.push(e);
  return e;
}

/** The same server and database as `db`, as a URL naming the host another way. */
function urlOf(db: TestDatabase): string {
  return `${db.server.client === 'pg' ? 'postgres' : 'mysql'}://${db.server.user}@localhost:${db.server.port}/${db.name}`;
}

/** Rejects with a message (not its `Name: ` prefix) matching `expected`. */
async function refusedWith(promise: Promise<unknown>, expected: RegExp, how?: string): Promise<void> {
  await assert.rejects(promise, (err: Error) => (assert.match(err.message, expected, how), true));
}

async function count(db: TestDatabase, table: string): Promise<number> {
  return Number(rowsOf(await db.db.raw(`select count(*) as n from ${table}`))[0].n);
}

for (const server of SERVERS) {
  test(`${server.name}: the real database given as the shadow, however the server is spelled, is refused by verify, lint and drift, and nothing in it is touched`, async () => {
    const db = await fresh(server);
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, 'versions/migration_002_notes.ts': notes });
    assert.equal((await track(makeEngine(ws, { settings: db.settings() })).up({ to: 1 })).ok, true);
    await db.db.schema.createTable('customers', (t) => { t.increments('id'); t.string('name'); });
    await db.db('customers').insert({ name: 'Ada' });
    const before = await db.tables();
    const historyRows = await count(db, 'migration_history');

    const spellings: [string, MigrationEngine][] = [
      ['host "localhost"', makeEngine(ws, { settings: { ...db.settings({ shadowDatabase: db.name }), connection: { ...db.connection(), host: 'localhost' } } })],
      ['a URL', makeEngine(ws, { settings: db.settings({ shadowDatabase: db.name }), database: { client: server.client, connection: urlOf(db) } })],
    ];
    for (const [how, e] of spellings) {
      track(e);
      const refused = new RegExp(`^The shadow database "${db.name}" \\(migrations\\.shadowDatabase\\) is the database these migrations are applied to .*: verify, lint and drift empty their shadow, so it must be another database; set migrations\\.shadowDatabase to an empty database of its own on the same server, or leave it unset to use a temporary one\\.$`);
      await refusedWith(e.verify(), refused, how);
      await refusedWith(e.lint(), refused, how);
      await refusedWith(e.drift(), refused, how);
    }
    assert.deepEqual(await db.tables(), before, 'every table is still there');
    assert.equal(await count(db, 'customers'), 1);
    assert.equal(await count(db, 'migration_history'), historyRows);
  });

  test(`${server.name}: a shadow database holding tables Migration Manager did not make is refused, naming it and its tables`, async () => {
    const [db, other] = [await fresh(server), await fresh(server)];
    await other.db.schema.createTable('invoices', (t) => { t.increments('id'); });
    await other.db('invoices').insert({});
    await other.db.schema.createTable('payments', (t) => { t.increments('id'); });
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
    const e = track(makeEngine(ws, { settings: db.settings({ shadowDatabase: other.name }) }));
    const refused = new RegExp(`^The shadow database "${other.name}" \\(migrations\\.shadowDatabase\\) holds tables Migration Manager did not make \\(invoices, payments\\) and no mm_shadow_marker table: a shadow is emptied before each check, so only an empty database is taken as one; set migrations\\.shadowDatabase to an empty database, or leave it unset to use a temporary one\\.$`);
    await refusedWith(e.verify(), refused);
    await refusedWith(e.drift(), refused);
    assert.deepEqual(await other.tables(), ['invoices', 'payments']);
    assert.equal(await count(other, 'invoices'), 1);
  });

  test(`${server.name}: an empty shadow database is marked on first use, then used again (emptied) by the next checks`, async () => {
    const [db, shadow] = [await fresh(server), await fresh(server)];
    const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, 'versions/migration_002_notes.ts': notes });
    const e = track(makeEngine(ws, { settings: db.settings({ shadowDatabase: shadow.name }) }));
    const first = await e.verify();
    assert.equal(first.shadow, `the shadow database ${shadow.name}`);
    assert.deepEqual(first.migrations.map((m) => m.outcome), ['reversible', 'reversible']);
    assert.ok((await shadow.tables()).includes('mm_shadow_marker'), 'the shadow is marked as ours');
    // What the last check left in it (and anything else) is emptied; the marker stays.
    await shadow.db.schema.createTable('scratch_left', (t) => { t.increments('id'); });
    const second = await e.verify();
    assert.deepEqual(second.migrations.map((m) => m.outcome), ['reversible', 'reversible']);
    assert.equal((await shadow.tables()).includes('scratch_left'), false);
    assert.ok((await shadow.tables()).includes('mm_shadow_marker'));
    assert.equal((await e.lint()).ok, true);
    assert.equal((await e.up()).ok, true);
    const drift = await e.drift();
    assert.deepEqual(drift.changes, [], 'the marker is not part of any schema');
  });
}

function serverKnex(server: Server, database = server.adminDatabase): Knex {
  return createKnex({ client: server.client, connection: { host: server.host, port: server.port, user: server.user, database }, pool: { min: 0, max: 1 } });
}

/** Makes database `name` on `server` as a check would have left it: marked or not, with tables or none. */
async function leftover(server: Server, name: string, opts: { marked?: boolean; tables?: string[] } = {}): Promise<string> {
  const admin = serverKnex(server);
  try {
    await admin.raw(`create database ${name}`);
  } finally {
    await admin.destroy();
  }
  made.push({ server, name });
  const db = serverKnex(server, name);
  try {
    if (opts.marked) await db.raw('create table mm_shadow_marker (note varchar(255))');
    for (const t of opts.tables ?? []) await db.raw(`create table ${t} (id integer)`);
  } finally {
    await db.destroy();
  }
  return name;
}

/** Which of `names` exist on `server`. */
async function existing(server: Server, names: readonly string[]): Promise<string[]> {
  const admin = serverKnex(server);
  try {
    const rows = server.client === 'pg'
      ? (await admin.raw('select datname as name from pg_database')).rows
      : (await admin.raw('select schema_name as name from information_schema.schemata'))[0];
    const all = new Set((rows as { name: string }[]).map((r) => r.name));
    return names.filter((n) => all.has(n));
  } finally {
    await admin.destroy();
  }
}

/** A pid no process has any more (one that has just exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

/** A process that stays alive until the test ends it. */
function liveProcess(): { pid: number; end(): void } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return { pid: child.pid!, end: () => void child.kill('SIGKILL') };
}

const DAY = 24 * 60 * 60_000;

for (const server of SERVERS) {
  test(`${server.name}: each check first drops the temporary shadows of runs that are gone (dead here, or made elsewhere over a day ago), and nothing else`, async () => {
    const db = await fresh(server);
    const live = liveProcess();
    try {
      const dead = deadPid();
      const gone = {
        markedMidCheck: await leftover(server, temporaryName(dead), { marked: true, tables: ['users'] }),
        emptyFromCreate: await leftover(server, temporaryName(dead)),
        elsewhereLongAgo: await leftover(server, temporaryName(4242, { host: 'another-machine', at: new Date(Date.now() - DAY - 60_000) }), { marked: true }),
      };
      const kept = {
        running: await leftover(server, temporaryName(live.pid), { marked: true, tables: ['users'] }),
        elsewhereRecent: await leftover(server, temporaryName(4242, { host: 'another-machine', at: new Date(Date.now() - 60 * 60_000) }), { marked: true }),
        notOurs: await leftover(server, temporaryName(dead), { tables: ['precious'] }),
        // Named by the version before: its machine is unknown, so only `shadows --drop` takes it.
        undated: await leftover(server, `mm_shadow_${dead}_${'cd34'.repeat(3)}`, { tables: ['users'] }),
      };
      const ws = tempWorkspace({ 'versions/migration_001_users.ts': users });
      const e = track(makeEngine(ws, { settings: db.settings() }));
      assert.equal((await e.verify()).ok, true);
      assert.deepEqual(await existing(server, Object.values(gone)), [], 'the shadows of runs that are gone were dropped');
      assert.deepEqual(await existing(server, Object.values(kept)), Object.values(kept), 'a running check\'s shadow, a recent one from elsewhere, an undated one and one holding unmarked tables are left alone');
      // lint and drift share the path.
      const again = await leftover(server, temporaryName(dead), { marked: true });
      assert.equal((await e.drift()).drifted, false);
      assert.deepEqual(await existing(server, [again]), []);
      // The engine's own listing (the library's way to the CLI's `shadows`).
      const listed = (await e.shadows()).shadows.filter((sh) => Object.values(kept).includes(sh.name));
      assert.deepEqual(listed.map((sh) => `${sh.name} ${sh.host} ${sh.run}`).sort(), [
        `${kept.running} this running`, `${kept.elsewhereRecent} other unknown`, `${kept.notOurs} this gone`, `${kept.undated} unknown unknown`,
      ].sort());
    } finally {
      live.end();
    }
  });

  test(`${server.name}: migrations shadows lists the leftover temporary shadows, --drop drops those not running here; usage and exit codes as the other commands`, async () => {
    const db = await fresh(server);
    const live = liveProcess();
    try {
      const dead = deadPid();
      const gone = await leftover(server, temporaryName(dead), { marked: true, tables: ['users'] });
      const elsewhere = await leftover(server, temporaryName(4242, { host: 'another-machine' }), { marked: true });
      const running = await leftover(server, temporaryName(live.pid), { marked: true });
      const notOurs = await leftover(server, temporaryName(dead), { tables: ['precious'] });
      // As the version before names carried machine and time made them (and marked none).
      const undated = await leftover(server, `mm_shadow_${dead}_${'ab12'.repeat(3)}`, { tables: ['users'] });
      const ws = tempWorkspace({ 'versions/migration_001_users.ts': users, '.vscode/settings.json': db.settingsJson() });

      const listed = cli(['shadows', '--dir', ws]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^Temporary shadow databases on /);
      assert.match(listed.stdout, new RegExp(`\\n  ${gone}: made by pid ${dead} on this machine at \\S+; that run is gone\\.`));
      assert.match(listed.stdout, new RegExp(`\\n  ${elsewhere}: made by pid 4242 on another machine at \\S+; whether that run is still going cannot be told from here\\.`));
      assert.match(listed.stdout, new RegExp(`\\n  ${running}: made by pid ${live.pid} on this machine at \\S+; that check is still running\\.`));
      assert.match(listed.stdout, new RegExp(`\\n  ${undated}: made by pid ${dead} \\(named by an earlier version, without its machine\\); whether that run is still going cannot be told from here\\.`));
      const json = JSON.parse(cli(['shadows', '--json', '--dir', ws]).stdout);
      const mine = (report: { shadows: { name: string; run: string }[] }) => report.shadows.filter((s) => [gone, elsewhere, running, notOurs, undated].includes(s.name));
      assert.deepEqual(mine(json).map((s) => `${s.name} ${s.run}`).sort(), [`${gone} gone`, `${elsewhere} unknown`, `${running} running`, `${notOurs} gone`, `${undated} unknown`].sort());
      assert.deepEqual(await existing(server, [gone, elsewhere, running, notOurs, undated]), [gone, elsewhere, running, notOurs, undated], 'listing drops nothing');

      const dropped = cli(['shadows', '--drop', '--dir', ws]);
      assert.equal(dropped.code, 0, dropped.stderr);
      assert.match(dropped.stdout, new RegExp(`^Dropped ${gone}\\.$`, 'm'));
      assert.match(dropped.stdout, new RegExp(`^Dropped ${elsewhere}\\.$`, 'm'));
      assert.match(dropped.stdout, new RegExp(`^Kept ${running}: that check is still running \\(pid ${live.pid} on this machine\\)\\.$`, 'm'));
      assert.match(dropped.stdout, new RegExp(`^Kept ${notOurs}: it holds tables Migration Manager did not make \\(precious\\) and no mm_shadow_marker table\\.$`, 'm'));
      assert.match(dropped.stdout, new RegExp(`^Dropped ${undated}\\.$`, 'm'));
      assert.deepEqual(await existing(server, [gone, elsewhere, running, notOurs, undated]), [running, notOurs]);

      const usage = cli(['shadows', 'all', '--dir', ws]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /shadows takes no arguments/);
      assert.equal(cli(['status', '--drop', '--dir', ws]).code, 2);
      assert.match(cli(['--help']).stdout, /\n  shadows \[--drop\] +list the temporary shadow databases/);
      const onSqlite = cli(['shadows'], { cwd: tempWorkspace({ 'versions/migration_001_users.ts': users }) });
      assert.deepEqual([onSqlite.code, onSqlite.stdout], [0, 'SQLite checks use a database in memory: there are no shadow databases to list.\n']);
    } finally {
      live.end();
    }
  });

  test(`${server.name}: verify SIGKILLed at random points (10 trials) leaves temporary shadows, and the next check drops every one`, { timeout: 240_000 }, async () => {
    const db = await fresh(server);
    const ws = tempWorkspace({ ...migrationFiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), '.vscode/settings.json': db.settingsJson() });
    // Whole runs first (the first fills the transpile cache): the kills fall anywhere in a run as
    // long as the last, from the CLI's start to its end.
    let span = 0;
    for (let run = 0; run < 2; run++) {
      const started = Date.now();
      const whole = await spawnCli(['verify', '--dir', ws]).done;
      assert.equal(whole.code, 0, whole.stderr);
      span = Date.now() - started;
    }
    const killed: number[] = [];
    let leftBehind = 0;
    for (let trial = 0; trial < 10; trial++) {
      const { child, done } = spawnCli(['verify', '--dir', ws]);
      // Every other kill falls at a random point while the shadow exists; the others anywhere.
      const whileShadow = trial % 2 === 1;
      while (whileShadow && child.exitCode === null && (await shadowsOf(server, child.pid!)).length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * (whileShadow ? span / 3 : span)));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // It finished first: nothing was left to kill.
      }
      const end = await done;
      killed.push(child.pid!);
      if (end.signal === 'SIGKILL' && (await shadowsOf(server, child.pid!)).length > 0) leftBehind++;
    }
    assert.ok(leftBehind >= 3, `the trials were killed while their shadow existed (${leftBehind} of 10)`);
    const next = await spawnCli(['verify', '--dir', ws]).done;
    assert.equal(next.code, 0, next.stderr);
    for (const pid of killed) assert.deepEqual(await shadowsOf(server, pid), [], `the shadow of the run killed as pid ${pid} was dropped`);
    assert.deepEqual(await db.tables(), [], 'the real database was never touched');
  });
}

/** The temporary shadows on `server` made by process `pid`. */
async function shadowsOf(server: Server, pid: number): Promise<string[]> {
  const admin = serverKnex(server);
  try {
    const rows = server.client === 'pg'
      ? (await admin.raw('select datname as name from pg_database')).rows
      : (await admin.raw('select schema_name as name from information_schema.schemata'))[0];
    return (rows as { name: string }[]).map((r) => r.name).filter((n) => n.startsWith(`mm_shadow_${pid}_`));
  } finally {
    await admin.destroy();
  }
}
