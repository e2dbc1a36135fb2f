// `migrations generate`: a declared schema (or the database's drift) to a proved migration file, on
// real SQLite files, PostgreSQL and MariaDB, through the CLI a user types and the engine.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli';
import { loadProjectConfig } from '../src/core';
import { cli, DEFAULT_DB, engine, inspect, sqliteKnex, tempWorkspace, TEMPLATES, tsMigration } from './helpers';
import { freshDatabase, SERVERS, TestDatabase, type Server } from './servers';

const users = tsMigration(1, 'users', {
  up: "await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email', 255).notNullable(); t.string('nick', 40); });",
  down: "await knex.schema.dropTable('users');",
});

/** A declared schema file: `users` with the columns given (as defineSchema code). */
function schemaFile(columns: string, more = ''): string {
  return `import { defineSchema, increments, string, integer, text } from 'migration-manager';
export default defineSchema({ tables: { users: { columns: { id: increments(), email: string(255).notNullable(), ${columns} } }${more} } });
`;
}

// The templates named: the CLI run in this process (cliAsked) is not the built one beside them.
const CONFIG = `export default { sources: [{ id: 'app', dir: 'versions', schema: 'db/schema.ts' }], settings: { templatesDir: ${JSON.stringify(TEMPLATES)} } };\n`;

function workspace(columns: string, more = ''): string {
  return tempWorkspace({ 'migrations.config.ts': CONFIG, 'versions/migration_001_users.ts': users, 'db/schema.ts': schemaFile(columns, more) });
}

const files = (ws: string) => fs.readdirSync(path.join(ws, 'versions')).sort();
const sum = (ws: string) => fs.readFileSync(path.join(ws, 'versions', 'migrations.sum'), 'utf8');

/** The CLI in this process, its questions answered by `answers` in order (a terminal's person). */
async function cliAsked(args: readonly string[], answers: string[]): Promise<{ code: number; out: string; asked: string[] }> {
  let out = '';
  const sink = new Writable({ write: (chunk, _e, done) => ((out += chunk), done()) });
  const asked: string[] = [];
  const code = await main(args, { out: sink, err: sink, cwd: process.cwd(), ask: async (q) => (asked.push(q), answers.shift() ?? '') });
  return { code, out, asked };
}

test('generate writes the next migration from the declared schema, proved on a shadow; applied, the database is the declared schema; again, nothing to generate', async () => {
  const ws = workspace("nick: string(40), bio: text(), score: integer().notNullable().defaultTo(0)", ", posts: { columns: { id: increments(), user_id: integer().notNullable().references('users.id').onDelete('cascade'), title: string(120) }, indexes: [{ columns: ['title'] }] }");
  const r = cli(['generate', 'profile and posts', '--dir', ws]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Created versions[/\\]migration_002_profile_and_posts\.ts/);
  assert.match(r.stdout, /verify: reversible/);
  assert.match(r.stdout, /added table posts/);
  const text = fs.readFileSync(path.join(ws, 'versions', 'migration_002_profile_and_posts.ts'), 'utf8');
  assert.match(text, /readonly version = 2;/);
  assert.match(text, /createTable\('posts'/);
  assert.match(text, /dropTable\('posts'\)/);
  // The sum lists the file as written (with its generated body), so up is not blocked.
  assert.match(sum(ws), /migration_002_profile_and_posts\.ts/);
  assert.equal(cli(['up', '--dir', ws]).code, 0);
  const columns = await inspect(DEFAULT_DB(ws), async (db) => (await db.raw("select name from pragma_table_info('users')")).map((c: { name: string }) => c.name));
  assert.deepEqual(columns, ['id', 'email', 'nick', 'bio', 'score']);
  const again = cli(['generate', 'nothing', '--dir', ws]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), 'The schema matches the migrations.');
  assert.deepEqual(files(ws), ['migration_001_users.ts', 'migration_002_profile_and_posts.ts', 'migrations.sum']);
  // Rolled back by its own down(): users as migration 001 made it, posts gone.
  assert.equal(cli(['down', '--dir', ws]).code, 0);
  const back = await inspect(DEFAULT_DB(ws), async (db) => ({
    columns: (await db.raw("select name from pragma_table_info('users')")).map((c: { name: string }) => c.name),
    posts: (await db.raw("select count(*) as n from sqlite_master where name = 'posts'"))[0].n,
  }));
  assert.deepEqual(back, { columns: ['id', 'email', 'nick'], posts: 0 });
});

test('a dropped column is refused without --allow-destructive (nothing written, sum unchanged) and written with it', () => {
  const ws = workspace('');
  cli(['rehash', '--dir', ws]);
  const before = sum(ws);
  const refused = cli(['generate', 'drop nick', '--dir', ws, '--rename', 'users.nick=']);
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(refused.stderr, /dropping column users\.nick may lose data/);
  assert.match(refused.stderr, /pass --allow-destructive/);
  assert.deepEqual(files(ws), ['migration_001_users.ts', 'migrations.sum']);
  assert.equal(sum(ws), before);
  const written = cli(['generate', 'drop nick', '--dir', ws, '--allow-destructive']);
  assert.equal(written.code, 0, written.stderr);
  assert.match(fs.readFileSync(path.join(ws, 'versions', 'migration_002_drop_nick.ts'), 'utf8'), /dropColumn\('nick'\)/);
  // Proved and written; lint's finding printed for review.
  assert.match(written.stdout, /verify: reversible/);
});

test('a column that looks renamed is asked about: in a terminal (yes: renameColumn; no: drop and add), else --rename answers', async () => {
  const ws = workspace('nickname: string(40)');
  // No terminal: nothing written, the question and the flags that answer it named.
  const piped = cli(['generate', 'rename nick', '--dir', ws]);
  assert.equal(piped.code, 2);
  assert.match(piped.stderr, /was users\.nick renamed to users\.nickname\?/);
  assert.match(piped.stderr, /--rename users\.nick=users\.nickname/);
  assert.deepEqual(files(ws), ['migration_001_users.ts']);
  // Answered "y" in the terminal: a rename (and lint says what a rename does to a running app).
  const yes = await cliAsked(['generate', 'rename nick', '--dir', ws], ['y']);
  assert.deepEqual(yes.asked, ['was users.nick renamed to users.nickname? [y/N] ']);
  assert.match(yes.out, /Created/);
  const renamed = fs.readFileSync(path.join(ws, 'versions', 'migration_002_rename_nick.ts'), 'utf8');
  assert.match(renamed, /renameColumn\('nick', 'nickname'\)/);
  assert.match(renamed, /renameColumn\('nickname', 'nick'\)/);
  // Answered "n": drop and add, destructive, so refused without --allow-destructive.
  const ws2 = workspace('nickname: string(40)');
  const no = await cliAsked(['generate', 'rename nick', '--dir', ws2], ['n']);
  assert.equal(no.code, 2, no.out);
  assert.match(no.out, /dropping column users\.nick may lose data/);
  const flagged = cli(['generate', 'rename nick', '--dir', ws2, '--rename', 'users.nick=users.nickname']);
  assert.equal(flagged.code, 0, flagged.stderr);
  assert.match(flagged.stdout, /error \[rename-column\]/);
  assert.ok(fs.existsSync(path.join(ws2, 'versions', 'migration_002_rename_nick.ts')));
});

test('what generate cannot write is refused with the reason, and a declared schema that is wrong is named', () => {
  const ws = workspace("nick: string(40), code: integer().primary()");
  const r = cli(['generate', 'two keys', '--dir', ws]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /primary key/i);
  assert.deepEqual(files(ws), ['migration_001_users.ts']);
  const missing = tempWorkspace({ 'migrations.config.ts': CONFIG, 'versions/migration_001_users.ts': users });
  const none = cli(['generate', 'x', '--dir', missing]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /db[/\\]schema\.ts: no such file/);
  const undeclared = tempWorkspace({ 'versions/migration_001_users.ts': users });
  assert.match(cli(['generate', 'x', '--dir', undeclared]).stderr, /declares no schema: add schema: 'db\/schema\.ts'/);
  const broken = tempWorkspace({ 'migrations.config.ts': CONFIG, 'versions/migration_001_users.ts': users, 'db/schema.ts': "import { defineSchema } from 'migration-manager';\nexport default defineSchema({ tables: { users: { columns: { id: 3 } } } ) );\n" });
  assert.match(cli(['generate', 'x', '--dir', broken]).stderr, /db[/\\]schema\.ts:2/);
  const outside = tempWorkspace({ 'migrations.config.ts': "export default { sources: [{ id: 'app', dir: 'versions', schema: '../schema.ts' }] };\n", 'versions/migration_001_users.ts': users });
  assert.match(cli(['generate', 'x', '--dir', outside]).stderr, /sources\[0\]\.schema must be a file inside the workspace/);
});

test('--from-database: a column added by hand becomes a migration recorded as applied; drift is clean, and a fresh database gets it from the migrations alone', async () => {
  const ws = workspace('nick: string(40)');
  assert.equal(cli(['up', '--dir', ws]).code, 0);
  const knex = sqliteKnex(DEFAULT_DB(ws));
  await knex.schema.alterTable('users', (t) => { t.integer('karma').notNullable().defaultTo(0); t.index(['karma']); });
  await knex.destroy();
  assert.equal(cli(['drift', '--dir', ws]).code, 1);
  const r = cli(['generate', 'karma by hand', '--from-database', '--dir', ws]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /recorded as applied/);
  const drift = cli(['drift', '--dir', ws]);
  assert.equal(drift.code, 0, drift.stdout);
  const status = JSON.parse(cli(['status', '--json', '--dir', ws]).stdout);
  assert.deepEqual(status.sources[0].migrations.map((m: { version: number; status: string }) => [m.version, m.status]), [[1, 'applied'], [2, 'applied']]);
  const fresh = path.join(ws, 'fresh.sqlite3');
  assert.equal(cli(['up', '--dir', ws, '--db', fresh]).code, 0);
  const columns = await inspect(fresh, async (db) => (await db.raw("select name from pragma_table_info('users')")).map((c: { name: string }) => c.name));
  assert.deepEqual(columns, ['id', 'email', 'nick', 'karma']);
  // Nothing changed by hand since: nothing to generate.
  assert.equal(cli(['generate', 'again', '--from-database', '--dir', ws]).stdout.trim(), 'The database matches the migrations.');
});

test('--from-database refuses while migrations are pending (what differs would not be only the hand-made change)', () => {
  const ws = workspace('nick: string(40)');
  const r = cli(['generate', 'x', '--from-database', '--dir', ws]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /1 pending migration\(s\) \(1 of app\): apply them first/);
});

const databases: TestDatabase[] = [];
after(() => Promise.all(databases.map((d) => d.drop())));

for (const server of SERVERS) {
  test(`${server.name}: generate from the declared schema and --from-database, through the engine; the real database as the shadow refused`, async () => {
    const db = await fresh(server);
    const ws = workspace("nick: string(40), score: integer().notNullable().defaultTo(0)");
    // The real database named as the shadow: refused before anything is replayed or written.
    const real = engine(ws, { settings: db.settings({ shadowDatabase: db.name }), project: loadProjectConfig(ws) });
    try {
      await assert.rejects(real.generate({ description: 'score' }), /is the database these migrations are applied to/);
      await assert.rejects(real.generate({ description: 'score', fromDatabase: true }), /is the database these migrations are applied to/);
    } finally {
      await real.close();
    }
    assert.deepEqual(files(ws), ['migration_001_users.ts']);
    assert.deepEqual(await db.tables(), []);
    const e = engine(ws, { settings: db.settings(), project: loadProjectConfig(ws) });
    try {
      const report = await e.generate({ description: 'score' });
      assert.equal(report.verify?.outcome, 'reversible', report.message);
      assert.deepEqual(report.changes, ['added column users.score']);
      assert.ok((await e.up()).ok);
      assert.deepEqual((await db.columns('users')).sort(), ['email', 'id', 'nick', 'score']);
      await db.db.schema.alterTable('users', (t) => t.string('city', 80));
      const byHand = await e.generate({ description: 'city by hand', fromDatabase: true });
      assert.equal(byHand.recorded, true, byHand.message);
      assert.equal((await e.drift()).drifted, false);
    } finally {
      await e.close();
    }
  });
}

const fresh = (server: Server): Promise<TestDatabase> => freshDatabase(server, databases);

test('a generated file that does not prove out is never written: a broken template (wrong version) leaves no file, no staged copy and the sum as it was; a staged copy a crash left is not a migration', () => {
  const ws = workspace('nick: string(40), bio: text()');
  const templates = path.join(ws, 'templates');
  fs.mkdirSync(templates);
  for (const f of fs.readdirSync(TEMPLATES)) fs.writeFileSync(path.join(templates, f), fs.readFileSync(path.join(TEMPLATES, f), 'utf8').replace('readonly version = {{version}};', 'readonly version = 999;'));
  fs.writeFileSync(path.join(ws, 'migrations.config.ts'), "export default { sources: [{ id: 'app', dir: 'versions', schema: 'db/schema.ts' }], settings: { templatesDir: 'templates' } };\n");
  cli(['rehash', '--dir', ws]);
  const before = sum(ws);
  const r = cli(['generate', 'add bio', '--dir', ws]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /generated from the template .* is not a valid migration, so nothing was written: line \d+: The migration declares version 999 but the file name says 2/);
  assert.deepEqual(files(ws), ['migration_001_users.ts', 'migrations.sum']);
  assert.equal(sum(ws), before);
  // What a generate killed mid-proof leaves (its staged copy) is no migration: not listed, not run.
  fs.writeFileSync(path.join(ws, 'versions', '.generating.migration_002_add_bio.ts'), tsMigration(2, 'staged'));
  const status = JSON.parse(cli(['status', '--json', '--dir', ws]).stdout);
  assert.deepEqual(status.sources[0].migrations.map((m: { version: number }) => m.version), [1]);
});
