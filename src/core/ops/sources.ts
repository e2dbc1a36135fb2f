import * as path from 'node:path';
import type { ResultCache } from '../sources/cache';
import { Discovery, sourceId } from '../sources/discovery';
import { ConfigError } from '../model/errors';
import { registeredSource } from '../loading/registry';
import { readWorkspaceSettings, type Settings } from '../config/settings';
import { priorityOf, withProject, type ProjectConfig } from '../config/project';
import { codeSources } from '../loading/project';
import { requireWorkspace } from '../config/workspaceFiles';
import { silentLogger, type Logger, type Migration, type Source } from '../model/types';

export interface SourcesOptions {
  /** Absolute workspace folder; every relative setting resolves from here, never from cwd. */
  readonly workspace: string;
  /** Defaults to `migrations.*` in `<workspace>/.vscode/settings.json`. */
  readonly settings?: Settings;
  /** The workspace's `migrations.config.*`, executed or described; its settings win over `settings`. */
  readonly project?: ProjectConfig;
  /** The environment runs and statuses are for, over the settings' and the config's. */
  readonly environment?: string;
  /** Parse and transpile results kept between processes (the CLI's). */
  readonly cache?: ResultCache;
  /**
   * The folder sources as a parent process discovered them (the runner child): discovery is not
   * run again, the files were read once, and the child runs what its parent checked.
   */
  readonly discovered?: readonly Source[];
  /** Says (debug) when discovery reads the folders. */
  readonly logger?: Logger;
}

/**
 * Which migrations: the settings, the project config, the folder sources discovery finds, the
 * sources registered in code and their priorities. Built once, it serves any number of targets
 * (TargetContext): nothing here knows which database the migrations run on.
 */
export class SourcesContext {
  readonly workspace: string;
  readonly settings: Settings;
  readonly project?: ProjectConfig;
  readonly cache?: ResultCache;
  private readonly discovery: Discovery;
  private readonly discovered?: readonly Source[];
  private readonly logger: Logger;
  private readonly registered = new Map<string, Source>();
  /** Ids registered through `register` (not the config's): they live only in this process. */
  readonly inMemory = new Set<string>();
  /** Priorities given in code to registered sources (a plugin service's), over the config's and settings'. */
  private readonly priorities = new Map<string, number>();

  constructor(options: SourcesOptions) {
    requireWorkspace(options.workspace);
    this.workspace = options.workspace;
    this.project = options.project;
    this.cache = options.cache;
    const settings = withProject(options.settings ?? readWorkspaceSettings(this.workspace), this.project);
    this.settings = options.environment ? { ...settings, environment: options.environment } : settings;
    const folders = this.project?.folders ?? [];
    this.discovery = new Discovery(this.workspace, folders.length > 0 ? folders.map((f) => f.dir) : this.settings.versionsDir, options.cache);
    this.discovered = options.discovered;
    this.logger = options.logger ?? silentLogger;
    // Discovery only when there is something to check against it: a status reads the files once.
    const code = this.project ? codeSources(this.project) : [];
    const folderIds = new Set(code.length > 0 ? this.folderSources().map((s) => s.id) : []);
    for (const source of code) {
      if (folderIds.has(source.id)) throw new ConfigError(`${this.project!.file}: "${source.id}" is the id of a folder source too; give one of them another id.`, { source: source.id });
      this.registered.set(source.id, source);
    }
  }

  /** Migrations supplied in code instead of files, kept as their own source (see MigrationEngine.registerMigrations). */
  register(id: string, migrations: readonly (Migration | (new () => Migration))[], opts: { priority?: number } = {}): void {
    // One id, one source: the history could not tell a folder's migrations from these.
    if (this.folderSources().some((s) => s.id === id)) {
      throw new ConfigError(`registerMigrations("${id}"): a folder source already has that id; register these under another one.`, { source: id });
    }
    this.registered.set(id, registeredSource(id, migrations));
    this.inMemory.add(id);
    if (opts.priority !== undefined) this.priorities.set(id, opts.priority);
  }

  /** Ids of the sources in code (the config's and registered ones). */
  registeredIds(): string[] {
    return [...this.registered.keys()];
  }

  /** Folder sources, under the ids the config gives their folders (an id that survives a move). */
  folderSources(): Source[] {
    if (this.discovered) return [...this.discovered];
    const declared = this.project?.folders;
    const found = this.discovery.discover();
    this.logger.debug(`Discovery: ${found.length} folder source(s) read.`);
    if (!declared?.length) return found;
    return found.map((s) => ({ ...s, id: declared.find((f) => f.dir === s.dir)?.id ?? s.id }));
  }

  /** The folders of the folder sources (their `dir`s), without reading their files: where the schema file goes. */
  folderDirs(): string[] {
    return this.discovered ? this.discovered.map((s) => s.dir) : this.discovery.dirs();
  }

  /**
   * These sources as they are now, for a batch (many targets, one run each): discovery is not run
   * again, so a file added meanwhile is not seen. Registrations stay shared.
   */
  frozen(): SourcesContext {
    const copy = Object.create(SourcesContext.prototype) as SourcesContext;
    return Object.assign(copy, this, { discovered: this.folderSources() });
  }

  /** One folder read now (create's target): what discovery would find in it. */
  readSource(dir: string): Source {
    return this.discovery.readSource(dir);
  }

  /** Forgets what discovery knows of a file (or of every file): the editor reports a change. */
  invalidate(file?: string): void {
    this.discovery.invalidate(file);
  }

  /** Every source in run order: priority setting (higher first), then id. Static only. `discovered`: the folder sources as read before. */
  sources(only?: string, discovered?: readonly Source[]): Source[] {
    const all = [...(discovered ?? this.folderSources()), ...this.registered.values()];
    const priority = (s: Source) => this.priorities.get(s.id) ?? priorityOf(s.id, this.project, this.settings);
    const ordered = all.sort((a, b) => priority(b) - priority(a) || a.id.localeCompare(b.id));
    if (only === undefined) return ordered;
    const wanted = sourceId(this.workspace, path.resolve(this.workspace, only));
    const found = ordered.filter((s) => s.id === only || s.id === wanted || (s.dir !== '' && sourceId(this.workspace, s.dir) === wanted));
    if (found.length === 0) throw new ConfigError(`No migration source "${only}"; the sources are: ${ordered.map((s) => s.id).join(', ') || '(none)'}.`, { source: only }, 'usage');
    return found;
  }
}
