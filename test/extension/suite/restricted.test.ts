import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import type { Problem } from '../../../src/core';
import { api, config, dbFile, EXTENSION_ID, modelShows, states, statuses, tables, waitFor } from './helpers';

suite('Restricted mode (untrusted workspace)', () => {
  const { marker } = config();

  test('the folder is untrusted and the extension still activates', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this launch must leave Workspace Trust on and the folder untrusted');
    await waitFor('the extension to activate on its own', () => vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
  });

  test('activation, refresh, diagnostics and Validate list the migrations without running any', async () => {
    const { model } = await api();
    await model.refresh();
    assert.deepEqual(statuses(model), { 1: 'pending', 2: 'pending', 3: 'pending', 4: 'pending' });
    assert.equal(states(model).get(4)?.path?.endsWith('migration_004_writes_marker.ts'), true);
    // The label comes from the description literal, read statically: the module never ran.
    assert.equal(states(model).get(4)?.description, 'Writes a marker file');
    const problems = await vscode.commands.executeCommand<Problem[]>('migrations.validate');
    assert.ok(Array.isArray(problems), 'Validate (static checks) returned nothing');
    assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
    assert.equal(fs.existsSync(marker), false, `the migration's code ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
  });

  test('Apply All Pending refuses: no code runs and the database gets no table', async () => {
    const { model } = await api();
    const report = await vscode.commands.executeCommand('migrations.applyAll');
    assert.equal(report, undefined, `applyAll ran in restricted mode: ${JSON.stringify(report)}`);
    assert.equal(fs.existsSync(marker), false, `the migration's code ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
    assert.deepEqual(await tables(dbFile()), []);
    await model.refresh();
    assert.deepEqual(statuses(model), { 1: 'pending', 2: 'pending', 3: 'pending', 4: 'pending' });
  });

  test('the project config is not executed: the source keeps its folder\'s id and the settings\' database', async () => {
    const { model } = await api();
    await model.refresh();
    assert.deepEqual(model.states[0].report?.sources.map((s) => s.id), ['versions']);
    assert.equal(model.states[0].error, undefined);
    assert.equal(fs.existsSync(marker), false, `the config ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
  });

  test('Generate Migration (from a schema, from the drift) refuses: no code runs, nothing is written', async () => {
    const dir = path.dirname(states((await api()).model).get(1)!.path!);
    const versions = () => fs.readdirSync(dir).sort();
    const before = versions();
    for (const id of ['migrations.generate', 'migrations.generateFromDatabase']) {
      assert.equal(await vscode.commands.executeCommand(id, { description: 'not here', confirmed: true }), undefined, `${id} ran in restricted mode`);
    }
    assert.deepEqual(versions(), before);
    assert.equal(fs.existsSync(marker), false, `workspace code ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
  });

  test('a user-level migrations.client naming sqlite3 or better-sqlite3 loads nothing from the workspace: the file is read with the built-in driver', async () => {
    const { model } = await api();
    const user = vscode.workspace.getConfiguration('migrations');
    // A database file that exists, so a status really opens it (with a table of its own).
    fs.mkdirSync(path.dirname(dbFile()), { recursive: true });
    const db = new DatabaseSync(dbFile());
    db.exec('create table customers (id integer primary key)');
    db.close();
    try {
      for (const client of ['better-sqlite3', 'sqlite3']) {
        await user.update('client', client, vscode.ConfigurationTarget.Global);
        await modelShows(model, `a status read with client ${client}`, () => model.states[0].report?.database.startsWith(`${client} `) === true);
        assert.equal(model.states[0].error, undefined);
        assert.deepEqual(statuses(model), { 1: 'pending', 2: 'pending', 3: 'pending', 4: 'pending' });
        assert.match(model.states[0].report!.database, /built-in SQLite: the workspace is not trusted/);
        assert.equal(fs.existsSync(marker), false, `workspace code ran in the extension host: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
      }
    } finally {
      await user.update('client', undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(dbFile(), { force: true });
    }
  });
});
