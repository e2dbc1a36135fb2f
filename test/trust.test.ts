import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { settingsFrom } from '../src/core';
import { DEFAULT_DB, engine, migrationFiles, tempWorkspace, userTables } from './helpers';

/**
 * A workspace whose node_modules holds "drivers" that write a marker when loaded: were any of
 * them required, workspace code would have run in this process. The database file exists with
 * one table, so a status really opens it.
 */
function hostileWorkspace(): { workspace: string; marker: string } {
  const workspace = tempWorkspace(migrationFiles([1, 2]));
  const marker = path.join(workspace, 'workspace-code-ran.txt');
  for (const driver of ['sqlite3', 'better-sqlite3']) {
    fs.mkdirSync(path.join(workspace, 'node_modules', driver), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'node_modules', driver, 'index.js'),
      `require('node:fs').appendFileSync(${JSON.stringify(marker)}, '${driver} loaded in pid ' + process.pid + '\\n'); module.exports = {};\n`);
  }
  fs.mkdirSync(path.dirname(DEFAULT_DB(workspace)), { recursive: true });
  const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
  const db = new DatabaseSync(DEFAULT_DB(workspace));
  db.exec('create table customers (id integer primary key)');
  db.close();
  return { workspace, marker };
}

const ran = (marker: string) => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '');

for (const client of ['sqlite3', 'better-sqlite3'] as const) {
  test(`untrusted, with migrations.client "${client}": status reads through the built-in driver and loads nothing from the workspace`, async () => {
    const { workspace, marker } = hostileWorkspace();
    const mm = engine(workspace, { settings: settingsFrom({ 'migrations.client': client }), untrusted: true });
    const report = await mm.status();
    assert.equal(ran(marker), '', 'a module under the workspace was loaded');
    assert.deepEqual(report.sources[0].migrations.map((m) => `${m.version} ${m.status}`), ['1 pending', '2 pending']);
    assert.match(report.database, new RegExp(`^${client} .*built-in SQLite: the workspace is not trusted`));
  });
}

test('untrusted: every operation that executes workspace code is refused before loading anything, and the database is untouched', async () => {
  const { workspace, marker } = hostileWorkspace();
  const mm = engine(workspace, { settings: settingsFrom({ 'migrations.client': 'better-sqlite3' }), untrusted: true });
  const refusals: [string, () => Promise<unknown>][] = [
    ['up', () => mm.up()], ['down', () => mm.down()], ['redo', () => mm.redo()], ['sql', () => mm.sql('up')],
    ['validate', () => mm.validate()], ['verify', () => mm.verify()], ['lint', () => mm.lint()], ['drift', () => mm.drift()],
    ['loadProblems', () => mm.loadProblems(mm.sources()[0].migrations)],
  ];
  for (const [name, call] of refusals) {
    await assert.rejects(call(), /this workspace is not trusted: trust it/, name);
  }
  assert.equal(ran(marker), '');
  assert.deepEqual(await userTables(DEFAULT_DB(workspace)), ['customers']);
});

test('untrusted: a knexfile (code) is refused by the engine itself, not only by the editor', () => {
  const workspace = tempWorkspace({ ...migrationFiles([1]), 'knexfile.js': "require('node:fs').writeFileSync(__dirname + '/ran', 'x'); module.exports = {};" });
  assert.throws(() => engine(workspace, { settings: settingsFrom({ 'migrations.knexfile': 'knexfile.js' }), untrusted: true }), /knexfile \(knexfile\.js\), which is code: trust this workspace/);
  assert.equal(fs.existsSync(path.join(workspace, 'ran')), false);
});
