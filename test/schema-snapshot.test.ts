// Where the schema snapshot lands, and that one database's snapshot never silently replaces another's.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, tempWorkspace, tsMigration } from './helpers';

test('with two sources the snapshot of the whole database is the workspace root\'s schema.sql, naming its database; not the first source\'s folder', () => {
  const ws = tempWorkspace({
    'plugins/billing/versions/migration_001_invoices.ts': tsMigration(1, 'invoices'),
    'versions/migration_001_users.ts': tsMigration(1, 'users'),
  });
  const up = cli(['up'], { cwd: ws });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(fs.existsSync(path.join(ws, 'plugins', 'billing', 'schema.sql')), false);
  const text = fs.readFileSync(path.join(ws, 'schema.sql'), 'utf8');
  assert.match(text, /^-- Schema dumped by Migration Manager \(SQLite\)\. .*\n-- Database: sqlite \.migrations\/dev\.sqlite3\n\nCREATE TABLE invoices/);
  const again = cli(['schema'], { cwd: ws });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /-- Unchanged: schema\.sql$/m);
});

test('another database\'s schema is not written over the snapshot: schema refuses and says what to do, a run warns and leaves it', () => {
  const ws = tempWorkspace({ 'versions/migration_001_users.ts': tsMigration(1, 'users') });
  assert.equal(cli(['up'], { cwd: ws }).code, 0);
  const file = path.join(ws, 'schema.sql');
  const before = fs.readFileSync(file, 'utf8');
  const other = ['--db', 'other.sqlite3'];
  const refused = cli(['schema', ...other], { cwd: ws });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /schema\.sql is the schema snapshot of sqlite \.migrations\/dev\.sqlite3, not of sqlite other\.sqlite3: it was not replaced\. Set migrations\.schemaFile to a file for this database .*, or delete schema\.sql to start it over\./);
  const run = cli(['up', ...other], { cwd: ws });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /The schema snapshot .*schema\.sql was not written: .*not of sqlite other\.sqlite3/);
  assert.equal(fs.readFileSync(file, 'utf8'), before, 'the first database\'s snapshot is intact');
});
