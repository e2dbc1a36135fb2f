import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { knex as createKnex, type Knex } from 'knex';
import { MigrationEngine, type EngineOptions } from '../src/core';
import { nodeSqliteClient } from '../src/core/database/nodeSqliteClient';

/** The repository root (tests run from out/test/). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
/** The built child-process entry that executes migration files (see core/run/isolated.ts). */
export const RUNNER = path.join(ROOT, 'dist', 'runner.js');
export const TEMPLATES = path.join(ROOT, 'templates');
export const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'sample');

/** A fresh temp folder holding the given files (paths relative to it). Removed at exit. */
export function tempWorkspace(files: Record<string, string | Buffer> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-test-')));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  cleanup.push(dir);
  return dir;
}

/** A temp copy of the sample workspace (three chat-bot migrations). */
export function sampleWorkspace(): string {
  const dir = tempWorkspace();
  fs.cpSync(path.join(SAMPLE, 'versions'), path.join(dir, 'versions'), { recursive: true });
  return dir;
}

const cleanup: string[] = [];
process.on('exit', () => {
  for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

export function engine(workspace: string, opts: Partial<EngineOptions> = {}): MigrationEngine {
  return new MigrationEngine({ workspace, templatesDir: TEMPLATES, ...opts });
}

/** Source text of a valid TypeScript migration creating (and dropping) `table`. */
export function tsMigration(version: number, table: string, extra: { up?: string; down?: string | null; transaction?: boolean } = {}): string {
  const down = extra.down === null ? '' : `  async down(knex: Knex) { ${extra.down ?? `await knex.schema.dropTable('${table}');`} }\n`;
  return `import type { Knex } from 'knex';
export class M${version} {
  readonly version = ${version};
  readonly description = 'create ${table}';${extra.transaction === false ? '\n  readonly transaction = false;' : ''}
  async up(knex: Knex) { ${extra.up ?? `await knex.schema.createTable('${table}', (t) => { t.increments('id'); });`} }
${down}}
export function getMigration() { return M${version}; }
`;
}

export const DEFAULT_DB = (ws: string) => path.join(ws, '.migrations', 'dev.sqlite3');

/**
 * knex on a SQLite file through node:sqlite, as a person or another tool would open it. Never the
 * sqlite3 package beside it: two SQLite libraries in one process break each other's POSIX locks
 * (closing one's file descriptor drops the other's locks on that file), which no product path does.
 */
export function sqliteKnex(dbFile: string, readOnly = false): Knex {
  const afterCreate = (conn: { exec(sql: string): void }, done: (err: null, conn: unknown) => void) => done(conn.exec('PRAGMA busy_timeout = 5000') ?? null, conn);
  return createKnex({ client: nodeSqliteClient(), connection: { filename: dbFile, readOnly } as never, useNullAsDefault: true, pool: { min: 1, max: 1, afterCreate } });
}

/** Opens a SQLite file read-only to inspect what a run left behind. */
export async function inspect<T>(dbFile: string, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = sqliteKnex(dbFile, true);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** User tables in a SQLite file (without sqlite's and our own bookkeeping tables). */
export async function userTables(dbFile: string): Promise<string[]> {
  if (!fs.existsSync(dbFile)) return [];
  return inspect(dbFile, async (db) => {
    const rows = (await db('sqlite_master').where({ type: 'table' }).select('name')) as { name: string }[];
    return rows.map((r) => r.name).filter((n) => !n.startsWith('sqlite_') && !n.startsWith('migration_')).sort();
  });
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI synchronously. */
export function cli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI without blocking, for tests of several runners at once. */
export function cliAsync(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `versions/migration_<NNN>_create_t<N>.ts` files, each creating table `t<N>` (see tsMigration). */
export function migrationFiles(versions: readonly number[], extra: Record<number, Parameters<typeof tsMigration>[2]> = {}): Record<string, string> {
  return Object.fromEntries(versions.map((v) => [migrationPath(v), tsMigration(v, `t${v}`, extra[v])]));
}

/** Relative path of the file migrationFiles() writes for `version`. */
export function migrationPath(version: number): string {
  return `versions/migration_${String(version).padStart(3, '0')}_create_t${version}.ts`;
}

/** Rows of migration_lock ([] when the table or the file does not exist). */
export async function lockRows(dbFile: string): Promise<Record<string, unknown>[]> {
  if (!fs.existsSync(dbFile)) return [];
  return inspect(dbFile, async (db) => ((await db.schema.hasTable('migration_lock')) ? db('migration_lock').select('*') : []));
}

/** Polls `condition` every 20 ms; fails after `ms` naming what it waited for. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
