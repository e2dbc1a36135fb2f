// What the engine's calls mean, as an app calling it would rely on: versions, down()'s targets,
// unknown options, hooks, usage errors and the rename a bad file name is offered.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, Discovery, MigrationsError, type Migration } from '../src/core';
import { cli, DEFAULT_DB, engine as makeEngine, inspect, lockRows, migrationFiles, migrationPath, tempWorkspace, tsMigration, userTables } from './helpers';

// Engines hold their database connections open until closed.
const engines: ReturnType<typeof makeEngine>[] = [];
const engine = (ws: string) => {
  const e = makeEngine(ws);
  engines.push(e);
  return e;
};
after(() => Promise.all(engines.map((e) => e.close())));

const codeMigration = (version: number): Migration => ({ version, description: `v${version}`, up: async () => {}, down: async () => {} });

test('a version is a whole number of 1 or more wherever a migration comes from: 0 and -1 are refused at registration', () => {
  const e = engine(tempWorkspace(migrationFiles([1])));
  for (const version of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => e.registerMigrations('plugin', [codeMigration(version)]), (err: unknown) =>
      err instanceof MigrationsError && err.code === 'config' && /a version is a whole number of 1 or more/.test(err.message));
  }
  assert.doesNotThrow(() => e.registerMigrations('plugin', [codeMigration(1)]));
});

test('registering migrations under a folder source\'s id is refused: the history could not tell them apart', () => {
  const e = engine(tempWorkspace(migrationFiles([1])));
  assert.throws(() => e.registerMigrations('versions', [codeMigration(7)]), (err: unknown) => err instanceof ConfigError && /a folder source already has that id/.test(err.message));
});

test('down() with no target rolls back exactly one; an option it does not take is a usage error, nothing rolled back', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3]));
  const e = engine(ws);
  assert.equal((await e.up()).ok, true);
  for (const bad of [{ version: 3 }, { to: -1 }, { to: 1, all: true }] as object[]) {
    await assert.rejects(e.down(bad as never), (err: unknown) => err instanceof MigrationsError && err.code === 'usage', JSON.stringify(bad));
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2', 't3'], 'a refused call rolled nothing back');
  assert.deepEqual((await e.down()).steps.map((s) => s.version), [3]);
  assert.deepEqual((await e.down({})).steps.map((s) => s.version), [2]);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1']);
});

test('hooks may be async and are awaited; one that throws stops the run cleanly: what ran stays, nothing half-done, no lock left', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3]));
  const e = engine(ws);
  const order: string[] = [];
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  const report = await e.up({
    events: {
      beforeMigration: async (s) => {
        await pause();
        order.push(`before ${s.version}`);
      },
      afterMigration: async (s) => {
        await pause();
        order.push(`after ${s.version}`);
        if (s.version === 2) throw new Error('the app refused');
      },
    },
  });
  assert.deepEqual(order, ['before 1', 'after 1', 'before 2', 'after 2']);
  assert.equal(report.ok, false);
  assert.match(report.error ?? '', /The afterMigration hook failed: the app refused\. The run stopped there/);
  assert.deepEqual(report.steps.map((s) => s.outcome), ['done', 'done', 'not-run']);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['t1', 't2']);
  assert.deepEqual(await lockRows(DEFAULT_DB(ws)), []);
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'applied', 'pending']);
});

test('a request the engine finds ambiguous is a usage error in the CLI too: exit 2 (down --to with two sources)', () => {
  const ws = tempWorkspace({ 'a/versions/migration_001_a.ts': tsMigration(1, 'a'), 'b/versions/migration_001_b.ts': tsMigration(1, 'b') });
  assert.equal(cli(['up', '--dir', ws]).code, 0);
  const r = cli(['down', '--to', '0', '--dir', ws]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /needs a source when there are several \(a\/versions, b\/versions\): pass --source <folder>/);
  const json = cli(['down', '--to', '0', '--json', '--dir', ws]);
  assert.equal(json.code, 2);
  assert.equal(JSON.parse(json.stdout).code, 'usage');
});

test('a bad file name is offered a rename to a free version: its own when free, else the next after the folder\'s', () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2, 3, 4]), 'versions/migration_2_Add-Things.ts': 'x', 'versions/migration_9_Other Thing.ts': 'x' });
  const messages = new Discovery(ws).discover()[0].problems.map((p) => `${path.basename(p.file)}: ${p.message}`).sort();
  assert.match(messages[0], /^migration_2_Add-Things\.ts: .*Rename it, e\.g\. "migration_005_add_things\.ts"/);
  assert.match(messages[1], /^migration_9_Other Thing\.ts: .*Rename it, e\.g\. "migration_009_other_thing\.ts"/);
});

test('an invalid source blocks only itself: the others run, and the run says which was left out (CLI exit 1)', async () => {
  const files = {
    'a/versions/migration_001_a.ts': tsMigration(1, 'a'),
    'b/versions/migration_001_b.ts': tsMigration(1, 'b'),
    'b/versions/migration_002_b2.ts': 'export class Broken {',
  };
  const ws = tempWorkspace(files);
  const report = await engine(ws).up();
  assert.equal(report.ok, false);
  assert.deepEqual(report.steps.map((s) => `${s.source} ${s.version} ${s.outcome}`), ['a/versions 1 done', 'b/versions 1 not-run', 'b/versions 2 not-run']);
  assert.match(report.error ?? '', /^Not run: b\/versions \(1 problem to fix first: .*migration_002_b2\.ts:1 /);
  assert.deepEqual(report.problems?.map((p) => p.code), ['syntax-error']);
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['a']);

  const cliWs = tempWorkspace(files);
  const r = cli(['up', '--dir', cliWs]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /ok {3}up {3}a\/versions 001/);
  assert.match(r.stdout, /Not run: b\/versions/);
  assert.deepEqual(await userTables(DEFAULT_DB(cliWs)), ['a']);
});

test('a moved versions folder is offered as a rename, not shown all pending; rename-source moves its history, nothing runs', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up()).ok, true);
  fs.mkdirSync(path.join(ws, 'db'));
  fs.renameSync(path.join(ws, 'versions'), path.join(ws, 'db', 'versions'));

  const moved = (await engine(ws).status()).sources;
  assert.deepEqual(moved.map((s) => s.id), ['db/versions']);
  assert.deepEqual(moved[0].problems.map((p) => [p.code, p.severity]), [['moved-source', 'warning']]);
  assert.match(moved[0].problems[0].message, /match the applied history of "versions".*rename-source versions db\/versions/);

  // Refused: the old id is not history-only, or a file here is another migration (checksum and description differ).
  await assert.rejects(engine(ws).renameSource('db/versions', 'db/versions'), (err: unknown) => err instanceof MigrationsError && err.code === 'usage');
  const edited = path.join(ws, 'db', migrationPath(2));
  const text = fs.readFileSync(edited, 'utf8');
  fs.writeFileSync(edited, text.replace("'create t2'", "'create t2 again'"));
  await assert.rejects(engine(ws).renameSource('versions', 'db/versions'), /Migration 2 in "db\/versions" differs from the one "versions" applied \(its checksum and its description\)/);
  fs.writeFileSync(edited, text);

  const r = cli(['rename-source', 'versions', 'db/versions', '--dir', ws]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Moved the history of versions to db\/versions: migration\(s\) 1, 2 are applied there\. Nothing was run\./);
  const after = await engine(ws).status();
  assert.deepEqual(after.sources[0].migrations.map((m) => m.status), ['applied', 'applied']);
  assert.deepEqual(after.sources[0].problems, []);
  assert.deepEqual((await engine(ws).up()).steps, [], 'nothing to apply again');
  assert.deepEqual(await userTables(db), ['t1', 't2']);
  assert.equal(cli(['rename-source', 'versions', '--dir', ws]).code, 2, 'one argument is a usage error');
});

/** A data migration: applying it twice doubles its rows (the table is made only if missing). */
const seedFiles = (dir: string) => ({
  [`${dir}/migration_001_create_items.ts`]: tsMigration(1, 'items', { up: "await knex.raw('create table if not exists items (id integer primary key, v text)');" }),
  [`${dir}/migration_002_seed_items.ts`]: tsMigration(2, 'seed', { up: "await knex('items').insert({ v: 'seed' });", down: "await knex('items').del();" }),
});
const itemRows = (db: string) => inspect(db, async (k) => (await k('items').count('* as n'))[0].n);
const historyRows = (db: string) => inspect(db, (k) => k('migration_history').select('*').orderBy('id'));

test('a moved folder is never applied again: up refuses naming both sources and rename-source, also with a file edited; nothing run, nothing recorded', async () => {
  const ws = tempWorkspace(seedFiles('versions'));
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up()).ok, true);
  fs.mkdirSync(path.join(ws, 'db'));
  fs.renameSync(path.join(ws, 'versions'), path.join(ws, 'db', 'versions'));
  const rows = await historyRows(db);

  const refused = (err: unknown) => err instanceof MigrationsError && err.code === 'moved-source' &&
    /^Nothing was run: migration\(s\) 1, 2 of db\/versions match migrations that "versions" applied .*Move that history here \(move it with renameSource\("versions", "db\/versions"\)\), or if they are other migrations, pass notMoved: true to up\(\)\.$/.test(err.message);
  await assert.rejects(engine(ws).up(), refused);
  await assert.rejects(engine(ws).up({ source: 'db/versions' }), refused, 'a --source filter does not hide the old history');
  const r = cli(['up', '--dir', ws]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: Nothing was run: migration\(s\) 1, 2 of db\/versions match .*\(run "migrations rename-source versions db\/versions"\), or if they are other migrations, pass --not-moved\.\n$/);

  // One file edited as well: still the same migrations (same versions and descriptions), still refused, and status says so.
  fs.appendFileSync(path.join(ws, 'db', 'versions', 'migration_002_seed_items.ts'), '// reviewed\n');
  await assert.rejects(engine(ws).up(), refused);
  const status = (await engine(ws).status()).sources;
  assert.deepEqual(status.map((s) => [s.id, s.movedFrom, s.problems.map((p) => p.code)]), [['db/versions', 'versions', ['moved-source']]]);
  assert.equal(cli(['up', '--dir', ws]).code, 1);
  assert.equal(await itemRows(db), 1, 'the seed ran once');
  assert.deepEqual(await historyRows(db), rows, 'nothing recorded');
  assert.deepEqual(await lockRows(db), []);

  // The advice works: the history moves, the edited file shows as modified, nothing runs again.
  const moved = cli(['rename-source', 'versions', 'db/versions', '--dir', ws]);
  assert.equal(moved.code, 0, moved.stdout + moved.stderr);
  assert.deepEqual((await engine(ws).status()).sources[0].migrations.map((m) => m.status), ['applied', 'modified']);
  assert.deepEqual((await engine(ws).up()).steps, []);
  assert.equal(await itemRows(db), 1);
});

test('a moved folder with a new migration and one file left behind: status warns, up refuses the matching ones; --not-moved applies them', async () => {
  const ws = tempWorkspace(seedFiles('versions'));
  const db = DEFAULT_DB(ws);
  assert.equal((await engine(ws).up()).ok, true);
  fs.mkdirSync(path.join(ws, 'db', 'versions'), { recursive: true });
  // Only migration 2 moves (1 is deleted), and a new 3 is added there.
  fs.renameSync(path.join(ws, 'versions', 'migration_002_seed_items.ts'), path.join(ws, 'db', 'versions', 'migration_002_seed_items.ts'));
  fs.rmSync(path.join(ws, 'versions'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'db', 'versions', 'migration_003_create_t3.ts'), tsMigration(3, 't3'));

  const [source] = (await engine(ws).status()).sources;
  assert.equal(source.movedFrom, undefined, 'not the whole history: no rename offered');
  assert.deepEqual(source.problems.map((p) => p.code), ['moved-source']);
  assert.match(source.problems[0].message, /^Migration\(s\) 2 here match applied migrations of "versions"/);
  await assert.rejects(engine(ws).up(), /Nothing was run: migration\(s\) 2 of db\/versions match migrations that "versions" applied/);

  assert.equal(cli(['status', '--not-moved', '--dir', ws]).code, 2, '--not-moved goes with up only');
  const r = cli(['up', '--not-moved', '--dir', ws]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual((await engine(ws).status()).sources[0].migrations.map((m) => [m.version, m.status]), [[2, 'applied'], [3, 'applied']]);
  assert.deepEqual((await engine(ws).status()).sources[0].problems, []);
  assert.equal(await itemRows(db), 2, 'applied again, as asked');
});

test('migrations registered in code (rows without a checksum) are never taken for a moved folder', async () => {
  const ws = tempWorkspace(migrationFiles([1]));
  const app = engine(ws);
  app.registerMigrations('plugin', [{ version: 1, description: 'create t1', up: async () => {}, down: async () => {} }]);
  assert.equal((await app.up({ source: 'plugin' })).ok, true);
  const report = await engine(ws).up();
  assert.deepEqual(report.steps.map((s) => [s.source, s.version, s.outcome]), [['versions', 1, 'done']]);
});

test('mark-applied --to V records every pending migration up to V in one step (a baseline): nothing run, none left out of order', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3, 4]));
  const db = DEFAULT_DB(ws);
  const e = engine(ws);
  assert.deepEqual(await e.markAppliedUpTo({ to: 3 }), { source: 'versions', to: 3, versions: [1, 2, 3] });
  assert.deepEqual(await userTables(db), [], 'nothing was run');
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'applied', 'applied', 'pending']);
  assert.deepEqual((await e.history()).map((r) => [r.version, r.direction, r.success, r.manual]), [[1, 'up', true, true], [2, 'up', true, true], [3, 'up', true, true]]);
  assert.deepEqual(await e.markAppliedUpTo({ to: 3 }), { source: 'versions', to: 3, versions: [] }, 'already: nothing recorded');
  assert.deepEqual((await e.up()).steps.map((s) => s.version), [4]);
  await assert.rejects(e.markAppliedUpTo({ to: 0 }), (err: unknown) => err instanceof MigrationsError && err.code === 'usage');
  await assert.rejects(e.markAppliedUpTo({ to: 9 }), (err: unknown) => err instanceof MigrationsError && err.code === 'usage' && /There is no migration 9 in versions/.test(err.message));

  const cliWs = tempWorkspace(migrationFiles([1, 2, 3]));
  const r = cli(['mark-applied', '--to', '2', '--dir', cliWs]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'Migrations 1, 2 (versions) are now recorded as applied. Nothing was run.\n');
  assert.equal(cli(['mark-applied', '--to', '2', '--dir', cliWs]).stdout, 'Every migration up to 2 in versions is already applied; nothing was recorded.\n');
  assert.deepEqual(JSON.parse(cli(['mark-applied', '--to', '3', '--json', '--dir', cliWs]).stdout), { source: 'versions', to: 3, versions: [3] });
  assert.deepEqual(await userTables(DEFAULT_DB(cliWs)), []);
  assert.equal(cli(['mark-applied', '2', '--to', '3', '--dir', cliWs]).code, 2, 'a version and --to together');
  assert.equal(cli(['mark-applied', '--to', '9', '--dir', cliWs]).code, 2, 'no migration 9');
});

test('mark-applied --to: several sources need one named; a failed migration in the range is refused, naming it; nothing recorded', async () => {
  const ws = tempWorkspace({ 'a/versions/migration_001_a.ts': tsMigration(1, 'a'), 'b/versions/migration_001_b.ts': tsMigration(1, 'b') });
  const several = cli(['mark-applied', '--to', '1', '--dir', ws]);
  assert.equal(several.code, 2);
  assert.match(several.stderr, /needs a source when there are several \(a\/versions, b\/versions\): pass --source <folder>/);
  assert.deepEqual(await engine(ws).markAppliedUpTo({ to: 1, source: 'b/versions' }), { source: 'b/versions', to: 1, versions: [1] });

  const failing = tempWorkspace(migrationFiles([1, 2, 3], { 2: { up: "throw new Error('boom');" } }));
  const e = engine(failing);
  assert.equal((await e.up()).ok, false);
  await assert.rejects(e.markAppliedUpTo({ to: 3 }), /Migration 2 \(versions\) is failed, so nothing was recorded: .*record migration 2 \(versions\) as applied on its own/);
  assert.deepEqual((await e.status()).sources[0].migrations.map((m) => m.status), ['applied', 'failed', 'pending']);
});
