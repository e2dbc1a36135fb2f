import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeInWorkspace } from '../config/workspaceFiles';
import { ConfigError } from '../model/errors';

/**
 * The schema snapshot's file: `migrations.schemaFile` (relative to the workspace), else schema.sql
 * beside the only folder source (`db/versions` → `db/schema.sql`), else (several sources, or none)
 * at the workspace root: the whole database's schema never lands in one source's folder. Undefined
 * when "off", or (unless asked) for an app's own runs, which keep no files.
 */
export function schemaFilePath(opts: { setting?: string; workspace: string; sourceDirs: readonly string[]; app: boolean; asked: boolean }): string | undefined {
  const { setting } = opts;
  if (setting === 'off' || (!opts.asked && setting === undefined && opts.app)) return undefined;
  if (setting) return path.resolve(opts.workspace, setting);
  return path.join(opts.sourceDirs.length === 1 ? path.dirname(opts.sourceDirs[0]) : opts.workspace, 'schema.sql');
}

/** The snapshot's line naming the database it describes. */
const DATABASE_LINE = /^-- Database: (.+)$/m;

/** The database a snapshot's text says it describes; undefined for an older snapshot that does not say. */
export function snapshotDatabase(text: string): string | undefined {
  return DATABASE_LINE.exec(text.split('\n', 3).join('\n'))?.[1];
}

/** A schema file holds another database's snapshot: it is not replaced unless asked. */
export class SchemaOfAnotherDatabase extends ConfigError {
  constructor(readonly file: string, readonly shown: string, readonly describes: string, readonly database: string) {
    super(`${shown} is the schema snapshot of ${describes}, not of ${database}: it was not replaced. Set migrations.schemaFile to a file for this database (e.g. "schema.${database.split(' ')[0]}.sql"), or delete ${shown} to start it over.`, { file });
  }
}

/**
 * Writes `text` (the snapshot of `database`) unless the file already holds it (no churn in git or
 * in file watchers); true when written. Only inside the workspace. A file naming another database
 * is refused (SchemaOfAnotherDatabase) unless `replace`: after switching databases, one's
 * snapshot never silently replaces the other's.
 */
export function writeSnapshot(workspace: string, file: string, text: string, database: string, replace = false): boolean {
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    // None yet.
  }
  const describes = current === undefined ? undefined : snapshotDatabase(current);
  if (!replace && describes !== undefined && describes !== database) throw new SchemaOfAnotherDatabase(file, path.relative(workspace, file) || file, describes, database);
  return writeInWorkspace(workspace, file, text, { unless: (now) => now === text });
}
