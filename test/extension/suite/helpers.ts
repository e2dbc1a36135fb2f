// What the extension-host tests share: the extension's API, the run's config, polling
// with deadlines, and a read-only look into the SQLite file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import * as vscode from 'vscode';
import type { MigrationState } from '../../../src/core';
import type { MigrationsApi } from '../../../src/extension/extension';
import { CONFIG_FILE, type SuiteConfig } from '../workspaces';

export const EXTENSION_ID = 'migration-manager.migration-manager';

/** Figures the tests measure; index.ts writes them into the result file. */
export const metrics: Record<string, number> = {};

export function folder(): vscode.WorkspaceFolder {
  const folders = vscode.workspace.workspaceFolders;
  if (!folders || folders.length !== 1) throw new Error(`expected one workspace folder, got ${folders?.length ?? 0}`);
  return folders[0];
}

export const workspacePath = (...parts: string[]) => path.join(folder().uri.fsPath, ...parts);
export const dbFile = () => workspacePath('.migrations', 'dev.sqlite3');

/** `extension-test.json`, written by the runner beside the workspace folder. */
export function config(): SuiteConfig {
  const file = process.env.MIGRATIONS_TEST_CONFIG ?? path.join(folder().uri.fsPath, '..', CONFIG_FILE);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SuiteConfig;
}

/** The activated extension's API. */
export async function api(): Promise<MigrationsApi> {
  const ext = vscode.extensions.getExtension<MigrationsApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this VS Code`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  if (!exports?.model) throw new Error('activate() returned no model');
  return exports;
}

/** Polls `check` until it returns a truthy value; fails with `what` (and the last value) at the deadline. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The model's migrations of the `versions` source, by version. */
export function states(model: MigrationsApi['model'], source = 'versions'): Map<number, MigrationState> {
  return new Map(model.migrations().filter((m) => m.state.source === source).map((m) => [m.state.version, m.state]));
}

/** `{1: 'applied', 2: 'pending'}`-style summary, for readable assertion messages. */
export function statuses(model: MigrationsApi['model'], source = 'versions'): Record<number, string> {
  return Object.fromEntries([...states(model, source)].map(([v, s]) => [v, s.status]));
}

/** Waits until the model (which follows the file watcher) shows what `check` wants. */
export function modelShows(model: MigrationsApi['model'], what: string, check: () => boolean, timeoutMs?: number): Promise<true> {
  return waitFor(`the model to show ${what} (now ${JSON.stringify(statuses(model))})`, () => check() || undefined, timeoutMs);
}

/** Runs `sql` on a read-only connection (never creates the file or a table). */
export async function query<T = Record<string, unknown>>(file: string, sql: string): Promise<T[]> {
  // node:sqlite, as VS Code's runtime has it: the extension host needs no native package.
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all().map((row) => ({ ...row }) as T);
  } finally {
    db.close();
  }
}

export async function tables(file: string): Promise<string[]> {
  if (!fs.existsSync(file)) return [];
  return (await query<{ name: string }>(file, "select name from sqlite_master where type = 'table' order by name")).map((r) => r.name);
}

export async function columns(file: string, table: string): Promise<string[]> {
  return (await query<{ name: string }>(file, `pragma table_info(${table})`)).map((r) => r.name);
}

/** A migration file's text: `up`/`down` bodies (down null: none), with `head` lines before the class. */
export function migrationSource(version: number, name: string, up: string, down: string | null, head?: string): string {
  return `import type { Knex } from 'knex';
${head === undefined ? '' : `${head}\n`}export class M${version} {
  readonly version = ${version};
  readonly description = '${name}';
  async up(knex: Knex) { ${up} }
${down === null ? '' : `  async down(knex: Knex) { ${down} }\n`}}
export function getMigration() { return M${version}; }
`;
}

/** A file from test/fixtures/files with `{{name}}` placeholders filled (shared with the UI test). */
export function fixtureText(name: string, vars: Record<string, string | number>): string {
  // Compiled to out/test/extension/suite/: the repository root is four levels up.
  const text = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'files', name), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => String(vars[key]));
}

/** Awaits `work`, failing with `what` after `timeoutMs`: a step that hangs names itself instead of eating mocha's timeout. */
export async function step<T>(what: string, work: Thenable<T>, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms: ${what}`)), timeoutMs)));
  try {
    return await Promise.race([Promise.resolve(work), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last lines of the extension's Migrations log, for a failure's message (code-server runs keep it in the run's profile). */
export function lastLogLines(count = 15): string {
  const logs = path.join(path.dirname(config().result), 'profile', 'user-data', 'logs');
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name === 'Migrations.log') found.push(full);
    }
  };
  try {
    walk(logs);
  } catch {
    return `(no log under ${logs})`;
  }
  const newest = found.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  return newest ? fs.readFileSync(newest, 'utf8').trimEnd().split('\n').slice(-count).join('\n') : `(no Migrations.log under ${logs})`;
}
