import * as path from 'node:path';
import { writeInWorkspace } from '../config/workspaceFiles';

/**
 * The schema snapshot's file: `migrations.schemaFile` (relative to the workspace), else schema.sql
 * beside the first folder source (`firstSourceDir`); undefined when "off", or (unless asked) for
 * an app's own runs, which keep no files.
 */
export function schemaFilePath(opts: { setting?: string; workspace: string; firstSourceDir?: string; app: boolean; asked: boolean }): string | undefined {
  const { setting } = opts;
  if (setting === 'off' || (!opts.asked && setting === undefined && opts.app)) return undefined;
  if (setting) return path.resolve(opts.workspace, setting);
  return path.join(opts.firstSourceDir ? path.dirname(opts.firstSourceDir) : opts.workspace, 'schema.sql');
}

/** Writes `text` unless the file already holds it (no churn in git or in file watchers); true when written. Only inside the workspace. */
export function writeIfChanged(workspace: string, file: string, text: string): boolean {
  return writeInWorkspace(workspace, file, text, { unless: (current) => current === text });
}
