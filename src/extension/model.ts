import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from './words';
import { explain, findProjectConfig, MigrationEngine, readProjectInChild, settingsFrom, summarize, type IsolateOptions, type MigrationState, type ProjectConfig, type StatusReport } from '../core';
import { EDITOR_TERMS } from './terms';
import { CheckResults, stampOf, type CheckStamp } from './checks';
import { passwordProvider } from './secrets';

/** The status of one workspace folder, or why it could not be read. */
export interface FolderState {
  readonly folder: vscode.WorkspaceFolder;
  readonly report?: StatusReport;
  readonly error?: string;
}

/** Folders discovery never enters (dot folders, node_modules, build output): their churn is not ours. */
const IGNORED_DIR = /[\\/](?:\.[^\\/]*|node_modules|out|dist)(?:[\\/]|$)/;

/** How long after a new source folder's watcher is asked for the folder is read once more. */
const WATCHER_SETTLE_MS = 1000;

/**
 * One engine per workspace folder and the last status read from each. Refreshes follow
 * file and setting changes (debounced) and fire `onDidChange`; nothing here executes a
 * migration file, so it is safe in restricted mode.
 */
export class MigrationsModel implements vscode.Disposable {
  private readonly engines = new Map<string, MigrationEngine>();
  private readonly sourceWatchers = new Map<string, vscode.Disposable>();
  /** Each folder's `migrations.config.*` as the runner child described it, by the file's mtime. */
  private readonly projects = new Map<string, { file: string; mtimeMs: number; project?: ProjectConfig; error?: unknown }>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** The last Verify, Lint and Check Drift results (shown in the tree and as diagnostics). */
  readonly checks = new CheckResults();
  private readonly disposables: vscode.Disposable[] = [this.changed, this.checks, this.checks.onDidChange(() => this.changed.fire())];
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  /** Inside holdingRefresh: reads wait, and whether one was asked for meanwhile. */
  private holds = 0;
  private held = false;
  private closed: Promise<void> | undefined;
  states: readonly FolderState[] = [];
  /** The context keys last set (menus' and the welcome's `when` clauses), for the tests. */
  contextKeys: Readonly<Record<string, boolean>> = {};
  /** Duration of the last refresh, for the log and the tests. */
  lastRefreshMs = 0;
  /** From the model's creation (activation) to the first status the tree can draw, for the log and the tests. */
  firstReadyMs: number | undefined;
  private readonly created = performance.now();

  readonly onDidChange = this.changed.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly templatesDir: string,
    private readonly secrets: vscode.SecretStorage,
    private readonly isolate: IsolateOptions,
    /** Every `migrations.*` key contributed in package.json, without the prefix: what the engine is given. */
    private readonly settingKeys: readonly string[],
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/versions/**');
    const projectFiles = vscode.workspace.createFileSystemWatcher('**/migrations.config.{ts,mts,js,mjs,cjs}');
    const folders = vscode.workspace.createFileSystemWatcher('**', false, true, false);
    const onFile = (uri: vscode.Uri) => this.fileChanged(uri);
    this.disposables.push(
      // A password stored or forgotten (Select Database, or another window) applies at once.
      secrets.onDidChange((e) => {
        if (e.key.startsWith('migrations.password ')) this.reset();
      }),
      watcher,
      projectFiles,
      // The config names the database and the sources: a change to it is a new engine.
      ...[projectFiles.onDidCreate, projectFiles.onDidChange, projectFiles.onDidDelete].map((on) => on(() => this.reset())),
      watcher.onDidCreate(onFile),
      watcher.onDidChange(onFile),
      watcher.onDidDelete((uri) => {
        // A deleted folder removes every file below it.
        for (const engine of this.engines.values()) engine.invalidate();
        onFile(uri);
      }),
      // A folder moved in or deleted whole is reported as that folder alone, without the
      // files below it, so the pattern above never sees `rm -r pkg` or `mv pkg` of a folder
      // holding versions/.
      folders,
      folders.onDidCreate((uri) => {
        if (!IGNORED_DIR.test(`/${vscode.workspace.asRelativePath(uri, false)}`) && isDirectory(uri.fsPath)) this.scheduleRefresh();
      }),
      folders.onDidDelete((uri) => {
        const gone = uri.fsPath + path.sep;
        if (this.states.some((f) => f.report?.sources.some((s) => (s.dir + path.sep).startsWith(gone)))) this.scheduleRefresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('migrations')) this.reset();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reset()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reset()),
    );
  }

  get folders(): readonly vscode.WorkspaceFolder[] {
    return vscode.workspace.workspaceFolders ?? [];
  }

  /** The engine of a folder, made from its `migrations.*` settings on first use. */
  engine(folder: vscode.WorkspaceFolder): MigrationEngine {
    let engine = this.engines.get(folder.uri.toString());
    if (!engine) {
      const config = vscode.workspace.getConfiguration('migrations', folder.uri);
      const raw = Object.fromEntries(this.settingKeys.map((k) => [`migrations.${k}`, config.get(k)]));
      const settings = settingsFrom(raw, 'Settings');
      const password = passwordProvider(this.secrets, folder.uri, settings);
      const read = this.projects.get(folder.uri.toString());
      if (read?.error) throw read.error;
      engine = new MigrationEngine({
        workspace: folder.uri.fsPath, settings, project: read?.project, logger: this.log, runner: 'editor', templatesDir: this.templatesDir, password, isolate: this.isolate,
        untrusted: !vscode.workspace.isTrusted,
      });
      this.engines.set(folder.uri.toString(), engine);
    }
    return engine;
  }

  /** What a check run now is computed for (the database, the history and files as last read); undefined when the folder cannot be read. */
  stamp(folder: vscode.WorkspaceFolder): CheckStamp | undefined {
    const report = this.states.find((s) => s.folder.uri.toString() === folder.uri.toString())?.report;
    if (!report) return undefined;
    try {
      return stampOf(this.engine(folder).databaseLabel, report);
    } catch {
      return undefined;
    }
  }

  /** The folder's project config as last described, when it has one that could be read. */
  project(folder: vscode.WorkspaceFolder): ProjectConfig | undefined {
    return this.projects.get(folder.uri.toString())?.project;
  }

  /** A source's last status read in a folder, if it has one. */
  source(folder: vscode.WorkspaceFolder, id: string | undefined): StatusReport['sources'][number] | undefined {
    return this.states.find((s) => s.folder === folder)?.report?.sources.find((s) => s.id === id);
  }

  /** Every migration state across folders, for the status bar and pickers. */
  migrations(): { folder: vscode.WorkspaceFolder; state: MigrationState }[] {
    return this.states.flatMap((f) => (f.report?.sources ?? []).flatMap((s) => s.migrations.map((state) => ({ folder: f.folder, state }))));
  }

  scheduleRefresh(delayMs = 50): void {
    clearTimeout(this.timer);
    if (this.holds > 0) {
      this.held = true;
      return;
    }
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  private fileChanged(uri: vscode.Uri): void {
    for (const engine of this.engines.values()) engine.invalidate(uri.fsPath);
    this.scheduleRefresh();
  }

  /**
   * One watcher per source folder besides the workspace-wide one: code-server's recursive
   * watcher reports nothing inside a versions/ folder made after start-up but its first file.
   */
  private watchSources(): void {
    // A read that ends after close() must not leave new watchers behind.
    if (this.closed) return;
    const dirs = new Set(this.states.flatMap((f) => (f.report?.sources ?? []).map((s) => s.dir).filter((d) => d !== '')));
    for (const [dir, watching] of this.sourceWatchers) {
      if (dirs.has(dir)) continue;
      watching.dispose();
      this.sourceWatchers.delete(dir);
    }
    let added = false;
    for (const dir of dirs) {
      if (this.sourceWatchers.has(dir)) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '*'));
      const on = (uri: vscode.Uri) => this.fileChanged(uri);
      this.sourceWatchers.set(dir, vscode.Disposable.from(watcher, watcher.onDidCreate(on), watcher.onDidChange(on), watcher.onDidDelete(on)));
      added = true;
    }
    // A watcher starts a moment after it is asked for, with no event to say so: what was written
    // meanwhile is read by one more pass once it surely runs.
    if (added) {
      clearTimeout(this.settle);
      this.settle = setTimeout(() => this.scheduleRefresh(0), WATCHER_SETTLE_MS);
    }
  }

  /** Re-reads every folder; concurrent calls coalesce into one more pass. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const started = performance.now();
        this.states = await Promise.all(this.folders.map((folder) => this.read(folder)));
        // Results computed for another database, history or file content go (the change fired below redraws).
        for (const state of this.states) this.checks.prune(state.folder, this.stamp(state.folder));
        try {
          this.watchSources();
        } catch (err) {
          // The workspace-wide watcher still reports most changes: a refresh must not fail for this.
          this.log.warn(`Watching the source folders failed: ${explain(err, EDITOR_TERMS)}`);
        }
        this.lastRefreshMs = performance.now() - started;
        if (this.firstReadyMs === undefined) {
          this.firstReadyMs = performance.now() - this.created;
          this.log.info(`Status of ${plural(this.states.length, 'folder')} read ${Math.round(this.firstReadyMs)} ms after activation.`);
        }
        this.setContextKeys();
        this.changed.fire();
      } while (this.again);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * What the view's title and welcome follow: `migrations.empty` (no folder has a migration, an
   * error, a lock or a drift result to show: the welcome's Create Migration), and whether Apply
   * All and Roll Back Last have anything to act on (their buttons are hidden otherwise).
   */
  private setContextKeys(): void {
    const all = this.migrations().map((m) => m.state);
    this.contextKeys = {
      'migrations.empty': this.states.every((f) => !f.error && !f.report?.lock && (f.report?.sources.length ?? 0) === 0 && !this.checks.drift(f.folder)),
      'migrations.canApply': summarize(all).pending > 0,
      'migrations.canRollBack': all.some((s) => s.applied),
    };
    for (const [key, value] of Object.entries(this.contextKeys)) void vscode.commands.executeCommand('setContext', key, value);
  }

  private async read(folder: vscode.WorkspaceFolder): Promise<FolderState> {
    try {
      await this.readProject(folder);
      return { folder, report: await this.engine(folder).status() };
    } catch (err) {
      const message = explain(err, EDITOR_TERMS);
      this.log.error(`${folder.name}: ${message}`);
      return { folder, error: message };
    }
  }

  /**
   * Reads the folder's project config when it is new or changed, through the runner child: the
   * config is code, executed only in a trusted workspace and never in the extension host.
   */
  private async readProject(folder: vscode.WorkspaceFolder): Promise<void> {
    const key = folder.uri.toString();
    const file = findProjectConfig(folder.uri.fsPath);
    const mtimeMs = file ? fs.statSync(file).mtimeMs : 0;
    const known = this.projects.get(key);
    if (known ? known.file === file && known.mtimeMs === mtimeMs : !file) return;
    if (!file) {
      this.projects.delete(key);
    } else if (!vscode.workspace.isTrusted) {
      this.log.warn(`${path.basename(file)} is code and is not read in Restricted Mode: sources show under their folders' paths, with the settings' database. Trust the workspace to use it.`);
      this.projects.set(key, { file, mtimeMs });
    } else {
      try {
        this.projects.set(key, { file, mtimeMs, project: await readProjectInChild(folder.uri.fsPath, this.isolate, this.log) });
      } catch (error) {
        this.projects.set(key, { file, mtimeMs, error });
      }
    }
    // An engine made from what the config said before is made again.
    const old = this.engines.get(key);
    this.engines.delete(key);
    void old?.close();
  }

  /**
   * Runs `work` (several settings written one by one) without reading any folder meanwhile:
   * a read between two of them would connect with half of them. Ends with one reset and read.
   */
  async holdingRefresh<T>(work: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      return await work();
    } finally {
      if (--this.holds === 0 && this.held) {
        this.held = false;
        this.reset();
      }
    }
  }

  /** Drops engines (settings, trust or folders changed) and reads everything again. */
  reset(): void {
    if (this.holds > 0) {
      this.held = true;
      return;
    }
    const old = [...this.engines.values()];
    this.engines.clear();
    this.projects.clear();
    // A read in flight on an old engine must end before its connections close: destroying
    // knex under a pending connect leaves that read (and every refresh queued behind it)
    // waiting out the pool's 60 s acquire timeout. Settings writes reset several times in a row.
    void (this.refreshing ?? Promise.resolve()).finally(() => Promise.all(old.map((e) => e.close())));
    this.scheduleRefresh(0);
  }

  dispose(): void {
    void this.close();
  }

  /** Stops refreshing and closes every engine's connections (awaited by `deactivate`). */
  close(): Promise<void> {
    clearTimeout(this.timer);
    clearTimeout(this.settle);
    for (const d of [...this.disposables.splice(0), ...this.sourceWatchers.values()]) d.dispose();
    this.sourceWatchers.clear();
    const engines = [...this.engines.values()];
    this.engines.clear();
    // A read in flight ends first: closing knex under it would leave it waiting out the pool's timeout.
    return (this.closed ??= (this.refreshing ?? Promise.resolve()).catch(() => undefined).then(() => Promise.all(engines.map((e) => e.close()))).then(() => undefined));
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
