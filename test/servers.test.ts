// The engine and CLI against real PostgreSQL and MariaDB servers on loopback. Each test gets a
// database of its own (mm_test_<pid>_<random>), dropped at the end. A server that does not
// answer makes its tests SKIPPED, never passed.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LockBusyError, type HistoryRow, type MigrationEngine, type Settings } from '../src/core';
import { checksumOf } from '../src/core/model/checksum';
import { cli, engine as makeEngine, migrationFiles, migrationPath, sampleWorkspace, tempWorkspace, tsMigration, until } from './helpers';
import { gatedMigration, letThrough, probe, SERVERS, spawnCli, TestDatabase } from './servers';

const SAMPLE_TABLES = ['chat_messages', 'chat_users'];
const BOOKKEEPING = ['migration_history', 'migration_lock'];

for (const server of SERVERS) {
  describe(server.name, () => {
    let reachable: Promise<string | undefined> | undefined;
    const databases: TestDatabase[] = [];
    const engines: MigrationEngine[] = [];
    after(async () => {
      await Promise.all(engines.map((e) => e.close()));
      await Promise.all(databases.map((d) => d.drop()));
    });

    const gates: string[] = [];
    /** A workspace whose migration 1 waits for letThrough(ws, 1), which the test's end does at the latest. */
    const gatedWorkspace = (files: Record<string, string> = {}): string => {
      const ws = tempWorkspace({ ...migrationFiles([2]), ...files });
      fs.writeFileSync(path.join(ws, migrationPath(1)), gatedMigration(1, 't1', ws));
      gates.push(ws);
      return ws;
    };

    /** A test on a fresh database of its own; skipped (with the reason) when the server is absent. */
    const serverTest = (name: string, fn: (db: TestDatabase) => Promise<void>) =>
      test(name, async (t) => {
        const why = await (reachable ??= probe(server));
        if (why) return t.skip(why);
        const db = await TestDatabase.create(server);
        databases.push(db);
        try {
          await fn(db);
        } finally {
          for (const ws of gates.splice(0)) letThrough(ws, 1);
        }
      });

    /** An engine on `db`; its log lines go to `log`. */
    const engine = (ws: string, db: TestDatabase, extra: Partial<Settings> = {}, log: string[] = [], runner?: string): MigrationEngine => {
      const line = (level: string) => (m: string) => void log.push(`${level}: ${m}`);
      const e = makeEngine(ws, { settings: db.settings(extra), runner, logger: { info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug') } });
      engines.push(e);
      return e;
    };

    serverTest('status, history and lockHolder on an empty database create nothing', async (db) => {
      const e = engine(sampleWorkspace(), db);
      const report = await e.status();
      assert.deepEqual(report.sources[0].migrations.map((m) => [m.version, m.status]), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
      assert.equal(report.lock, undefined);
      assert.match(report.database, new RegExp(`^${server.client} ${server.user}@127\\.0\\.0\\.1:${server.port}/${db.name}$`));
      assert.deepEqual(await e.history(), []);
      assert.equal(await e.lockHolder(), undefined);
      assert.deepEqual(await db.tables(), []);
    });

    serverTest('the sample: up all, status, down --to, redo, down --all; history rows typed and well formed', async (db) => {
      const ws = sampleWorkspace();
      const e = engine(ws, db);
      const t0 = Date.now();

      const up = await e.up();
      assert.deepEqual(up.steps.map((s) => [s.version, s.outcome]), [[1, 'done'], [2, 'done'], [3, 'done']], up.error);
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);
      assert.deepEqual(await db.columns('chat_users'), ['created_at', 'id', 'is_spammer', 'metadata', 'telegram_id', 'username']);
      const status = await e.status();
      assert.deepEqual(status.sources[0].migrations.map((m) => [m.version, m.status, m.applied]), [[1, 'applied', true], [2, 'applied', true], [3, 'applied', true]]);
      assert.equal(status.lock, undefined);

      const to1 = await e.down({ to: 1 });
      assert.deepEqual(to1.steps.map((s) => [s.version, s.direction, s.outcome]), [[3, 'down', 'done'], [2, 'down', 'done']]);
      assert.deepEqual(await db.columns('chat_users'), ['created_at', 'id', 'telegram_id', 'username']);
      assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'pending', 'pending']);

      const redo = await e.redo();
      assert.deepEqual(redo.steps.map((s) => [s.version, s.direction, s.outcome]), [[1, 'down', 'done'], [1, 'up', 'done']]);
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);

      const all = await e.down({ all: true });
      assert.deepEqual(all.steps.map((s) => [s.version, s.direction]), [[1, 'down']]);
      assert.deepEqual(await db.tables(), BOOKKEEPING);
      assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['pending', 'pending', 'pending']);

      const rows = await e.history();
      assert.deepEqual(rows.map((r) => [r.version, r.direction, r.success]), [
        [1, 'up', true], [2, 'up', true], [3, 'up', true], [3, 'down', true], [2, 'down', true], [1, 'down', true], [1, 'up', true], [1, 'down', true],
      ]);
      assertRowsWellFormed(ws, rows, t0, Date.now());
      assert.deepEqual(await db.lockRows(), []);
      assert.deepEqual(await db.nativeLockHolders(), []);
    });

    serverTest(server.client === 'pg'
      ? 'a failure mid-batch is rolled back whole (transactional DDL); fixing the file and running up again finishes it'
      : 'a failure mid-batch after DDL is failed-partial (implicit commit): refused until repaired by hand and forgotten', async (db) => {
      const throwing = { up: `await knex.schema.createTable('t2', (t) => { t.increments('id'); }); await knex('t1').insert({}); throw new Error('second fails');` };
      const ws = tempWorkspace(migrationFiles([1, 2, 3], { 2: throwing }));
      const e = engine(ws, db);
      const report = await e.up();
      assert.equal(report.ok, false);
      assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'failed', 'not-run']);
      const rows = await e.history();
      assert.deepEqual(rows.map((r) => [r.version, r.direction, r.success]), [[1, 'up', true], [2, 'up', false]]);
      assert.equal(rows[1].error, report.error);
      assert.deepEqual(await db.lockRows(), []);
      const t1Rows = async () => Number((await db.db('t1').count({ n: '*' }))[0].n);
      const statuses = async () => (await e.status()).sources[0].migrations.map((m) => m.status);
      if (server.client === 'pg') {
        // CREATE TABLE t2 and the row inserted into t1 went with the rolled-back transaction.
        assert.match(report.error ?? '', /^Migration 2 \(versions\) failed during up\(\): second fails\. Its changes were rolled back/);
        assert.equal(rows[1].partial, false);
        assert.deepEqual(await statuses(), ['applied', 'failed', 'pending']);
        assert.deepEqual(await db.tables(), [...BOOKKEEPING, 't1']);
        assert.equal(await t1Rows(), 0);
      } else {
        // CREATE TABLE t2 committed the transaction, and the insert after it ran in autocommit:
        // both stay, the history says so, and nothing more runs until it is repaired.
        assert.match(report.error ?? '', /^Migration 2 \(versions\) failed during up\(\) after changing the schema: second fails\. MySQL\/MariaDB commits schema changes immediately, so they were NOT rolled back/);
        assert.match(report.error ?? '', /Statements that ran before the failure:\n {2}create table `t2` .*;\n {2}insert into `t1` .*;$/);
        assert.equal(rows[1].partial, true);
        assert.deepEqual(await statuses(), ['applied', 'failed-partial', 'pending']);
        assert.deepEqual(await db.tables(), [...BOOKKEEPING, 't1', 't2']);
        assert.equal(await t1Rows(), 1);
        await assert.rejects(e.up(), /Migration 2 \(versions\) is failed-partial: .* so nothing was run\. .*record migration 2 \(versions\) as not applied/);
        assert.equal((await e.history()).length, 2);
        // The repair the message asks for: undo what ran, then forget the attempt.
        await db.db.schema.dropTable('t2');
        await db.db('t1').del();
        await e.forget({ version: 2 });
        assert.deepEqual(await statuses(), ['applied', 'pending', 'pending']);
      }
      fs.writeFileSync(path.join(ws, migrationPath(2)), tsMigration(2, 't2'));
      const again = await e.up();
      assert.deepEqual(again.steps.map((s) => [s.version, s.outcome]), [[2, 'done'], [3, 'done']], again.error);
      assert.deepEqual(await db.tables(), [...BOOKKEEPING, 't1', 't2', 't3']);
      assert.deepEqual(await statuses(), ['applied', 'applied', 'applied']);
    });

    serverTest(server.client === 'pg' ? 'dry run (sql) shows the SQL and changes nothing' : 'dry run (sql) is refused with the reason', async (db) => {
      const ws = sampleWorkspace();
      const e = engine(ws, db);
      if (server.client === 'mysql2') {
        await assert.rejects(e.sql('up'), /A dry run is not available on MySQL\/MariaDB: it commits schema changes immediately/);
        assert.deepEqual(await db.tables(), []);
        return;
      }
      const fresh = await e.sql('up');
      assert.deepEqual(fresh.steps.map((s) => s.step.version), [1, 2, 3]);
      assert.ok(fresh.steps[0].sql.some((q) => /^create table "chat_users"/.test(q)), fresh.steps[0].sql.join('\n'));
      assert.deepEqual(await db.tables(), [], 'a dry run on an empty database created tables');

      await e.up({ to: 1 });
      const historyBefore = await e.history();
      const pending = await e.sql('up');
      assert.deepEqual(pending.steps.map((s) => s.step.version), [2, 3]);
      assert.ok(pending.steps[0].sql.some((q) => /alter table "chat_users" add column "is_spammer" boolean/.test(q)), pending.steps[0].sql.join('\n'));
      const down = await e.sql('down');
      assert.ok(down.steps[0].sql.some((q) => /drop table "chat_messages"/.test(q)), down.steps[0].sql.join('\n'));
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);
      assert.deepEqual(await db.columns('chat_users'), ['created_at', 'id', 'telegram_id', 'username']);
      assert.deepEqual(await e.history(), historyBefore);
      assert.deepEqual(await db.lockRows(), []);
    });

    serverTest('two engines: one waits, one gives up naming the holder; other databases are not blocked; all released after', async (db) => {
      const ws = gatedWorkspace();
      const holder = engine(ws, db, {}, [], 'editor');
      const holding = holder.up();
      await until('the first run to hold the lock', () => fs.existsSync(path.join(ws, 'started-1')));

      const waiter = engine(ws, db, { lockTimeoutMs: 30_000 });
      const waiting = waiter.up();
      const busy = engine(ws, db, { lockTimeoutMs: 300 });
      const lock = (await busy.status()).lock;
      assert.match(lock?.holder ?? '', /^editor /);
      assert.equal(lock?.pid, process.pid);
      const started = Date.now();
      await assert.rejects(busy.up(), (err: unknown) =>
        err instanceof LockBusyError && err.message.includes(`${lock!.holder} (pid ${process.pid} on `) && /server has already freed its lock/.test(err.message));
      assert.ok(Date.now() - started >= 300, 'gave up before lockTimeoutMs');
      await assert.rejects(busy.unlock(true), /frees it by itself as soon as that process ends or its connection closes/);
      assert.equal((await db.nativeLockHolders()).length, 1);

      // The lock is per database: the same migrations run on another one meanwhile.
      const other = await TestDatabase.create(server);
      databases.push(other);
      const elsewhere = await engine(tempWorkspace(migrationFiles([1, 2])), other).up();
      assert.deepEqual(elsewhere.steps.map((s) => s.outcome), ['done', 'done'], elsewhere.error);

      letThrough(ws, 1);
      const [held, waited] = await Promise.all([holding, waiting]);
      assert.deepEqual(held.steps.map((s) => [s.version, s.outcome]), [[1, 'done'], [2, 'done']], held.error);
      // It waited, then found the plan done by the holder: nothing applied twice.
      assert.deepEqual(waited, { ok: true, steps: [] });
      assert.deepEqual((await busy.history()).map((r) => [r.version, r.success]), [[1, true], [2, true]]);
      assert.equal(await busy.lockHolder(), undefined);
      assert.deepEqual(await db.lockRows(), []);
      assert.deepEqual(await db.nativeLockHolders(), []);
    });

    serverTest('a CLI holder killed with SIGKILL: the server frees its lock, the next run replaces its row and goes on', async (db) => {
      const ws = gatedWorkspace({ '.vscode/settings.json': db.settingsJson({ 'migrations.lockTimeoutMs': 300 }) });
      const { child, done } = spawnCli(['up', '--dir', ws, '--json']);
      try {
        await until('the CLI to hold the lock', () => fs.existsSync(path.join(ws, 'started-1')));
        // The lock is held by the CLI's runner thread, in the CLI's own process (it wrote its pid).
        const runner = Number(fs.readFileSync(path.join(ws, 'started-1'), 'utf8'));
        assert.equal(runner, child.pid);
        const e = engine(ws, db, { lockTimeoutMs: 10_000 }, []);
        assert.equal((await e.lockHolder())?.pid, runner);

        const second = cli(['up', '--dir', ws, '--json']);
        assert.equal(second.code, 1, second.stderr);
        const error = JSON.parse(second.stdout).error as string;
        assert.match(error, new RegExp(`^The database is locked by cli \\S+ \\(pid ${runner} on \\S+\\)`));

        // The CLI, as a crash would.
        process.kill(-child.pid!, 'SIGKILL');
        assert.equal((await done).signal, 'SIGKILL');
        await until('the server to free the dead connection\'s lock', async () => (await db.nativeLockHolders()).length === 0);
        // Its row is still there, but no longer a lock.
        assert.deepEqual((await db.lockRows()).map((r) => Number(r.pid)), [runner]);
        assert.equal((await e.status()).lock, undefined);

        letThrough(ws, 1);
        const log: string[] = [];
        const next = engine(ws, db, { lockTimeoutMs: 10_000 }, log);
        const report = await next.up();
        assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), [[1, 'done'], [2, 'done']], report.error);
        assert.ok(log.some((l) => l.startsWith('warn: Replacing the lock row left by cli ') && l.includes(`pid ${runner} `)), log.join('\n'));
        assert.deepEqual((await next.history()).map((r) => [r.version, r.success]), [[1, true], [2, true]]);
        assert.deepEqual(await db.lockRows(), []);
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      }
    });

    serverTest('the lock\'s connection ended by the server mid-run: the run stops before the next migration', async (db) => {
      const ws = gatedWorkspace();
      const e = engine(ws, db);
      const running = e.up();
      await until('the run to hold the lock', () => fs.existsSync(path.join(ws, 'started-1')));
      const [session] = await db.nativeLockHolders();
      await db.db.raw(server.client === 'pg' ? 'select pg_terminate_backend(?)' : 'kill ?', [session]);
      letThrough(ws, 1);
      await assert.rejects(running, /^MigrationsError: The database connection holding the migration lock was lost, so the server freed the lock; stopped before the next migration/);
      assert.deepEqual((await e.history()).map((r) => [r.version, r.success]), [[1, true]]);
      assert.deepEqual(await db.lockRows(), []);
      assert.deepEqual(await db.nativeLockHolders(), []);
      assert.deepEqual((await e.up()).steps.map((s) => [s.version, s.outcome]), [[2, 'done']]);
    });

    serverTest('a leftover row (holder gone) is removed by unlock without --force', async (db) => {
      const ws = tempWorkspace(migrationFiles([1]));
      const e = engine(ws, db);
      await e.up();
      assert.equal(await e.unlock(false), undefined);
      await db.db('migration_lock').insert({ id: 1, holder: 'cli gone@elsewhere', host: 'elsewhere', pid: 4242, acquired_at: new Date().toISOString(), heartbeat: new Date().toISOString(), token: '999:x' });
      assert.equal(await e.lockHolder(), undefined);
      assert.equal((await e.unlock(false))?.holder, 'cli gone@elsewhere');
      assert.deepEqual(await db.lockRows(), []);
    });

    serverTest('an existing knexfile (environment "staging", pool of one connection) is used as is', async (db) => {
      const ws = sampleWorkspace();
      const knexClient = server.client === 'pg' ? 'postgresql' : 'mysql';
      fs.writeFileSync(path.join(ws, 'knexfile.js'), `module.exports = {
  development: { client: 'sqlite3', connection: { filename: './wrong.sqlite3' } },
  staging: { client: '${knexClient}', connection: ${JSON.stringify(db.connection())}, pool: { min: 0, max: 1 } },
};\n`);
      fs.mkdirSync(path.join(ws, '.vscode'));
      fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'migrations.knexfile': 'knexfile.js', 'migrations.environment': 'staging' }));
      const e = makeEngine(ws);
      engines.push(e);
      assert.equal(e.databaseLabel, `${server.client} (knexfile staging)`);
      const report = await e.up();
      assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'done', 'done'], report.error);
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);
      assert.deepEqual((await e.down({ all: true })).steps.map((s) => s.version), [3, 2, 1]);
      assert.deepEqual(await db.tables(), BOOKKEEPING);
      assert.equal(fs.existsSync(path.join(ws, 'wrong.sqlite3')), false);
    });

    serverTest('the CLI end to end as a user whose password comes from the variable named by passwordEnv, never shown', async (db) => {
      const secret = `pw-${randomBytes(8).toString('hex')}`;
      const user = await db.createUser(secret);
      const ws = sampleWorkspace();
      const settings = (database: string) => db.settingsJson({ 'migrations.connection': { ...db.connection(), user, database }, 'migrations.passwordEnv': 'MM_TEST_DB_SECRET' });
      fs.mkdirSync(path.join(ws, '.vscode'));
      fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), settings(db.name));
      const outputs: string[] = [];
      const run = (args: string[], password: string | undefined, code = 0) => {
        const r = cli([...args, '--dir', ws, '--json'], { env: { MM_TEST_DB_SECRET: password } });
        outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
        return JSON.parse(r.stdout);
      };

      if (server.client === 'mysql2') {
        // PostgreSQL here trusts loopback, so only MariaDB can show a missing or wrong password refused.
        assert.match(run(['up'], undefined, 1).error, new RegExp(`Access denied for user '${user}'@'[^']+' \\(using password: NO\\)`));
        assert.match(run(['status'], 'not-the-password', 1).error, /Access denied .*\(using password: YES\)/);
        assert.match(run(['sql', 'up'], secret, 1).error, /A dry run is not available on MySQL\/MariaDB/);
      }
      const up = run(['up'], secret);
      assert.deepEqual(up.steps.map((s: { outcome: string }) => s.outcome), ['done', 'done', 'done']);
      const status = run(['status'], secret);
      assert.equal(status.database, `${server.client} ${user}@127.0.0.1:${server.port}/${db.name}`);
      assert.deepEqual(status.sources[0].migrations.map((m: { status: string }) => m.status), ['applied', 'applied', 'applied']);
      assert.equal(run(['history'], secret).length, 3);
      assert.deepEqual(run(['unlock'], secret), { released: null });
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);
      assert.deepEqual(run(['down', '--all'], secret).steps.map((s: { version: number }) => s.version), [3, 2, 1]);
      assert.deepEqual(await db.tables(), BOOKKEEPING);

      // A connection error names the database, never the password.
      fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), settings(`${db.name}_absent`));
      assert.match(run(['status'], secret, 1).error, new RegExp(`${db.name}_absent`));
      for (const text of outputs) assert.ok(!text.includes(secret), `the password leaked:\n${text}`);
      const stored = JSON.stringify([await db.db('migration_history').select('*'), await db.lockRows()]);
      assert.ok(!stored.includes(secret));
    });

    serverTest('a server URL in --db or DATABASE_URL connects there; its password is never shown nor stored', async (db) => {
      const secret = `UrlPw-${randomBytes(4).toString('hex')}-SECRET`;
      const user = await db.createUser(secret);
      const [first, second] = server.client === 'pg' ? ['postgres', 'postgresql'] : ['mysql', 'mariadb'];
      const url = (scheme: string, password = secret) => `${scheme}://${user}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${db.name}`;
      const ws = sampleWorkspace();
      const outputs: string[] = [];
      const run = (args: string[], env: Record<string, string> = {}, code = 0) => {
        const r = cli([...args, '--json'], { cwd: ws, env: { DATABASE_URL: '', ...env } });
        outputs.push(r.stdout, r.stderr);
        assert.equal(r.code, code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
        return JSON.parse(r.stdout);
      };
      const label = `${server.client} ${user}@127.0.0.1:${server.port}/${db.name}`;

      const up = run(['up', '--db', url(first)]);
      assert.deepEqual(up.steps.map((s: { outcome: string }) => s.outcome), ['done', 'done', 'done']);
      assert.deepEqual(await db.tables(), [...SAMPLE_TABLES, ...BOOKKEEPING]);
      assert.deepEqual(fs.readdirSync(ws).sort(), ['schema.sql', 'versions'], 'no SQLite file named after the URL');
      // DATABASE_URL, when nothing else names a database.
      const status = run(['status'], { DATABASE_URL: url(second) });
      assert.equal(status.database, label);
      assert.deepEqual(status.sources[0].migrations.map((m: { status: string }) => m.status), ['applied', 'applied', 'applied']);
      assert.equal(run(['history'], { DATABASE_URL: url(second) }).length, 3);
      if (server.client === 'mysql2') {
        // PostgreSQL here trusts loopback, so only MariaDB can show a wrong password refused.
        assert.match(run(['status', '--db', url(first, 'not-the-password')], {}, 1).error, /Access denied .*\(using password: YES\)/);
      }
      // Settings that name a database win over DATABASE_URL.
      fs.mkdirSync(path.join(ws, '.vscode'));
      fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'migrations.database': 'local.sqlite3' }));
      assert.equal(run(['status'], { DATABASE_URL: url(second) }).database, `sqlite ${path.join(ws, 'local.sqlite3')}`);
      assert.deepEqual(run(['down', '--all', '--db', url(second)]).steps.map((s: { version: number }) => s.version), [3, 2, 1]);
      assert.deepEqual(await db.tables(), BOOKKEEPING);

      for (const text of outputs) assert.ok(!text.includes(secret) && !text.includes(encodeURIComponent(secret)), `the password leaked:\n${text}`);
      const stored = JSON.stringify([await db.db('migration_history').select('*'), await db.lockRows()]);
      assert.ok(!stored.includes(secret));
    });
  });
}

/** Every field of the right type (no bigint strings, no 0/1 booleans) with sane values. */
function assertRowsWellFormed(ws: string, rows: readonly HistoryRow[], from: number, to: number): void {
  const files = new Map(fs.readdirSync(path.join(ws, 'versions')).map((f) => [Number(f.split('_')[1]), path.join(ws, 'versions', f)]));
  for (const r of rows) {
    assert.equal(typeof r.id, 'number');
    assert.equal(typeof r.version, 'number');
    assert.equal(r.source, 'versions');
    assert.equal(r.success, true);
    assert.equal(r.transactional, true);
    assert.equal(r.error, null);
    assert.equal(r.checksum, checksumOf(fs.readFileSync(files.get(r.version)!, 'utf8')));
    assert.ok(Number.isInteger(r.durationMs) && r.durationMs >= 0, `duration ${r.durationMs}`);
    const started = Date.parse(r.startedAt);
    const finished = Date.parse(r.finishedAt);
    assert.ok(started >= from && started <= finished && finished <= to, `timestamps ${r.startedAt} .. ${r.finishedAt}`);
  }
  assert.deepEqual(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort((a, b) => a - b));
}
