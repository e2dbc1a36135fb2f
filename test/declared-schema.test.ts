// The declared schema and the migration generator as pure rules: what a declaration reads as on
// each database, what the generator refuses and why, renames, and the generated migration file.
// (That the code really makes the schema is generate-roundtrip.test.ts's proof on the real databases.)
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lib from '../src/lib';
import { declaredModel, DeclaredSchemaError } from '../src/core/database/generate/declaredSchema';
import { fillMigrationBodies, generateMigration, type GenerateResult } from '../src/core/database/generate/migrationCode';
import { TEMPLATES } from './helpers';

const { defineSchema, increments, string, integer, decimal, boolean, timestamp, enu, text, json } = lib;

const shop = defineSchema({
  tables: {
    teams: { columns: { id: increments(), name: string(100).notNullable().unique() } },
    users: {
      columns: {
        id: increments(),
        email: string().notNullable().unique(),
        score: decimal(10, 2).defaultTo(1.5),
        active: boolean().defaultTo(true),
        created_at: timestamp().defaultToNow(),
        team_id: integer().unsigned().references('teams.id').onDelete('cascade'),
      },
      indexes: [{ columns: ['active', 'score'] }],
    },
  },
});

const refusals = (result: GenerateResult) => (result.ok ? [] : result.refusals.map((r) => r.reason));

test('a declared schema reads as each database reports it: types, defaults, knex index names, MySQL\'s foreign key index', () => {
  const users = (dialect: 'sqlite' | 'pg' | 'mysql') => declaredModel(shop, dialect).tables.find((t) => t.name === 'users')!;
  assert.deepEqual(users('sqlite').columns.map((c) => [c.name, c.type, c.nullable, c.default]), [
    ['id', 'integer', false, null], ['email', 'varchar(255)', false, null], ['score', 'float', true, "'1.5'"],
    ['active', 'boolean', true, "'1'"], ['created_at', 'datetime', true, 'CURRENT_TIMESTAMP'], ['team_id', 'integer', true, null],
  ]);
  assert.deepEqual(users('pg').columns.map((c) => [c.type, c.default]), [
    ['integer', null], ['varchar(255)', null], ['numeric(10,2)', '1.5'], ['boolean', 'true'], ['timestamptz', 'CURRENT_TIMESTAMP'], ['integer', null],
  ]);
  assert.deepEqual(users('mysql').columns.map((c) => [c.type, c.default]), [
    ['int(10) unsigned', null], ['varchar(255)', null], ['decimal(10,2)', '1.50'], ['tinyint(1)', '1'], ['timestamp', 'current_timestamp()'], ['int(10) unsigned', null],
  ]);
  assert.deepEqual(users('pg').primaryKey, ['id']);
  assert.deepEqual(users('pg').indexes.map((i) => i.name), ['users_active_score_index', 'users_email_unique']);
  assert.deepEqual(users('mysql').indexes.map((i) => i.name), ['users_active_score_index', 'users_email_unique', 'users_team_id_foreign']);
  assert.deepEqual(users('pg').foreignKeys, [{ columns: ['team_id'], table: 'teams', references: ['id'], onDelete: 'cascade', onUpdate: 'no action' }]);
  assert.equal(users('mysql').foreignKeys[0].onUpdate, 'restrict');
});

test('a declaration wrong everywhere is refused when declared, one wrong on a database when read for it, naming table and column', () => {
  assert.throws(() => defineSchema({ tables: { a: { columns: { id: increments(), b: integer().references('nowhere.id') }, indexes: [{ columns: ['c'] }] } } }), (err: Error) => {
    assert.ok(err instanceof DeclaredSchemaError);
    assert.match(err.message, /column a\.b references table nowhere, which the schema does not declare/);
    assert.match(err.message, /table a: index \(c\) names column c, which is not declared/);
    return true;
  });
  assert.throws(() => defineSchema({ tables: { a: { columns: { n: integer().defaultTo('five' as never) } } } }), /column a\.n: a integer column defaults to a plain number, not "five"/);
  assert.throws(() => defineSchema({ tables: { a: { columns: { x: integer().index('same') } }, b: { columns: { y: integer().index('same') } } } }), /index name same is used twice/);
  assert.throws(() => defineSchema({ tables: { a: { columns: { quoted: enu(["it's"]) } } } }), /column a\.quoted: knex does not escape a quote or backslash in an enum value/);
  const kinds = defineSchema({ tables: { a: { columns: { state: enu(['on', 'off']), body: text().defaultTo('x') } } } });
  assert.throws(() => declaredModel(kinds, 'sqlite'), /cannot be made on SQLite:[\s\S]*column a\.state: knex makes an enum a text column with a CHECK constraint/);
  assert.throws(() => declaredModel(kinds, 'mysql'), /cannot be made on MySQL\/MariaDB:\n {2}- column a\.body: knex leaves out a text column's default on MySQL\/MariaDB$/);
  assert.throws(() => declaredModel(defineSchema({ tables: { a: { columns: { doc: json().index() } } } }), 'mysql'), /column a\.doc: MySQL\/MariaDB cannot index a longtext column/);
});

test('the generated code creates referenced tables first and drops them last, and says every foreign key rule', () => {
  const model = declaredModel(shop, 'pg');
  const result = generateMigration({ tables: [] }, model, { dialect: 'pg' });
  assert.ok(result.ok, refusals(result).join('\n'));
  assert.ok(result.up.indexOf("createTable('teams'") < result.up.indexOf("createTable('users'"), result.up);
  assert.match(result.up, /t\.decimal\('score', 10, 2\)\.defaultTo\(1\.5\);/);
  assert.match(result.up, /t\.timestamp\('created_at', \{ useTz: true \}\)\.defaultTo\(knex\.fn\.now\(\)\);/);
  assert.match(result.up, /t\.foreign\(\['team_id'\], 'users_team_id_foreign'\)\.references\(\['id'\]\)\.inTable\('teams'\)\.onDelete\('CASCADE'\)\.onUpdate\('NO ACTION'\);/);
  assert.equal(result.down, "await knex.schema.dropTable('users');\nawait knex.schema.dropTable('teams');");
  assert.deepEqual(generateMigration(model, model, { dialect: 'pg' }), { ok: true, up: '', down: '', changes: [], destructive: [] });
});

test('a dropped column is refused without leave, naming it; with leave it is written and its down() adds it back as it was', () => {
  const before = declaredModel(shop, 'pg');
  const after = declaredModel(defineSchema({ tables: { ...shop.tables, teams: { columns: { id: increments() } } } }), 'pg');
  const refused = generateMigration(before, after, { dialect: 'pg' });
  assert.equal(refused.ok, false);
  assert.deepEqual(!refused.ok && refused.refusals.map((r) => [r.table, r.column, r.destructive]), [['teams', 'name', true]]);
  assert.match(refusals(refused)[0], /dropping column teams\.name may lose data: it is written only when destructive changes are allowed/);
  const allowed = generateMigration(before, after, { dialect: 'pg', allowDestructive: true });
  assert.ok(allowed.ok);
  assert.deepEqual(allowed.destructive, ['dropping column teams.name']);
  assert.equal(allowed.up, "await knex.schema.alterTable('teams', (t) => {\n  t.dropUnique(['name'], 'teams_name_unique');\n});\nawait knex.schema.alterTable('teams', (t) => {\n  t.dropColumn('name');\n});");
  assert.equal(allowed.down, "await knex.schema.alterTable('teams', (t) => {\n  t.string('name', 100).notNullable();\n});\nawait knex.schema.alterTable('teams', (t) => {\n  t.unique(['name'], { indexName: 'teams_name_unique' });\n});");
  // SQLite could not add the NOT NULL column back in down(): refused even with leave.
  const onSqlite = generateMigration(declaredModel(shop, 'sqlite'), declaredModel(defineSchema({ tables: { ...shop.tables, teams: { columns: { id: increments() } } } }), 'sqlite'), { dialect: 'sqlite', allowDestructive: true });
  assert.deepEqual(refusals(onSqlite), ['dropping column teams.name cannot be undone on SQLite: down() would add the NOT NULL column back without a default, which SQLite refuses; make it nullable or give it a default first']);
});

test('a rename given is a renameColumn (RENAME COLUMN on MySQL) both ways; without it the same change is a drop and an add', () => {
  const before = declaredModel(defineSchema({ tables: { users: { columns: { id: increments(), nick: string(40) } } } }), 'pg');
  const after = declaredModel(defineSchema({ tables: { users: { columns: { id: increments(), nickname: string(60) } } } }), 'pg');
  const renamed = generateMigration(before, after, { dialect: 'pg', renames: { 'users.nick': 'users.nickname' } });
  assert.ok(renamed.ok, refusals(renamed).join('\n'));
  assert.match(renamed.up, /^await knex\.schema\.alterTable\('users', \(t\) => \{\n {2}t\.renameColumn\('nick', 'nickname'\);\n\}\);\nawait knex\.schema\.alterTable\('users', \(t\) => \{\n {2}t\.string\('nickname', 60\)\.nullable\(\)\.alter\(\);/);
  assert.match(renamed.down, /t\.string\('nickname', 40\)\.nullable\(\)\.alter\(\);[\s\S]*t\.renameColumn\('nickname', 'nick'\);\n\}\);$/);
  assert.deepEqual(refusals(generateMigration(before, after, { dialect: 'pg' })), ['dropping column users.nick may lose data: it is written only when destructive changes are allowed']);
  const mysqlBefore = declaredModel(defineSchema({ tables: { users: { columns: { id: increments(), nick: string(40) } } } }), 'mysql');
  const mysqlAfter = declaredModel(defineSchema({ tables: { users: { columns: { id: increments(), nickname: string(40) } } } }), 'mysql');
  const onMysql = generateMigration(mysqlBefore, mysqlAfter, { dialect: 'mysql', renames: { 'users.nick': 'users.nickname' } });
  assert.ok(onMysql.ok);
  assert.equal(onMysql.up, "await knex.raw('alter table ?? rename column ?? to ??', ['users', 'nick', 'nickname']);");
  assert.deepEqual(refusals(generateMigration(before, after, { dialect: 'pg', renames: { 'users.nick': 'users.handle' } })), [
    'rename users.nick → users.handle: users has no column handle after the change',
    'dropping column users.nick may lose data: it is written only when destructive changes are allowed',
  ]);
});

test('what cannot round-trip is refused with the reason: a narrowing without leave, a change of type family, the primary key, an unknown type', () => {
  const model = (columns: Record<string, lib.Column>, primaryKey?: string[]) => declaredModel(defineSchema({ tables: { t: { columns, ...(primaryKey ? { primaryKey } : {}) } } }), 'pg');
  assert.deepEqual(refusals(generateMigration(model({ a: string(100) }), model({ a: string(20) }), { dialect: 'pg' })), ['narrowing column t.a (varchar(100) → varchar(20)) may lose data: it is written only when destructive changes are allowed']);
  assert.ok(generateMigration(model({ a: string(20) }), model({ a: string(100) }), { dialect: 'pg' }).ok, 'a wider string is not destructive');
  assert.deepEqual(refusals(generateMigration(model({ a: json() }), model({ a: integer() }), { dialect: 'pg' })), ['column t.a changes type from json to integer, which needs a data conversion: write that step by hand']);
  assert.deepEqual(refusals(generateMigration(model({ a: integer().notNullable(), b: integer().notNullable() }, ['a']), model({ a: integer().notNullable(), b: integer().notNullable() }, ['a', 'b']), { dialect: 'pg' })), ['the primary key of t changes (a → a, b): write that step by hand']);
  const odd = { tables: [{ name: 't', columns: [{ name: 'shape', type: 'point', nullable: true, default: null }], primaryKey: [], indexes: [], foreignKeys: [] }] };
  assert.deepEqual(refusals(generateMigration({ tables: [] }, odd, { dialect: 'pg' })), ["column t.shape has type point, which no knex column type makes on PostgreSQL (knex's specificType() is not generated)"]);
  const sqliteBefore = declaredModel(defineSchema({ tables: { t: { columns: { id: increments() } } } }), 'sqlite');
  const sqliteAfter = declaredModel(defineSchema({ tables: { t: { columns: { id: increments(), n: integer().notNullable() } } } }), 'sqlite');
  assert.deepEqual(refusals(generateMigration(sqliteBefore, sqliteAfter, { dialect: 'sqlite' })), ['SQLite cannot add the NOT NULL column t.n without a default to an existing table: give it a default, or make it nullable first']);
});

test('the generated bodies go into every shipped template in place of its up() and down() comments', () => {
  const result = generateMigration({ tables: [] }, declaredModel(shop, 'sqlite'), { dialect: 'sqlite' });
  assert.ok(result.ok);
  for (const name of fs.readdirSync(TEMPLATES)) {
    const filled = fillMigrationBodies(fs.readFileSync(path.join(TEMPLATES, name), 'utf8'), result);
    assert.ok(filled, `${name} has up() and down() methods`);
    assert.doesNotMatch(filled, /e\.g\. await knex|Undo exactly/, name);
    assert.match(filled, /async up\(knex[^)]*\)[^{]*\{\n {4}await knex\.schema\.createTable\('teams', \(t\) => \{\n {6}t\.increments\('id'\);/, name);
    assert.match(filled, /async down\(knex[^)]*\)[^{]*\{\n {4}await knex\.schema\.dropTable\('users'\);\n {4}await knex\.schema\.dropTable\('teams'\);\n {2}\}/, name);
  }
  assert.equal(fillMigrationBodies('export const up = 1;', result), undefined);
});
