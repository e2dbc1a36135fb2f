import { findProjectConfig, projectConfigFrom, type ProjectConfig } from '../config/project';
import { ConfigError } from '../model/errors';
import type { Source } from '../model/types';
import * as fs from 'node:fs';
import { loadModule, type Provided } from './loader';
import { registeredSource } from './registry';

/**
 * Executes `migrations.config.*` at the workspace root (trusted workspaces only, like a
 * knexfile) and checks it; undefined when there is none.
 */
export function loadProjectConfig(workspace: string): ProjectConfig | undefined {
  const file = findProjectConfig(workspace);
  if (!file) return undefined;
  return projectConfigFrom(loadModule(file), file);
}

/** The config's sources in code as sources: checked migrations (instances) or, described by a child, plain files. */
export function codeSources(project: ProjectConfig): Source[] {
  return project.code.map((c) =>
    c.migrations
      ? registeredSource(c.id, c.migrations, `${project.file}: ${c.service ? 'service' : 'source'} "${c.id}"`)
      : { id: c.id, dir: '', migrations: c.files ?? [], problems: [] },
  );
}

/**
 * The config as plain data, for a process that must not execute it (the editor): code sources
 * become their files' versions and descriptions; hooks stay behind (they run where migrations run).
 */
export function describeProject(project: ProjectConfig): ProjectConfig {
  const sources = codeSources(project);
  if (project.database && typeof project.database.connection === 'function') {
    // A function cannot cross the pipe to the editor, which reads the status itself.
    throw new ConfigError(`${project.file}: database.connection is a function, which the editor cannot use; give it as an object (a password from process.env is fine), or use a knexfile.`);
  }
  return {
    file: project.file,
    described: true,
    settings: project.settings,
    database: project.database,
    folders: project.folders,
    code: project.code.map((c, i) => ({
      id: c.id, priority: c.priority, service: c.service,
      files: sources[i].migrations.map(({ instance, ...file }) => ({ ...file, hasDown: typeof instance?.down === 'function' })),
    })),
  };
}

/**
 * Executes a declared schema file (`sources[].schema`) and returns its default export; the
 * packages in `provided` are the engine's own (its `defineSchema`), whatever the workspace holds.
 */
export function loadSchemaModule(file: string, provided: Provided): unknown {
  if (!fs.existsSync(file)) throw new ConfigError(`${file}: no such file (a declared schema). Create it, or fix the path.`, { file });
  const exported = loadModule(file, undefined, provided) as { default?: unknown; schema?: unknown } | undefined;
  return exported?.default ?? exported?.schema ?? exported;
}
