import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { ConfigError } from '../model/errors';
import type { Migration, MigrationFile } from '../model/types';
import { settingsFrom, type Settings } from './settings';

/** The project config's file names, in the order they are looked for at the workspace root. */
export const PROJECT_CONFIG_FILES = ['migrations.config.ts', 'migrations.config.mts', 'migrations.config.js', 'migrations.config.mjs', 'migrations.config.cjs'] as const;

export type MigrationLike = Migration | (new () => Migration);

/**
 * What `migrations.config.*` exports (`export default defineConfig({ … })`): the project's
 * database, sources and services, read by the CLI, the editor and `createMigrator` alike.
 */
export interface ProjectConfigInput {
  /** A knex config (`{ client, connection }`; a SQLite `filename` is relative to the workspace), or a knexfile. */
  readonly database?: Knex.Config | { readonly knexfile: string; readonly environment?: string };
  /** The environment runs are for unless one is given (`--env`): migrations declaring others are skipped. */
  readonly environment?: string;
  /**
   * Sources with stable ids: a folder (`dir`, its id survives a move: change `dir`, keep `id`) or
   * migrations in code. When any folder is declared, only declared folders are sources.
   * Higher `priority` runs first; undeclared: 100 (the database's), ties by id.
   */
  readonly sources?: readonly ({ readonly id: string; readonly dir: string; readonly priority?: number; /** A file exporting `defineSchema({ … })`: what `migrations generate` writes migrations towards. */ readonly schema?: string } | { readonly id: string; readonly migrations: readonly MigrationLike[]; readonly priority?: number })[];
  /** Plugins' migrations, each a service of its own (priority 0 unless given), recorded under its name. */
  readonly services?: readonly { readonly name: string; readonly priority?: number; readonly migrations: readonly MigrationLike[] }[];
  /** Called around every migration in the process that runs it; awaited, and a throw stops the run cleanly. */
  readonly hooks?: {
    readonly beforeMigration?: (step: { source: string; version: number; description: string; direction: 'up' | 'down' }) => unknown;
    readonly afterMigration?: (step: { source: string; version: number; description: string; direction: 'up' | 'down'; outcome: string; error?: string }) => unknown;
  };
  /** Other `migrations.*` settings, without the prefix (`{ lockTimeoutMs: 30000 }`). */
  readonly settings?: Partial<Omit<Settings, 'versionsDir' | 'sources'>>;
}

/** Typed identity: `export default defineConfig({ … })` in `migrations.config.ts`. */
export function defineConfig(config: ProjectConfigInput): ProjectConfigInput {
  return config;
}

/** A source the config declares with code: its migrations, or (read by the editor through a child) what they are. */
export interface DeclaredCodeSource {
  readonly id: string;
  /** As declared; unset: SOURCE_PRIORITY, a service's SERVICE_PRIORITY. */
  readonly priority?: number;
  /** Set for a plugin's service (`services`); unset: part of the database's own migrations. */
  readonly service?: string;
  /** Executed here (instances), or as plain data when described by the process that executed them. */
  readonly migrations?: readonly MigrationLike[];
  readonly files?: readonly MigrationFile[];
}

/** The config as the engine uses it. Everything but `code[].migrations` and `hooks` is plain data. */
export interface ProjectConfig {
  readonly file: string;
  /** Over the workspace's `.vscode/settings.json`: the config wins where it says something. */
  readonly settings: Record<string, unknown>;
  readonly database?: Knex.Config;
  /** `schema`: the file declaring the schema its migrations should reach (`migrations generate`), absolute. */
  readonly folders: readonly { readonly id: string; readonly dir: string; readonly priority?: number; readonly schema?: string }[];
  readonly code: readonly DeclaredCodeSource[];
  readonly hooks?: ProjectConfigInput['hooks'];
  /** A description (describeProject) made by a process that executed it: its code stayed there. */
  readonly described?: true;
}

/** The config file at the workspace root, if there is one. */
export function findProjectConfig(workspace: string): string | undefined {
  return PROJECT_CONFIG_FILES.map((f) => path.join(workspace, f)).find((f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile());
}

/** The settings with the config's over them (flat `migrations.*` keys, as settings.json holds them). */
export function withProject(settings: Settings, project: ProjectConfig | undefined): Settings {
  if (!project) return settings;
  const flat = Object.fromEntries(Object.entries({ ...settings, ...project.settings }).map(([k, v]) => [`migrations.${k}`, v]));
  return settingsFrom(flat, project.file);
}

/** The database's own sources run first (the orchestrator's database service is 100 too), plugins' services after. */
export const SOURCE_PRIORITY = 100;
export const SERVICE_PRIORITY = 0;

/** A source's place in the run order (higher first): declared in the config, else in settings, else by its kind. */
export function priorityOf(id: string, project: ProjectConfig | undefined, settings: Settings): number {
  const declared = [...(project?.folders ?? []), ...(project?.code ?? [])].find((d) => d.id === id);
  return declared?.priority ?? settings.sources[id] ?? (declared && 'service' in declared && declared.service ? SERVICE_PRIORITY : SOURCE_PRIORITY);
}

/** Checks what a config file exported and resolves it; every mistake names the file and the key. */
export function projectConfigFrom(exported: unknown, file: string): ProjectConfig {
  const workspace = path.dirname(file);
  const fail = (where: string, expected: string): never => {
    throw new ConfigError(`${file}: ${where} must be ${expected}. Fix it there.`);
  };
  const raw = (exported as { default?: unknown } | undefined)?.default ?? exported;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('the default export', 'an object (export default defineConfig({ … }))');
  const input = raw as Record<string, unknown>;
  const known = ['database', 'environment', 'sources', 'services', 'hooks', 'settings'];
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length > 0) fail(`"${unknown[0]}"`, `one of the known keys (${known.join(', ')})`);

  const settings: Record<string, unknown> = { ...(objectOr(input.settings, () => fail('"settings"', 'an object of migrations.* settings without the prefix'))) };
  for (const k of ['versionsDir', 'sources']) if (k in settings) fail(`settings.${k}`, 'declared under "sources" instead');
  let database: Knex.Config | undefined;
  if (input.database !== undefined) {
    const db = objectOr(input.database, () => fail('"database"', 'a knex config { client, connection } or { knexfile, environment }'));
    if ('knexfile' in db) {
      if (typeof db.knexfile !== 'string') fail('database.knexfile', 'a path');
      settings.knexfile = db.knexfile;
      if (db.environment !== undefined) settings.environment = db.environment;
    } else {
      if (typeof db.client !== 'string') fail('database.client', 'a knex client name (sqlite3, better-sqlite3, pg, mysql2)');
      database = db as Knex.Config;
    }
  }
  if (input.environment !== undefined) settings.environment = typeof input.environment === 'string' && input.environment ? input.environment : fail('"environment"', 'a name');

  const folders: ProjectConfig['folders'][number][] = [];
  const code: DeclaredCodeSource[] = [];
  const ids = new Set<string>();
  const claim = (id: unknown, where: string): string => {
    if (typeof id !== 'string' || !/^[\w@.\-/]+$/.test(id)) fail(`${where}`, 'a non-empty id of letters, digits, _ - . / @');
    if (ids.has(id as string)) fail(where, `unique; "${id as string}" is declared twice`);
    ids.add(id as string);
    return id as string;
  };
  const priority = (p: unknown, where: string): number | undefined => (p === undefined || (typeof p === 'number' && Number.isFinite(p)) ? p : fail(where, 'a number'));
  const list = (v: unknown, key: string): Record<string, unknown>[] =>
    v === undefined ? [] : Array.isArray(v) ? v.map((e, i) => objectOr(e, () => fail(`${key}[${i}]`, 'an object'))) : fail(`"${key}"`, 'a list');
  list(input.sources, 'sources').forEach((s, i) => {
    const id = claim(s.id, `sources[${i}].id`);
    const p = priority(s.priority, `sources[${i}].priority`);
    if (typeof s.dir === 'string') {
      const dir = path.resolve(workspace, s.dir);
      if (path.relative(workspace, dir).startsWith('..')) fail(`sources[${i}].dir`, 'a folder inside the workspace');
      let schema: string | undefined;
      if (s.schema !== undefined) {
        schema = typeof s.schema === 'string' ? path.resolve(workspace, s.schema) : fail(`sources[${i}].schema`, "the path of a file exporting defineSchema({ … }) (e.g. 'db/schema.ts')");
        if (path.relative(workspace, schema).startsWith('..')) fail(`sources[${i}].schema`, 'a file inside the workspace');
      }
      folders.push({ id, dir, priority: p, ...(schema ? { schema } : {}) });
    } else if (Array.isArray(s.migrations)) {
      code.push({ id, priority: p, migrations: s.migrations as MigrationLike[] });
    } else fail(`sources[${i}]`, 'either { id, dir } (a folder) or { id, migrations } (migrations in code)');
  });
  list(input.services, 'services').forEach((s, i) => {
    const name = claim(s.name, `services[${i}].name`);
    if (!Array.isArray(s.migrations)) fail(`services[${i}].migrations`, 'a list of migrations (classes or objects)');
    code.push({ id: name, service: name, priority: priority(s.priority, `services[${i}].priority`), migrations: s.migrations as MigrationLike[] });
  });
  const hooks = input.hooks === undefined ? undefined : objectOr(input.hooks, () => fail('"hooks"', 'an object { beforeMigration, afterMigration }'));
  for (const [k, v] of Object.entries(hooks ?? {})) {
    if (k !== 'beforeMigration' && k !== 'afterMigration') fail(`hooks.${k}`, 'beforeMigration or afterMigration');
    if (typeof v !== 'function') fail(`hooks.${k}`, 'a function');
  }
  return { file, settings, database, folders, code, hooks: hooks as ProjectConfig['hooks'] };
}

function objectOr(value: unknown, fail: () => never): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail();
  return value as Record<string, unknown>;
}
