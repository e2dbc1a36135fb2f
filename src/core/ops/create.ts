import * as path from 'node:path';
import { renderMigration, writeMigration, type Created } from '../sources/create';
import { sourceId } from '../sources/discovery';
import { SUM_FILE, writeSum } from '../sources/integrity';
import { ConfigError } from '../model/errors';
import { climbsOut, insideWorkspace } from '../config/workspaceFiles';
import type { Source } from '../model/types';
import type { LocalOperation, OpContext } from './operation';

/** A new migration file from the template, listed in its folder's migrations.sum at once. */
export const create: LocalOperation<{ description: string; source?: string; js?: boolean }, Created> = {
  name: 'create',
  args: (raw) => ({ description: raw.description as string, source: raw.source as string | undefined, js: raw.js as boolean | undefined }),
  run: (ctx, args) => createFile(ctx, args),
};

/** Writes the next migration file of a folder source from the template and lists it in migrations.sum. */
export function createFile(ctx: OpContext, args: { description: string; source?: string; js?: boolean }): Created {
  return publishFile(ctx, renderFile(ctx, args));
}

/** The next migration file of a folder source (`fill`: its text changed), nothing written yet. */
export function renderFile(ctx: OpContext, { description, source: only, js, fill }: { description: string; source?: string; js?: boolean; fill?: (text: string) => string }): Created & { readonly text: string; readonly dir: string } {
  const { workspace, settings } = ctx.sources;
  const templatesDir = settings.templatesDir ? path.resolve(workspace, settings.templatesDir) : ctx.templatesDir;
  if (!templatesDir) throw new ConfigError('No templates folder: set migrations.templatesDir.');
  const source = createTarget(ctx, only);
  // Both files it writes checked first: no migration is left without its line in the sum.
  insideWorkspace(workspace, path.join(source.dir, SUM_FILE));
  return { ...renderMigration(source, { description, js, templatesDir, workspace, fill }), dir: source.dir };
}

/** Writes a rendered file (never over another) and lists it in its folder's migrations.sum at once: the branch that adds it changes the sum. */
export function publishFile(ctx: OpContext, { text, dir, ...created }: Created & { readonly text: string; readonly dir: string }): Created {
  const { workspace } = ctx.sources;
  writeMigration(workspace, created.path, text);
  ctx.sources.invalidate(created.path);
  writeSum(dir, ctx.sources.readSource(dir).migrations, workspace);
  ctx.logger.info(`Created ${created.path}`);
  return created;
}

/** Rewrites each folder source's migrations.sum from its files. */
export const rehash: LocalOperation<{ source?: string }, { source: string; path: string; changed: boolean }[]> = {
  name: 'rehash',
  args: (raw) => ({ source: raw.source as string | undefined }),
  run(ctx, { source }) {
    const { workspace } = ctx.sources;
    const folders = ctx.sources.sources(source).filter((s) => s.dir !== '');
    // Every sum checked before any is written: a refusal leaves all of them as they were.
    for (const s of folders) insideWorkspace(workspace, path.join(s.dir, SUM_FILE));
    return folders.map((s) => ({ source: s.id, ...writeSum(s.dir, s.migrations, workspace) }));
  },
};

/**
 * The folder `create` writes into: a folder source named by id or folder (found, or configured by
 * versionsDir or the project config and not made yet), else a new `versions` folder inside the
 * workspace (what discovery finds once it holds a file). Migrations in code have no folder.
 */
function createTarget(ctx: OpContext, only?: string): Pick<Source, 'dir' | 'migrations'> {
  const { workspace, settings, project } = ctx.sources;
  const found = ctx.sources.folderSources();
  const declared = project?.folders.length ? project.folders : settings.versionsDir.map((d) => ({ id: undefined, dir: path.resolve(workspace, d) }));
  const folders = [...found, ...declared.filter((d) => !found.some((s) => s.dir === d.dir)).map((d) => ({ id: d.id ?? sourceId(workspace, d.dir), dir: d.dir, migrations: [] }))];
  const registered = ctx.sources.registeredIds();
  const ids = () => [...folders.map((s) => s.id), ...registered].sort().join(', ') || '(none)';
  if (only === undefined) {
    if (folders.length === 1) return folders[0];
    if (folders.length === 0) return { dir: path.join(workspace, 'versions'), migrations: [] };
    throw new ConfigError([`There are several sources (${folders.map((s) => s.id).join(', ')}): `, { do: 'name-source' }, '.'], {}, 'usage');
  }
  const dir = path.resolve(workspace, only);
  const named = folders.find((s) => s.id === only || s.dir === dir);
  if (named) return named;
  if (registered.includes(only)) {
    throw new ConfigError(`"${only}" is a source of migrations in code, not a folder: create writes files into folder sources only (${folders.map((s) => s.id).join(', ') || 'none yet'}).`, { source: only }, 'usage');
  }
  const rel = path.relative(workspace, dir);
  if (climbsOut(rel) || path.basename(dir) !== 'versions') {
    throw new ConfigError(`"${only}" is not a migration source (the sources are: ${ids()}), nor a "versions" folder inside the workspace to start one; name a source or such a folder.`, { source: only }, 'usage');
  }
  // A versions folder that is not a source yet (e.g. outside migrations.versionsDir) may still hold files: number after them.
  return ctx.sources.readSource(dir);
}
