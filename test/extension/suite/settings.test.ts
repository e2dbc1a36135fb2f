import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, folder, waitFor, workspacePath } from './helpers';

/**
 * A value other than the default for every setting the extension contributes. A new setting
 * without a value here fails the first test: the list in package.json is what the engine reads.
 */
const VALUES: Record<string, unknown> = {
  versionsDir: ['db/versions'],
  client: 'pg',
  database: 'db/other.sqlite3',
  connection: { host: 'db.invalid', port: 5433, user: 'app', database: 'appdb' },
  passwordEnv: 'MM_TEST_PASSWORD',
  knexfile: 'knexfile-settings-test.js',
  environment: 'staging',
  sources: { versions: 5 },
  templatesDir: 'my-templates',
  lockTimeoutMs: 1234,
  staleLockMs: 56_789,
  migrationTimeoutMs: 4321,
  shadowDatabase: 'mm_shadow_of_my_own',
  schemaFile: 'off',
  lint: { 'drop-column': 'off' },
};

suite('Settings', () => {
  test('every setting in package.json reaches the engine (the editor reads what the CLI reads)', async () => {
    const contributed = Object.keys(vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.configuration.properties).map((k: string) => k.replace(/^migrations\./, ''));
    assert.deepEqual([...contributed].sort(), Object.keys(VALUES).sort(), 'VALUES must name every contributed setting');
    const { model } = await api();
    const config = vscode.workspace.getConfiguration('migrations', folder().uri);
    // The knexfile is loaded when the engine is made; it names a server nothing connects to here.
    fs.writeFileSync(workspacePath('knexfile-settings-test.js'), "module.exports = { staging: { client: 'pg', connection: { host: 'db.invalid', database: 'x' } } };\n");
    try {
      for (const [key, value] of Object.entries(VALUES)) await config.update(key, value, vscode.ConfigurationTarget.WorkspaceFolder);
      const settings = await waitFor('an engine made from the new settings', () => {
        const s = model.engine(folder()).settings as unknown as Record<string, unknown>;
        // lint is updated last: once it shows, the engine was made after every update.
        return JSON.stringify(s.lint) === JSON.stringify(VALUES.lint) ? s : undefined;
      });
      for (const [key, value] of Object.entries(VALUES)) assert.deepEqual(settings[key], value, `migrations.${key} did not reach the engine`);
    } finally {
      for (const key of Object.keys(VALUES)) await config.update(key, undefined, vscode.ConfigurationTarget.WorkspaceFolder);
      fs.rmSync(workspacePath('knexfile-settings-test.js'), { force: true });
      await waitFor('the default settings again', () => model.engine(folder()).settings.client === 'sqlite');
    }
  });
});
