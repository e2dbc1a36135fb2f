import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RunReport } from '../../../src/core';
import type { DatabaseChoice } from '../../../src/extension/commands/selectDatabase';
import { api, dbFile, folder, modelShows, states, statuses, step, tables, waitFor, workspacePath } from './helpers';

const select = (choice: DatabaseChoice) => step(`Select Database ${JSON.stringify({ ...choice, password: undefined })}`, vscode.commands.executeCommand<string>('migrations.selectDatabase', undefined, choice));
const settingsText = () => fs.readFileSync(workspacePath('.vscode', 'settings.json'), 'utf8');

/** A root connection to the machine's MariaDB, or undefined when none runs on loopback. */
async function mariadbAdmin(): Promise<import('mysql2/promise').Connection | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  try {
    return await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', connectTimeout: 2000 });
  } catch {
    return undefined;
  }
}

suite('Select Database', () => {
  suiteTeardown(async () => {
    const config = vscode.workspace.getConfiguration('migrations', folder().uri);
    for (const key of ['client', 'database', 'connection']) await config.update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
  });

  test('a SQLite file chosen by Select Database is where the next run writes; back to the default after', async () => {
    const { model } = await api();
    const other = workspacePath('db', 'other.sqlite3');
    const before = JSON.stringify(statuses(model));
    assert.equal(await select({ client: 'sqlite', database: 'db/other.sqlite3' }), `sqlite ${other}`);
    assert.match(settingsText(), /"migrations\.database":\s*"db\/other\.sqlite3"/);
    await modelShows(model, 'nothing applied in the new file', () => [...states(model).values()].every((s) => !s.applied));
    const report = await step('Apply All Pending', vscode.commands.executeCommand<RunReport>('migrations.applyAll'));
    assert.equal(report?.ok, true, report?.error);
    assert.ok((await tables(other)).includes('chat_users'), 'the run did not write to the selected file');

    assert.equal(await select({ client: 'sqlite' }), `sqlite ${dbFile()}`);
    assert.doesNotMatch(settingsText(), /other\.sqlite3/);
    await modelShows(model, `the default file's statuses again (${before})`, () => JSON.stringify(statuses(model)) === before);
  });

  test('a choice with a key Select Database does not take is refused, and the settings stay as they were', async () => {
    const config = () => vscode.workspace.getConfiguration('migrations', folder().uri);
    await config().update('database', 'kept.sqlite3', vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      // "databse": a typo that guessing would have taken as a choice with no file, resetting the setting.
      const result = await vscode.commands.executeCommand('migrations.selectDatabase', undefined, { client: 'sqlite', databse: 'other.sqlite3' });
      assert.equal(result, undefined, 'the command refused the argument');
      assert.equal(config().get('database'), 'kept.sqlite3');
    } finally {
      await config().update('database', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
  });

  test('a MariaDB password is kept in secret storage, never in settings, and is what connects', async function () {
    const admin = await mariadbAdmin();
    if (!admin) return this.skip();
    const { model } = await api();
    const suffix = randomBytes(4).toString('hex');
    const [user, database, password] = [`mm_secret_${suffix}`, `mm_select_${suffix}`, `pw-${randomBytes(9).toString('hex')}`];
    const folderState = () => model.states.find((f) => f.folder === folder());
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
      await admin.query(`GRANT ALL ON ${database}.* TO '${user}'@'%'`);
      const connection = { host: '127.0.0.1', port: 3306, user, database };

      const label = await select({ client: 'mysql2', connection, password });
      assert.equal(label, `mysql2 ${user}@127.0.0.1:3306/${database}`);
      const report = await waitFor('a status read from MariaDB', () => (folderState()?.report?.database === label ? folderState()!.report : undefined));
      assert.ok(report.sources.some((s) => s.migrations.length > 0), 'no migrations listed');
      assert.ok(!settingsText().includes(password), 'the password was written to settings.json');
      assert.match(settingsText(), new RegExp(user));

      // Forgetting the password: the server refuses, and the message names the user, never the password.
      await select({ client: 'mysql2', connection, password: '' });
      const error = await waitFor('the server to refuse the connection', () => folderState()?.error);
      assert.match(error, /Access denied for user '?mm_secret_/);
      assert.ok(!error.includes(password), 'the password appears in the error');
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
      await select({ client: 'sqlite' });
    }
  });
});
