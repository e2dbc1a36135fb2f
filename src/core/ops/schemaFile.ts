import * as path from 'node:path';
import type { Knex } from 'knex';
import { introspect } from '../database/introspect';
import { describeError } from '../model/errors';
import type { SchemaModel } from '../model/schema';
import { climbsOut } from '../config/workspaceFiles';
import { schemaFilePath, writeSnapshot } from '../verify/schemaFile';
import { dumpForFile } from '../verify/schemaDump';
import type { OpContext } from './operation';

/**
 * The database as a schema snapshot names it: the same on every machine (no host, no absolute
 * path inside the workspace), so a committed snapshot is not rewritten for where it was made.
 */
export function snapshotName(ctx: OpContext): string {
  const t = ctx.target.target;
  if (t.filename) {
    const rel = path.relative(ctx.sources.workspace, t.filename);
    return `${t.client} ${climbsOut(rel) ? t.filename : rel.split(path.sep).join('/')}`;
  }
  const connection = t.knexConfig?.connection;
  const name = t.server?.database ?? (typeof connection === 'object' && connection !== null && 'database' in connection ? String(connection.database) : undefined);
  return name ? `${t.client} ${name}` : t.label;
}

/** The live database's schema (empty for a SQLite file not made yet). */
export async function liveSchema(ctx: OpContext): Promise<SchemaModel> {
  const knex = ctx.target.connections.read();
  return knex ? introspect(knex, ctx.target.dialect.catalog) : { tables: [] };
}

/** The schema file's path, when the settings (or, `asked`, the caller) want one. */
export function schemaFile(ctx: OpContext, asked = false): string | undefined {
  const dirs = ctx.sources.folderDirs();
  return schemaFilePath({ setting: ctx.sources.settings.schemaFile, workspace: ctx.sources.workspace, sourceDirs: dirs, app: ctx.runner === 'app', asked });
}

/** After a run that changed something: the schema file rewritten, so a pull request shows what the migrations did. */
export async function writeSchemaAfterRun(ctx: OpContext, knex: Knex): Promise<void> {
  const file = schemaFile(ctx);
  if (!file) return;
  try {
    const database = snapshotName(ctx);
    // Only the tables that changed are read again (see dumpForFile), into the same bytes as a full dump.
    const text = await dumpForFile(knex, ctx.target.dialect.catalog, ctx.target.dialect.name, database, file, ctx.sources.cache?.besides('schema'));
    writeSnapshot(ctx.sources.workspace, file, text, database);
  } catch (err) {
    // The run itself succeeded: a snapshot that cannot be written is worth a warning, not a failure.
    ctx.logger.warn(`The schema snapshot ${file} was not written: ${describeError(err).replace(/\.$/, '')}.`);
  }
}
