import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeInWorkspace } from '../config/workspaceFiles';
import { ConfigError, MigrationsError } from '../model/errors';
import { formatVersion, migrationFileName, toSnakeCase } from '../model/naming';
import type { Source } from '../model/types';

export interface CreateOptions {
  readonly description: string;
  /** Write JavaScript instead of TypeScript. */
  readonly js?: boolean;
  readonly templatesDir: string;
  /** Nothing is written outside it, through a link neither (see writeInWorkspace). */
  readonly workspace: string;
  /** The file's text from the template's, before it is written (`generate` fills up() and down()). */
  readonly fill?: (text: string) => string;
}

export interface Created {
  readonly path: string;
  readonly version: number;
  readonly name: string;
}

/**
 * Writes the next migration of a source from `templates/`. The name is reduced to
 * [a-z0-9_], so it cannot leave the folder; an existing file is never overwritten.
 */
export function createMigration(source: Pick<Source, 'dir' | 'migrations'>, opts: CreateOptions): Created {
  const { text, ...created } = renderMigration(source, opts);
  writeMigration(opts.workspace, created.path, text);
  return created;
}

/** The next migration of a source as `createMigration` would write it (path, version, text), nothing written. */
export function renderMigration(source: Pick<Source, 'dir' | 'migrations'>, opts: CreateOptions): Created & { readonly text: string } {
  const description = opts.description.trim();
  const name = toSnakeCase(description);
  if (!name) {
    throw new ConfigError(`${quoted(opts.description)} has no ASCII letters or digits (a-z, 0-9), which migration file names are made of; describe the change with some, e.g. "add index to users".`);
  }
  const versions = source.migrations.map((m) => m.version);
  const version = (versions.length > 0 ? Math.max(...versions) : 0) + 1;
  const width = Math.max(3, ...source.migrations.map((m) => /^migration_(\d+)_/.exec(path.basename(m.path))?.[1].length ?? 3));
  const extension = opts.js ? '.js' : '.ts';
  const fileName = migrationFileName(version, name, extension, width);
  const target = path.join(source.dir, fileName);
  if (path.dirname(target) !== path.resolve(source.dir)) throw new ConfigError(`Refusing to write outside ${source.dir}.`);
  const template = readTemplate(opts.templatesDir, extension, !opts.js && !knexResolvable(source.dir));
  const text = template
    // Replacer functions: a "$&" or "$`" in the description must not be read as a replacement pattern.
    .replace(/\{\{version\}\}/g, () => String(version))
    .replace(/\{\{paddedVersion\}\}/g, () => formatVersion(version, width))
    .replace(/\{\{description\}\}/g, () => JSON.stringify(description).slice(1, -1).replace(/'/g, "\\'"))
    .replace(/\{\{className\}\}/g, () => className(name, version));
  return { path: target, version, name, text: opts.fill ? opts.fill(text) : text };
}

/** Writes a new migration file; an existing one is never overwritten. */
export function writeMigration(workspace: string, target: string, text: string): void {
  try {
    writeInWorkspace(workspace, target, text, { exclusive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new MigrationsError(`${target} already exists; nothing was written. Choose another description.`);
    }
    throw err;
  }
}

/**
 * Whether `import type { Knex } from 'knex'` resolves from `dir`: a knex package in a node_modules
 * folder there or above it, where TypeScript looks. Without one, that import is an error in the
 * new file, so the template typed without knex is written (see templates/).
 */
export function knexResolvable(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'node_modules', 'knex', 'package.json'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

/** The template, or its variant for a project without knex installed (`migration.no-knex.ts.template`) when the folder has one. */
function readTemplate(dir: string, extension: string, withoutKnex = false): string {
  const variant = path.join(dir, `migration.no-knex${extension}.template`);
  if (withoutKnex && fs.existsSync(variant)) return fs.readFileSync(variant, 'utf8');
  const file = path.join(dir, `migration${extension}.template`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`Template ${file} is missing; set migrations.templatesDir to a folder with migration.ts.template and migration.js.template.`);
  }
}

function className(name: string, version: number): string {
  const pascal = name.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(pascal) ? `${pascal}Migration` : `Migration${version}${pascal}`;
}

/** The description as the user can read it in a message: control characters visible, at most 60 characters. */
function quoted(description: string): string {
  return JSON.stringify(description.length > 60 ? `${description.slice(0, 60)}…` : description);
}

/**
 * A rendered migration written beside its folder's files under a name discovery skips
 * (`.generating.<file>`), to be loaded and tried before the file itself is written; `remove()`
 * always follows. One a crash left is no migration: never listed, never run.
 */
export function stageMigration(workspace: string, target: string, text: string): { readonly path: string; remove(): void } {
  const staged = path.join(path.dirname(target), `.generating.${path.basename(target)}`);
  writeInWorkspace(workspace, staged, text);
  return { path: staged, remove: () => fs.rmSync(staged, { force: true }) };
}
