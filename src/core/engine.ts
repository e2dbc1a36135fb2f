import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import type { ResultCache } from './sources/cache';
import { createMigration, type Created } from './sources/create';
import { chooseTarget, type DatabaseTarget, type PasswordProvider } from './database/database';
import { dialectOf, type Dialect } from './database/dialect';
import { Discovery, sourceId } from './sources/discovery';
import { databaseError } from './database/databaseErrors';
import { ConfigError, corruptHistory, CorruptHistoryError, describeError, InvalidMigrationsError, MigrationsError } from './model/errors';
import { plural } from './model/naming';
import { HistoryStore } from './database/history';
import { forkRunner, runInChild, type ChildRequest, type IsolateOptions, type RunnerProcess, type StoppedStep } from './run/isolated';
import { loadMigrations, type LoadResult } from './loading/loader';
import { isStale, releaseOwnLock, type MigrationLock } from './database/lock';
import { mergeProblems } from './model/problems';
import { passedOver, planDown, planUp, requireOneSource, type DownTarget, type SourceState, type Step, type UpTarget } from './model/plan';
import { registeredSource } from './loading/registry';
import { captureSql, runSteps, withBlocked, type LoadedStep, type RunEvents, type RunReport, type StepReport } from './run/runner';
import { namesDatabase, readWorkspaceSettings, type Settings } from './config/settings';
import { findProjectConfig, priorityOf, withProject, type ProjectConfig } from './config/project';
import { codeSources } from './loading/project';
import { dropShadowsOf, dropTemporaryShadows, listTemporaryShadows, schemaKind, type TemporaryShadow } from './database/shadow';
import { schemaFilePath, writeSnapshot } from './verify/schemaFile';
import { introspect } from './database/introspect';
import { dumpSchema } from './model/schemaDiff';
import { dumpForFile } from './verify/schemaDump';
import type { SchemaModel } from './model/schema';
import { runsIn } from './model/status';
import { allowingSumMismatch, checkSum, SUM_FILE, sumMismatch, writeSum } from './sources/integrity';
import { climbsOut, insideWorkspace } from './config/workspaceFiles';
import { checkOnShadow, driftOf, type DriftReport, type VerifyReport } from './verify/verify';
import { baselineRows, manualRow, movedMatches, movedProblem, refuseHalfDone, refuseMoved, renameRows } from './model/repair';
import { HistorySnapshot, type HistoryRead } from './model/history';
import { elsewhereSources, refuseRollbackPastElsewhere, type Elsewhere } from './model/elsewhere';
import { silentLogger, type Direction, type HistoryRow, type LockHolder, type NewHistoryRow, type Logger, type Migration, type MigrationFile, type MigrationStatus, type Problem, type Source } from './model/types';

export interface EngineOptions {
  /** Absolute workspace folder; every relative setting resolves from here, never from cwd. */
  readonly workspace: string;
  /** Defaults to `migrations.*` in `<workspace>/.vscode/settings.json`. */
  readonly settings?: Settings;
  /**
   * The database over the settings and the config's (`--db`): a SQLite file, or a URL
   * (postgres://, postgresql://, mysql://, mariadb://, sqlite:); any other scheme is refused.
   */
  readonly db?: string;
  /**
   * A URL from the environment (the CLI's DATABASE_URL), taken as `db` only when nothing else
   * names a database: no `db`, no database given in code or by the config, settings at their defaults.
   */
  readonly databaseUrl?: string;
  /** The database instead of the settings': an app's own Knex instance (never destroyed here), or a knex config. */
  readonly database?: Knex | Knex.Config;
  readonly logger?: Logger;
  /** Names the lock holder: "cli" or "editor". */
  readonly runner?: string;
  /** Folder with `migration.ts.template` and `migration.js.template`. */
  readonly templatesDir?: string;
  /** Parse and transpile results kept between processes (the CLI's); saved on `close()`. */
  readonly cache?: ResultCache;
  /** Server password when `migrations.passwordEnv` names no set variable (the editor's secret storage). */
  readonly password?: PasswordProvider;
  /**
   * Execute migration files (runs, SQL preview, validate) in a child process, which a cancel or
   * a migration past `migrationTimeoutMs` ends. Unset: in this process (tests, the child itself).
   */
  readonly isolate?: IsolateOptions;
  /**
   * Runs go straight to the lock, without first planning on a read: the caller already did
   * (the runner child, whose parent planned before it asked). A run then reads the history once.
   */
  readonly prechecked?: boolean;
  /**
   * The workspace's `migrations.config.*`, executed (`loadProjectConfig`) or described by a child
   * that executed it (`readProjectInChild`, the editor's way). Its settings win over `settings`.
   */
  readonly project?: ProjectConfig;
  /**
   * The environment runs and statuses are for (`--env`), over `migrations.environment` and the
   * config's: migrations declaring others are skipped. It also picks a knexfile's environment.
   */
  readonly environment?: string;
  /**
   * The workspace is not trusted (VS Code's Restricted Mode): no module under it is loaded, so
   * nothing that executes a migration file or a knexfile is allowed, and a SQLite file is read
   * through Node's built-in driver (`sqlite3`/`better-sqlite3` would load from its node_modules).
   */
  readonly untrusted?: boolean;
}

export interface RunOptions {
  /** Only this source (its id, or its folder relative to the workspace). */
  readonly source?: string;
  readonly events?: RunEvents;
  /** Checked between migrations: cancelling never interrupts one half-way. */
  readonly signal?: AbortSignal;
}

export interface StatusReport {
  readonly database: string;
  readonly sources: readonly {
    id: string;
    dir: string;
    migrations: SourceState['states'];
    problems: readonly Problem[];
    /** The version applied last (by apply order): what Redo and Roll Back Last act on in this source. */
    lastApplied?: number;
    /** A source no folder holds any more whose applied history these files match: the folder moved (see renameSource). */
    movedFrom?: string;
    /** Set for a source of the history that nothing here can load (its migrations are listed from the history): why. */
    elsewhere?: Elsewhere;
  }[];
  /** `stale`: its holder is gone (a killed run); the next run takes it over, `unlock` releases it. */
  readonly lock?: LockHolder & { readonly stale: boolean };
}

/** What verify and lint check: every pending migration, or those of one source, or one version. */
export interface CheckRequest {
  readonly source?: string;
  readonly version?: number;
  /** Checked between migrations here; in a child process, a cancel ends it at once. */
  readonly signal?: AbortSignal;
  /** Called as each migration's tries on the shadow begin, and with undefined as they end (the runner child's progress). */
  readonly onMigration?: (step: { source: string; version: number } | undefined) => void;
}

export interface SqlReport {
  readonly steps: readonly { step: StepReport; sql: string[] }[];
}

/** The temporary shadow databases on the server (`shadows`); none on SQLite, whose shadows are in memory. */
export interface ShadowsReport {
  readonly database: string;
  /** False on SQLite: there is nothing to list. */
  readonly server: boolean;
  readonly shadows: readonly TemporaryShadow[];
}

/** What `markApplied` or `forget` did. */
export interface RecordReport {
  readonly source: string;
  readonly version: number;
  /** False when the history already said so: nothing was written. */
  readonly recorded: boolean;
  /** The migration's status afterwards. */
  readonly status: MigrationStatus;
}

/**
 * The one API behind the CLI and the extension: discovery, status, runs, history.
 * Reads never write; every write happens under the database lock.
 */
export class MigrationEngine {
  readonly workspace: string;
  readonly settings: Settings;
  private readonly discovery: Discovery;
  private readonly target: DatabaseTarget;
  private readonly dialect: Dialect;
  private readonly logger: Logger;
  private readonly registered = new Map<string, Source>();
  /** Ids registered through `registerMigrations` (not the config's): they live only in this process. */
  private readonly inMemory = new Set<string>();
  /** Priorities given in code to registered sources (a plugin service's), over the config's and settings'. */
  private readonly priorities = new Map<string, number>();
  private readonly project?: ProjectConfig;
  /** `db`, or the environment's URL when nothing else names a database: what a child process is given too. */
  private readonly db?: string;
  private writer?: Knex;
  private reader?: Knex;

  constructor(private readonly options: EngineOptions) {
    if (!path.isAbsolute(options.workspace)) throw new ConfigError(`The workspace must be an absolute path (got "${options.workspace}").`);
    if (!fs.statSync(options.workspace, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ConfigError([`The workspace folder ${options.workspace} does not exist; `, { do: 'choose-workspace' }, '.']);
    }
    this.workspace = options.workspace;
    this.project = options.project;
    const settings = withProject(options.settings ?? readWorkspaceSettings(this.workspace), this.project);
    this.settings = options.environment ? { ...settings, environment: options.environment } : settings;
    const folders = this.project?.folders ?? [];
    this.discovery = new Discovery(this.workspace, folders.length > 0 ? folders.map((f) => f.dir) : this.settings.versionsDir, options.cache);
    // `--db` is the one thing said on the command line: it wins over the config's database too.
    const fromProject = options.database === undefined && options.db === undefined ? this.project?.database : undefined;
    const fromEnv = options.databaseUrl && options.db === undefined && options.database === undefined && !fromProject && !namesDatabase(this.settings) ? options.databaseUrl : undefined;
    this.db = options.db ?? fromEnv;
    this.target = chooseTarget(this.workspace, this.settings, {
      ...options, db: this.db, dbFrom: fromEnv && 'DATABASE_URL', database: options.database ?? fromProject, databaseFrom: fromProject && path.basename(this.project!.file),
    });
    this.dialect = dialectOf(this.target);
    this.logger = options.logger ?? silentLogger;
    // Discovery only when there is something to check against it: a status reads the files once.
    const code = this.project ? codeSources(this.project) : [];
    const folderIds = new Set(code.length > 0 ? this.folderSources().map((s) => s.id) : []);
    for (const source of code) {
      if (folderIds.has(source.id)) throw new ConfigError(`${this.project!.file}: "${source.id}" is the id of a folder source too; give one of them another id.`, { source: source.id });
      this.registered.set(source.id, source);
    }
  }

  /** Where the history lives, without secrets. */
  get databaseLabel(): string {
    return this.target.label;
  }

  /**
   * Migrations supplied in code instead of files, kept as their own source. `priority` places it
   * in the run order (a plugin's service passes its own; unset: as the config and settings say).
   */
  registerMigrations(sourceId: string, migrations: readonly (Migration | (new () => Migration))[], opts: { priority?: number } = {}): void {
    // One id, one source: the history could not tell a folder's migrations from these.
    if (this.folderSources().some((s) => s.id === sourceId)) {
      throw new ConfigError(`registerMigrations("${sourceId}"): a folder source already has that id; register these under another one.`, { source: sourceId });
    }
    this.registered.set(sourceId, registeredSource(sourceId, migrations));
    this.inMemory.add(sourceId);
    if (opts.priority !== undefined) this.priorities.set(sourceId, opts.priority);
  }

  /** Folder sources, under the ids the config gives their folders (an id that survives a move). */
  private folderSources(): Source[] {
    const declared = this.project?.folders;
    const found = this.discovery.discover();
    if (!declared?.length) return found;
    return found.map((s) => ({ ...s, id: declared.find((f) => f.dir === s.dir)?.id ?? s.id }));
  }

  /** Forgets what discovery knows of a file (or of every file): the editor reports a change. */
  invalidate(file?: string): void {
    this.discovery.invalidate(file);
  }

  /** Every source in run order: priority setting (higher first), then id. Static only. */
  sources(only?: string): Source[] {
    const all = [...this.folderSources(), ...this.registered.values()];
    const priority = (s: Source) => this.priorities.get(s.id) ?? priorityOf(s.id, this.project, this.settings);
    const ordered = all.sort((a, b) => priority(b) - priority(a) || a.id.localeCompare(b.id));
    if (only === undefined) return ordered;
    const wanted = sourceId(this.workspace, path.resolve(this.workspace, only));
    const found = ordered.filter((s) => s.id === only || s.id === wanted || (s.dir !== '' && sourceId(this.workspace, s.dir) === wanted));
    if (found.length === 0) throw new ConfigError(`No migration source "${only}"; the sources are: ${ordered.map((s) => s.id).join(', ') || '(none)'}.`, { source: only }, 'usage');
    return found;
  }

  /** Files joined with history. Opens SQLite read-only: no table or file is created. */
  async status(only?: string): Promise<StatusReport> {
    const all = this.sources();
    const sources = only === undefined ? all : this.sources(only);
    return this.guard(async () => {
      const { rows, unreadable, lock } = await this.snapshot({ lock: true });
      const history = new HistorySnapshot(rows, unreadable);
      const moved = movedMatches(sources, all, history);
      // Every source of the history is listed, those nothing here can load from the history alone;
      // one whose whole history a folder here matches is said on that folder (moved-source) instead.
      const elsewhere = only === undefined ? elsewhereSources(all, history).filter((e) => !moved.some((m) => m.complete && m.from === e.source.id)) : [];
      return {
        database: this.target.label,
        sources: [...history.states(sources, this.settings.environment).map(({ source: s, states }) => {
          const mine = moved.filter((m) => m.to === s);
          // Offered as a rename (the editor's Move History) only when the whole history would move.
          const movedFrom = mine.find((m) => m.complete)?.from;
          // migrations.sum: a file added or edited behind its back is that file's problem, the rest the source's.
          const sum = s.dir ? checkSum(s.dir, s.migrations) : [];
          const migrations = sum.length === 0 ? states : states.map((m) => {
            const own = sum.filter((p) => p.file === m.path);
            return own.length > 0 ? { ...m, problems: [...m.problems, ...own] } : m;
          });
          const onFiles = new Set(states.map((m) => m.path));
          const problems = [...s.problems, ...history.problemsOf(s), ...mine.map(movedProblem), ...sum.filter((p) => !onFiles.has(p.file))];
          return { id: s.id, dir: s.dir, migrations, problems, lastApplied: history.lastApplied(migrations), movedFrom };
        }), ...elsewhere.map(({ source, why }) => {
          // Registered in code, a migration has no file to miss: it is applied, only not loadable here.
          const migrations = history.states([source])[0].states.map((m) => (why === 'code' ? { ...m, status: 'applied' as const } : m));
          return { id: source.id, dir: '', migrations, problems: [], lastApplied: history.lastApplied(migrations), elsewhere: why };
        })],
        lock: lock && {
          holder: lock.holder, host: lock.host, pid: lock.pid, acquiredAt: lock.acquiredAt, heartbeat: lock.heartbeat, stale: isStale(lock, this.settings.staleLockMs),
        },
      };
    });
  }

  /**
   * Static checks, each folder's migrations.sum (its problems are errors: they block `up`; warnings
   * with `allowSumMismatch`), plus loading every file (executes workspace code: trusted workspaces only).
   */
  async validate(only?: string, opts: { allowSumMismatch?: boolean } = {}): Promise<Problem[]> {
    this.requireTrust('Loading the migration files');
    const problems: Problem[] = this.options.isolate ? await this.inChild({ op: 'validate', source: only }, {}) : this.sources(only).flatMap((s) => {
      const loaded = loadMigrations(s.migrations, this.options.cache);
      return [...s.problems, ...s.migrations.flatMap((m, i) => (m.problems.some((p) => p.severity === 'error') ? m.problems : mergeProblems(m.problems, loaded[i].problems))),
        ...(s.dir ? checkSum(s.dir, s.migrations) : [])];
    });
    return opts.allowSumMismatch ? allowingSumMismatch(problems) : problems;
  }

  /**
   * The problems that only loading shows (what `getMigration()` returns, a throw at import), per
   * file: the editor's diagnostics. Executes workspace code: trusted workspaces only.
   */
  async loadProblems(files: readonly MigrationFile[]): Promise<(readonly Problem[])[]> {
    this.requireTrust('Loading the migration files');
    if (this.options.isolate) return this.inChild({ op: 'load', files }, {});
    return loadMigrations(files, this.options.cache).map((r) => r.problems);
  }

  async up(opts: RunOptions & UpTarget = {}): Promise<RunReport> {
    checkOptions('up', opts, ['to', 'outOfOrder', 'tags', 'notMoved', 'allowSumMismatch', 'source', 'events', 'signal']);
    if (opts.tags !== undefined && (!Array.isArray(opts.tags) || !opts.tags.every((t) => typeof t === 'string' && t !== ''))) throw new ConfigError(`up: tags must be a list of tag names, not ${JSON.stringify(opts.tags)}.`, {}, 'usage');
    if (opts.to !== undefined && (!Number.isSafeInteger(opts.to) || opts.to < 1)) throw new ConfigError(`up: to must be a version (a whole number of 1 or more), not ${JSON.stringify(opts.to)}.`, {}, 'usage');
    let left: Step[] = [];
    const report = await this.run(opts, { op: 'up', source: opts.source, target: { to: opts.to, outOfOrder: opts.outOfOrder, tags: opts.tags, notMoved: opts.notMoved, allowSumMismatch: opts.allowSumMismatch } }, (states, history) => {
      if (opts.to !== undefined) requireVersion(states, 'Applying up to a version', opts.to);
      left = passedOver(states, opts);
      const steps = planUp(states, opts);
      // Like Atlas: files that differ from their sources' migrations.sum do not run, unless said so.
      const mismatch = opts.allowSumMismatch ? undefined : sumMismatch(steps.map((s) => s.source));
      if (mismatch) throw mismatch;
      // Against every source (not only those asked for): a source held here has not moved.
      if (!opts.notMoved) refuseMoved(steps, () => this.sources(), history);
      return steps;
    });
    // Never silent: what this up left pending for being out of order (the runner child says it itself).
    if (report.passedOver || left.length === 0) return report;
    return { ...report, passedOver: left.map((s) => ({ source: s.source.id, version: s.file.version, description: s.description })) };
  }

  /** Rolls back the last applied migration; `{ to: V }` down to V (which stays applied); `{ all: true }` everything. */
  async down(opts: RunOptions & Partial<{ to: number; all: boolean; last: boolean }> = {}): Promise<RunReport> {
    checkOptions('down', opts, ['to', 'all', 'last', 'source', 'events', 'signal']);
    if (opts.to !== undefined && (!Number.isSafeInteger(opts.to) || opts.to < 0)) throw new ConfigError(`down: to must be a version (a whole number of 0 or more), not ${JSON.stringify(opts.to)}.`, {}, 'usage');
    if ([opts.to !== undefined, opts.all === true, opts.last === true].filter(Boolean).length > 1) throw new ConfigError('down: pass one of to, all and last.', {}, 'usage');
    const target: DownTarget = opts.to !== undefined ? { to: opts.to } : opts.all ? { all: true } : { last: true };
    return this.run(opts, { op: 'down', source: opts.source, target }, (states, history) => {
      // Down to 0 rolls everything back; any other version must be one there is.
      if ('to' in target) requireVersion(states, 'Rolling back to a version', target.to || undefined);
      else if (opts.source === undefined) refuseRollbackPastElsewhere(target, this.sources(), history);
      return planDown(states, target, (s) => history.appliedOrder(s));
    });
  }

  /** Rolls the last applied migration back and applies it again, under one lock. */
  async redo(opts: RunOptions = {}): Promise<RunReport> {
    return this.run(opts, { op: 'redo', source: opts.source }, (states, history) => {
      if (opts.source === undefined) refuseRollbackPastElsewhere({ last: true }, this.sources(), history);
      const down = planDown(states, { last: true }, (s) => history.appliedOrder(s));
      return [...down, ...down.map((s) => ({ ...s, direction: 'up' as const }))];
    });
  }

  /** The SQL an apply or rollback would run, captured in a transaction that is rolled back. */
  async sql(direction: 'up' | 'down', opts: { source?: string; to?: number; all?: boolean } = {}): Promise<SqlReport> {
    this.requireTrust('A dry run');
    if (this.dialect.noDryRun) throw new MigrationsError(this.dialect.noDryRun);
    if (this.options.isolate) return this.inChild({ op: 'sql', direction, ...opts }, {});
    const sources = this.sources(opts.source);
    return this.guard(async () => {
      const history = await this.read();
      const states = history.states(sources, this.settings.environment);
      if (opts.to !== undefined) requireVersion(states, 'A dry run to a version', opts.to || undefined);
      const target: DownTarget = opts.to !== undefined ? { to: opts.to } : opts.all ? { all: true } : { last: true };
      const steps = direction === 'up' ? planUp(states, { to: opts.to }) : planDown(states, target, (s) => history.appliedOrder(s));
      if (steps.length === 0) return { steps: [] };
      const loaded = this.load(steps);
      // Its work would not be rolled back: previewing it would apply it (or the part that ran).
      const outside = loaded.find((s) => s.migration.transaction === false);
      if (outside) {
        throw new MigrationsError(`Migration ${outside.file.version} (${outside.source.id}) sets transaction = false, so a dry run would really apply it: it cannot be previewed. Preview the migrations before it (--to ${outside.file.version - 1}), or read its code.`, { facts: { source: outside.source.id, version: outside.file.version } });
      }
      // Its own connection: no file created (a missing SQLite file becomes an empty
      // in-memory database) and no journal-mode switch, so a dry run leaves no trace.
      const knex = this.dialect.open('dry-run')!;
      try {
        return { steps: await captureSql(loaded, knex) };
      } finally {
        if (knex !== this.target.instance) await knex.destroy();
      }
    });
  }

  async history(opts: { source?: string; limit?: number } = {}): Promise<HistoryRow[]> {
    // 0 would list everything: a limit is a count of rows, 1 or more.
    if (opts.limit !== undefined && (!Number.isSafeInteger(opts.limit) || opts.limit < 1)) throw new ConfigError(`history: limit must be a whole number of 1 or more, not ${JSON.stringify(opts.limit)}.`, {}, 'usage');
    return this.guard(async () => {
      const { rows, unreadable } = await this.snapshot({ source: opts.source });
      // A listing that left rows out would lie about the history.
      if (unreadable.length > 0) throw new CorruptHistoryError(this.target.label, unreadable.map((u) => u.text));
      return opts.limit !== undefined ? rows.slice(-opts.limit) : rows;
    });
  }

  async lockHolder(): Promise<LockHolder | undefined> {
    return this.guard(async () => (await this.snapshot({ lock: true })).lock);
  }

  /** Releases a stale lock, or any lock with `force`. */
  async unlock(force = false): Promise<LockHolder | undefined> {
    return this.guard(async () => {
      if (!this.readDb()) return undefined;
      const released = await this.lock(this.writeDb()).unlock(force);
      if (released) this.logger.info(`Released the migration lock held by ${released.holder} (pid ${released.pid}).`);
      return released;
    });
  }

  /**
   * Records `version` as applied without running it: a baseline for a database whose schema
   * already has it, or the end of a repair by hand. The checksum of the file as it is now is kept.
   */
  async markApplied(opts: { source?: string; version: number }): Promise<RecordReport> {
    return this.record('up', opts);
  }

  /**
   * Records every migration of the source up to `to` that is not applied as applied, without
   * running any, in one step (Flyway's baseline): for a database whose schema already has them.
   * Returns the versions recorded (none when all were applied already).
   */
  async markAppliedUpTo(opts: { source?: string; to: number }): Promise<{ source: string; to: number; versions: number[] }> {
    checkOptions('markAppliedUpTo', opts, ['source', 'to']);
    if (!Number.isSafeInteger(opts.to) || opts.to < 1) throw new ConfigError(`markAppliedUpTo: to must be a version (a whole number of 1 or more), not ${JSON.stringify(opts.to)}.`, {}, 'usage');
    const sources = this.sources(opts.source);
    requireOneSource(sources.map((source) => ({ source, states: [] })), 'Marking migrations applied up to a version');
    const [source] = sources;
    const { environment } = this.settings;
    // All or nothing: a baseline half recorded would leave the rest out of order.
    const versions = (await this.appendByHand((history) => baselineRows(source, history, opts.to, environment))).map((r) => r.version);
    if (versions.length > 0) this.logger.info(`Marked migration(s) ${versions.join(', ')} (${source.id}) as applied by hand; nothing was run.`);
    return { source: source.id, to: opts.to, versions };
  }

  /** Records `version` as not applied without running it (after undoing it by hand): it is pending again. */
  async forget(opts: { source?: string; version: number }): Promise<RecordReport> {
    return this.record('down', opts);
  }

  /**
   * Moves the applied history of source `from` (a folder moved or renamed) to the folder source
   * `to`, whose files must match it by version and checksum: rows recorded by hand, nothing run.
   */
  async renameSource(from: string, to: string): Promise<{ from: string; to: string; versions: number[] }> {
    const [target] = this.sources(to);
    if (target.dir === '') throw new ConfigError(`"${to}" is not a folder source.`, { source: to }, 'usage');
    if (this.sources().some((s) => s.id === from)) throw new ConfigError(`"${from}" is still a folder here; only the history of a source no folder holds any more can move.`, { source: from }, 'usage');
    // All or nothing: a history half moved would show some migrations pending in both places.
    const rows = await this.appendByHand((history) => renameRows(from, target, history));
    const versions = rows.filter((r) => r.direction === 'up').map((r) => r.version);
    this.logger.info(`Moved the history of ${from} to ${target.id} (migrations ${versions.join(', ')}); nothing was run.`);
    return { from, to: target.id, versions };
  }

  create(description: string, opts: { source?: string; js?: boolean } = {}): Created {
    const templatesDir = this.settings.templatesDir ? path.resolve(this.workspace, this.settings.templatesDir) : this.options.templatesDir;
    if (!templatesDir) throw new ConfigError('No templates folder: set migrations.templatesDir.');
    const source = this.createTarget(opts.source);
    // Both files it writes checked first: no migration is left without its line in the sum.
    insideWorkspace(this.workspace, path.join(source.dir, SUM_FILE));
    const created = createMigration(source, { description, js: opts.js, templatesDir, workspace: this.workspace });
    // The integrity file lists the new file at once: the branch that adds it changes the sum.
    writeSum(source.dir, this.discovery.readSource(source.dir).migrations, this.workspace);
    this.logger.info(`Created ${created.path}`);
    return created;
  }

  /**
   * The folder `create` writes into: a folder source named by id or folder (found, or configured by
   * versionsDir or the project config and not made yet), else a new `versions` folder inside the
   * workspace (what discovery finds once it holds a file). Migrations in code have no folder.
   */
  private createTarget(only?: string): Pick<Source, 'dir' | 'migrations'> {
    const found = this.folderSources();
    const declared = this.project?.folders.length ? this.project.folders : this.settings.versionsDir.map((d) => ({ id: undefined, dir: path.resolve(this.workspace, d) }));
    const folders = [...found, ...declared.filter((d) => !found.some((s) => s.dir === d.dir)).map((d) => ({ id: d.id ?? sourceId(this.workspace, d.dir), dir: d.dir, migrations: [] }))];
    const ids = () => [...folders.map((s) => s.id), ...this.registered.keys()].sort().join(', ') || '(none)';
    if (only === undefined) {
      if (folders.length === 1) return folders[0];
      if (folders.length === 0) return { dir: path.join(this.workspace, 'versions'), migrations: [] };
      throw new ConfigError([`There are several sources (${folders.map((s) => s.id).join(', ')}): `, { do: 'name-source' }, '.'], {}, 'usage');
    }
    const dir = path.resolve(this.workspace, only);
    const named = folders.find((s) => s.id === only || s.dir === dir);
    if (named) return named;
    if (this.registered.has(only)) {
      throw new ConfigError(`"${only}" is a source of migrations in code, not a folder: create writes files into folder sources only (${folders.map((s) => s.id).join(', ') || 'none yet'}).`, { source: only }, 'usage');
    }
    const rel = path.relative(this.workspace, dir);
    if (climbsOut(rel) || path.basename(dir) !== 'versions') {
      throw new ConfigError(`"${only}" is not a migration source (the sources are: ${ids()}), nor a "versions" folder inside the workspace to start one; name a source or such a folder.`, { source: only }, 'usage');
    }
    // A versions folder that is not a source yet (e.g. outside migrations.versionsDir) may still hold files: number after them.
    return this.discovery.readSource(dir);
  }

  /**
   * Proves each pending migration reversible on a shadow database (never this one): the applied
   * ones replayed from empty, then up → down → up, comparing schemas. Executes workspace code.
   */
  async verify(opts: CheckRequest = {}): Promise<VerifyReport> {
    return this.check({ ...opts, reversibility: true });
  }

  /** Each pending migration's SQL, captured on a shadow database, checked by the safety-lint rules. */
  async lint(opts: CheckRequest = {}): Promise<VerifyReport> {
    return this.check({ ...opts, reversibility: false });
  }

  /** The live schema against the applied migrations replayed on a shadow: what changed outside migrations. */
  async drift(opts: Pick<CheckRequest, 'signal' | 'onMigration'> = {}): Promise<DriftReport> {
    this.requireTrust('Checking drift');
    if (this.options.isolate) return this.inChild({ op: 'drift' }, { signal: opts.signal });
    const { applied } = await this.checkSteps();
    await this.sweepShadows();
    return this.guard(async () => driftOf(this.target, this.settings, applied, await this.liveSchema(), this.shadowLimits(opts.onMigration)));
  }

  /**
   * The temporary shadow databases on the server (PostgreSQL, MySQL) that checks left: a run killed
   * before it could drop its own. `drop`: drops each one not in use by a check running on this
   * machine, and made by this tool (marked, or empty); `kept` says why one was not.
   */
  async shadows(opts: { drop?: boolean } = {}): Promise<ShadowsReport> {
    if (!this.dialect.server) return { database: this.target.label, server: false, shadows: [] };
    const shadows = await this.guard(() => (opts.drop ? dropTemporaryShadows(this.target, 'not-running') : listTemporaryShadows(this.target)));
    return { database: this.target.label, server: true, shadows };
  }

  /**
   * Before each check: the temporary shadows of runs that are gone (a killed CLI, a crashed editor)
   * are dropped, so none outlives the next check. A failure here never fails the check.
   */
  private async sweepShadows(): Promise<void> {
    if (!this.dialect.server) return;
    try {
      const dropped = (await this.guard(() => dropTemporaryShadows(this.target, 'gone'))).filter((s) => s.dropped).map((s) => s.name);
      if (dropped.length > 0) this.logger.info(`Dropped the temporary shadow database(s) that checks which are gone left: ${dropped.join(', ')}.`);
    } catch (err) {
      this.logger.warn(`Could not drop the temporary shadow databases that stopped checks left: ${describeError(err)}.`);
    }
  }

  /** migrationTimeoutMs for each try on a shadow, and the progress a parent process watches to enforce it. */
  private shadowLimits(onMigration: CheckRequest['onMigration']): { timeoutMs: number; around?: { before(step: LoadedStep): void; after(): void } } {
    return {
      timeoutMs: this.settings.migrationTimeoutMs,
      around: onMigration && { before: (step) => onMigration({ source: step.source.id, version: step.file.version }), after: () => onMigration(undefined) },
    };
  }

  /** The live database's schema, dumped deterministically; `write` also saves it to the schema file. */
  /**
   * The live database's schema, dumped deterministically; `write` also saves it to the schema file,
   * refusing (SchemaOfAnotherDatabase) a file that holds another database's snapshot unless `replace`.
   */
  async schema(opts: { write?: boolean; replace?: boolean } = {}): Promise<{ model: SchemaModel; text: string; path?: string; written: boolean; database: string }> {
    return this.guard(async () => {
      const model = await this.liveSchema();
      const database = this.snapshotName();
      const text = dumpSchema(model, this.dialect.name, database);
      const file = opts.write ? this.schemaFile(true) : undefined;
      return { model, text, path: file, written: file !== undefined && writeSnapshot(this.workspace, file, text, database, opts.replace), database };
    });
  }

  /**
   * The database as a schema snapshot names it: the same on every machine (no host, no absolute
   * path inside the workspace), so a committed snapshot is not rewritten for where it was made.
   */
  private snapshotName(): string {
    const t = this.target;
    if (t.filename) {
      const rel = path.relative(this.workspace, t.filename);
      return `${t.client} ${climbsOut(rel) ? t.filename : rel.split(path.sep).join('/')}`;
    }
    const connection = t.knexConfig?.connection;
    const name = t.server?.database ?? (typeof connection === 'object' && connection !== null && 'database' in connection ? String(connection.database) : undefined);
    return name ? `${t.client} ${name}` : t.label;
  }

  /** Rewrites each folder source's migrations.sum from its files. */
  rehash(only?: string): { source: string; path: string; changed: boolean }[] {
    const folders = this.sources(only).filter((s) => s.dir !== '');
    // Every sum checked before any is written: a refusal leaves all of them as they were.
    for (const s of folders) insideWorkspace(this.workspace, path.join(s.dir, SUM_FILE));
    return folders.map((s) => ({ source: s.id, ...writeSum(s.dir, s.migrations, this.workspace) }));
  }

  private async check({ signal, onMigration, ...opts }: CheckRequest & { reversibility: boolean }): Promise<VerifyReport> {
    checkOptions(opts.reversibility ? 'verify' : 'lint', opts, ['source', 'version', 'reversibility']);
    this.requireTrust(opts.reversibility ? 'Verify' : 'Lint');
    if (this.options.isolate) return this.inChild({ op: 'check', ...opts }, { signal });
    const wanted = new Set(this.sources(opts.source).map((s) => s.id));
    const steps = await this.checkSteps();
    const { applied } = steps;
    // One source asked about is checked as `up --source` would apply it: the other sources' pending
    // migrations are not its concern, and one of them failing must not stand in for its result.
    const pending = opts.source === undefined ? steps.pending : steps.pending.filter((s) => wanted.has(s.source.id));
    const only = (step: LoadedStep) => wanted.has(step.source.id) && (opts.version === undefined || step.file.version === opts.version);
    if (opts.version !== undefined && !pending.some(only)) {
      const sources = this.sources(opts.source);
      if (!sources.some((s) => s.migrations.some((m) => m.version === opts.version))) {
        throw new ConfigError(`There is no migration ${opts.version} in ${sources.map((s) => s.id).join(', ') || 'this workspace'}; check the version.`, { version: opts.version }, 'usage');
      }
      throw new ConfigError(`Migration ${opts.version} is not pending${opts.source ? ` in ${opts.source}` : ''}: only pending migrations are checked (roll it back first to check it again).`, {}, 'usage');
    }
    // Nothing after the last one asked about needs to run.
    const last = pending.map(only).lastIndexOf(true);
    await this.sweepShadows();
    return this.guard(() => checkOnShadow(this.target, this.settings, applied, pending.slice(0, last + 1), { reversibility: opts.reversibility, lint: this.settings.lint, only, signal, ...this.shadowLimits(onMigration) }));
  }

  /** The applied migrations in the order they were applied, and the pending ones this environment runs, loaded. */
  private async checkSteps(): Promise<{ applied: LoadedStep[]; pending: LoadedStep[] }> {
    const sources = this.sources();
    const history = refuseUnreadable(await this.guard(() => this.read()), this.target.label);
    const states = history.states(sources, this.settings.environment);
    const applied = states.flatMap(({ source, states: s }) => s.filter((m) => m.applied).map((m) => ({ source, m })))
      .sort((a, b) => history.appliedOrder(a.m) - history.appliedOrder(b.m))
      .map(({ source, m }) => {
        const file = source.migrations.find((f) => f.version === m.version && f.path === m.path);
        if (!file) throw new MigrationsError(`Applied migration ${m.version} (${source.id}) has no file any more, so the schema cannot be rebuilt to check against. Restore the file.`, { facts: { source: source.id, version: m.version } });
        return { source, file, direction: 'up' as const, description: m.description };
      });
    const pending = planUp(states, {});
    const loaded = this.load([...applied, ...pending]);
    const selection = { environment: this.settings.environment };
    return { applied: loaded.slice(0, applied.length), pending: loaded.slice(applied.length).filter((s) => runsIn(s.migration, selection)) };
  }

  private async liveSchema(): Promise<SchemaModel> {
    const knex = this.readDb();
    return knex ? introspect(knex, schemaKind(this.target)) : { tables: [] };
  }

  private schemaFile(asked = false): string | undefined {
    const dirs = this.discovery.dirs();
    return schemaFilePath({ setting: this.settings.schemaFile, workspace: this.workspace, sourceDirs: dirs, app: this.options.runner === 'app', asked });
  }

  /** After a run that changed something: the schema file rewritten, so a pull request shows what the migrations did. */
  private async writeSchemaAfterRun(knex: Knex): Promise<void> {
    const file = this.schemaFile();
    if (!file) return;
    try {
      const database = this.snapshotName();
      writeSnapshot(this.workspace, file, await dumpForFile(knex, schemaKind(this.target), this.dialect.name, database, file, this.options.cache?.besides('schema')), database);
    } catch (err) {
      // The run itself succeeded: a snapshot that cannot be written is worth a warning, not a failure.
      this.logger.warn(`The schema snapshot ${file} was not written: ${describeError(err).replace(/\.$/, '')}.`);
    }
  }

  /** Closes database connections; the engine can be used again afterwards. */
  async close(): Promise<void> {
    // An app's own Knex instance stays open: the app closes it.
    const open = [this.writer, this.reader].filter((k): k is Knex => k !== undefined && k !== this.target.instance);
    this.writer = this.reader = undefined;
    this.options.cache?.save();
    await Promise.all(open.map((k) => k.destroy()));
  }

  /** The same operation on an engine in a child process (see `EngineOptions.isolate`). */
  private async inChild<T>(request: ChildRequest, opts: RunOptions, child?: RunnerProcess): Promise<T> {
    // Registered migrations live in this process's memory: they cannot cross to the child.
    if (this.inMemory.size > 0) throw new ConfigError('Migrations registered in code cannot run in a child process; declare them in migrations.config.ts, or create the engine without "isolate".');
    if (this.options.database !== undefined) throw new ConfigError('A database given in code cannot cross to a child process; create the engine without "isolate".');
    const { options } = this;
    // A password from secret storage travels over the pipe; the child reads the environment itself.
    const password = this.dialect.server && !process.env[this.settings.passwordEnv] ? await options.password?.() : undefined;
    const config = {
      workspace: this.workspace, settings: this.settings, db: this.db, runner: options.runner, templatesDir: options.templatesDir, cache: options.cache !== undefined, password,
      // The child executes the config itself: its migrations and hooks cannot cross the pipe.
      project: this.project !== undefined,
    };
    const onShadow = request.op === 'check' || request.op === 'drift';
    return runInChild<T>(child ?? forkRunner(options.isolate!), config, request, {
      events: opts.events, signal: opts.signal, logger: this.logger, timeoutMs: this.settings.migrationTimeoutMs,
      recordStopped: (stopped) => this.recordStopped(stopped),
      killOnCancel: onShadow,
      // A temporary shadow database on a server outlives a runner ended mid-check: drop it from here.
      leftBehind: onShadow && this.dialect.server && !this.settings.shadowDatabase ? (pid) => this.dropShadowsLeftBy(pid) : undefined,
    });
  }

  private async dropShadowsLeftBy(pid: number): Promise<void> {
    const dropped = await dropShadowsOf(this.target, pid);
    if (dropped.length > 0) this.logger.info(`Dropped the temporary shadow database(s) the stopped runner left: ${dropped.join(', ')}.`);
  }

  /**
   * Records a migration whose process was ended mid-way (time-out, cancel) as failed. Its
   * transaction died with that process; the lock it held is taken over as its holder is gone.
   * Also called by the helper a CLI leaves when it had to end its whole process (runner.ts).
   */
  async recordStopped(stopped: StoppedStep): Promise<void> {
    await this.guard(async () => {
      // A runner thread's lock row carries this process's pid, so it looks alive; the thread is gone.
      // (A server's lock went with the thread's connection.)
      if (this.options.isolate?.thread && !this.dialect.server) await releaseOwnLock(this.lock(this.writeDb()));
      await this.underLock(async (_knex, history) => {
        const { step, info } = stopped;
        // The marker the stopped runner committed before the migration's first statement, if it had one
        // (then it is the migration's newest row): the outcome replaces it.
        const newest = (await history.rows(step.source)).filter((r) => r.version === step.version).pop();
        const marker = newest?.running && newest.direction === step.direction ? newest : undefined;
        const startedAt = marker ? new Date(marker.startedAt) : stopped.startedAt;
        const row = {
          source: step.source, version: step.version, description: step.description, checksum: info.checksum, direction: step.direction,
          startedAt: marker?.startedAt ?? startedAt.toISOString(), finishedAt: new Date().toISOString(), durationMs: Date.now() - startedAt.valueOf(),
          success: false, error: stopped.error, transactional: info.transactional, partial: stopped.partial,
        };
        await (marker ? history.finish(row) : history.append(row));
      });
    });
  }

  /**
   * A run: planned on a read first (nothing to do opens no writer and loads nothing), then planned
   * again under the lock, in this process or in the child (`request`). A child process is forked
   * first and loads while this process checks; it is ended unused when there is nothing to do. A
   * runner thread (the CLI) starts only once there is work: starting and ending one costs a no-op
   * ~30 ms, more than its loading overlaps with the checks.
   */
  private async run(opts: RunOptions, request: ChildRequest, plan: (states: SourceState[], history: HistorySnapshot) => Step[]): Promise<RunReport> {
    this.requireTrust('Running migrations');
    const { isolate } = this.options;
    const child = isolate && !isolate.thread && this.inMemory.size === 0 && this.options.database === undefined ? forkRunner(isolate) : undefined;
    try {
      const sources = this.sources(opts.source);
      // A folder linking out of the workspace is never run (Discovery.readSource): the report of an up says so, once (not again from the child).
      const outside = request.op === 'up' && !this.options.prechecked ? sources.filter((s) => s.problems.some((p) => p.code === 'outside-workspace')) : [];
      const refused = (report: RunReport) => outside.length === 0 ? report : withBlocked(report, [], outside.flatMap((s) => s.problems), outside.map((s) => s.id));
      return refused(await this.guard(async () => {
        // Planned on a read first; the runner child (prechecked) reads only while it has no writer
        // open, so that files which cannot run are refused before the writer is opened below.
        let before: Step[] | undefined;
        if (!this.options.prechecked || (!this.options.isolate && !this.writer)) {
          const { rows, unreadable, lock } = await this.snapshot({ lock: true });
          const seen = new HistorySnapshot(rows, unreadable);
          before = runnable(plan(seen.states(sources, this.settings.environment), seen), seen, this.target.label).steps;
          refuseHalfDone(before, seen, false);
          if (before.length === 0) {
            // A runner killed after its last commit left its lock row: the next run takes it over
            // even with nothing to do, as one with work would, so no dead holder's row outlives it.
            if (lock && isStale(lock, this.settings.staleLockMs)) await this.underLock(async () => undefined);
            return { ok: true, steps: [] };
          }
        }
        if (this.options.isolate) return await this.inChild<RunReport>(request, opts, child);
        // Loaded before the lock: a run refused for its files creates no database file and no table.
        const early = before && this.loadBySource(before);
        if (early && early.loaded.length === 0 && early.problems.length > 0) throw new InvalidMigrationsError(early.problems);
        const preloaded = new Map(early?.results.map((r, i) => [loadKey(before![i]), r]));
        return this.underLock(async (knex, history, lock) => {
          // Another runner may have applied some of the plan while this one waited.
          const read = await history.read();
          const now = new HistorySnapshot(read.rows, read.unreadable);
          const { steps: planned, blocked: unreadable } = runnable(plan(now.states(sources, this.settings.environment), now), now, this.target.label);
          refuseHalfDone(planned, now);
          // A source with a bad file blocks only itself; when nothing else is left, nothing runs.
          const { loaded: steps, blocked: invalid, problems: loadProblems } = this.loadBySource(planned, preloaded);
          if (steps.length === 0 && loadProblems.length > 0) throw new InvalidMigrationsError(loadProblems);
          const blocked = [...unreadable, ...invalid];
          const problems = [...new Set(unreadable.map((s) => s.source))].flatMap((s) => now.problemsOf(s)).concat(loadProblems);
          this.logger.info(`Running ${plural(steps.length, 'migration')} on ${this.target.label}.`);
          const report = await runSteps(steps, {
            knex, history, events: withHooks(opts.events, this.project?.hooks), signal: opts.signal, between: (db) => lock.heartbeat(db), timeoutMs: this.settings.migrationTimeoutMs,
            dialect: this.dialect, selection: { environment: this.settings.environment, tags: request.op === 'up' ? request.target.tags : undefined },
            databaseFailure: (err) => (ownCall(err) ? undefined : databaseError(err, this.target.label, this.target.filename, this.target.server)),
          });
          for (const s of report.steps) if (s.outcome === 'failed') this.logger.error(s.error ?? 'failed');
          if (report.ok && report.steps.some((s) => s.outcome === 'done')) await this.writeSchemaAfterRun(knex);
          return blocked.length === 0 ? report : withBlocked(report, blocked, problems);
        });
      }));
    } finally {
      // Unused (nothing to do, a refusal), or left alive by a failure before it was asked: ended.
      if (child?.connected) child.kill();
    }
  }

  /**
   * Rows recorded by hand, nothing run (a baseline, a moved history): decided on a read first, so
   * that a refused request or one with nothing to record creates no database, then again under the
   * lock, and appended all or nothing. Refused while the history holds rows we did not write.
   */
  private async appendByHand(rowsOf: (history: HistorySnapshot) => NewHistoryRow[]): Promise<NewHistoryRow[]> {
    return this.guard(async () => {
      if (rowsOf(refuseUnreadable(await this.read(), this.target.label)).length === 0) return [];
      return this.underLock(async (knex, history) => {
        const read = await history.read();
        const rows = rowsOf(refuseUnreadable(new HistorySnapshot(read.rows, read.unreadable), this.target.label));
        await knex.transaction(async (trx) => {
          for (const row of rows) await history.append(row, trx);
        });
        return rows;
      });
    });
  }

  /** Whatever executes a migration file (or a config's code): never in a workspace that is not trusted. */
  private requireTrust(what: string): void {
    if (this.options.untrusted) throw new ConfigError(`${what} executes the workspace's code, and this workspace is not trusted: trust it (Manage Workspace Trust) first.`);
  }

  /** Every write: the write connection, the lock held throughout, the history table ready. */
  private async underLock<T>(work: (knex: Knex, history: HistoryStore, lock: MigrationLock) => Promise<T>): Promise<T> {
    const knex = this.writeDb();
    const lock = this.lock(knex);
    await lock.acquire();
    try {
      const history = this.historyOf(knex);
      await history.ensure();
      return await work(knex, history, lock);
    } finally {
      await lock.release();
    }
  }

  /** Appends a hand-made history row (mark-applied: up, forget: down) under the lock; nothing is run. */
  private async record(direction: Direction, opts: { source?: string; version: number }): Promise<RecordReport> {
    const sources = this.sources(opts.source);
    return this.guard(async () => {
      // Decided on a read first, so that a request with nothing to do creates no database.
      const first = manualRow(direction, sources, refuseUnreadable(await this.read(), this.target.label), opts.version);
      if (!first.row) return { source: first.source.id, version: opts.version, recorded: false, status: first.state.status };
      return this.underLock(async (_knex, history) => {
        const read = await history.read();
        const { source, row } = manualRow(direction, sources, refuseUnreadable(new HistorySnapshot(read.rows, read.unreadable), this.target.label), opts.version);
        if (row) {
          await history.append(row);
          // Info, not a warning: the caller says it once (a warning would print it again in the terminal).
          this.logger.info(`${direction === 'up' ? 'Marked' : 'Forgot'} migration ${opts.version} (${source.id}) ${direction === 'up' ? 'as applied' : '(now not applied)'} by hand; nothing was run.`);
        }
        // A forgotten migration whose file is gone drops out of the list: it is as good as never applied.
        const state = new HistorySnapshot(await history.rows()).states([source])[0].states.find((m) => m.version === opts.version);
        return { source: source.id, version: opts.version, recorded: row !== undefined, status: state?.status ?? 'pending' };
      });
    });
  }

  /** Database failures (locked, read-only, not a database…) become errors that name the file and say what to do. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw databaseError(err, this.target.label, this.target.filename, this.target.server) ?? err;
    }
  }

  private historyOf(knex: Knex): HistoryStore {
    return new HistoryStore(knex, this.target.label);
  }

  /** Loads every step's migration before the first runs, so a bad file stops nothing half-way. */
  private load(steps: readonly Step[]): LoadedStep[] {
    const { loaded, problems } = this.loadBySource(steps);
    if (problems.length > 0) throw new InvalidMigrationsError(problems);
    return loaded;
  }

  /**
   * Loads every step; a source with a problem in play (a file that cannot run, a duplicate
   * version) is left out whole, so it blocks only itself. Its steps and problems are returned.
   */
  private loadBySource(steps: readonly Step[], preloaded?: ReadonlyMap<string, LoadResult>): { loaded: LoadedStep[]; blocked: Step[]; problems: Problem[]; results: LoadResult[] } {
    const problemsOf = new Map<Source, Problem[]>();
    const add = (source: Source, ...found: Problem[]) => problemsOf.set(source, [...(problemsOf.get(source) ?? []), ...found]);
    for (const source of new Set(steps.map((s) => s.source))) {
      add(source, ...source.migrations.flatMap((m) => m.problems.filter((p) => p.code === 'duplicate-version')));
    }
    // Files loaded already (before the lock) are not executed a second time.
    const missing = steps.filter((s) => !preloaded?.has(loadKey(s)));
    const fresh = loadMigrations(missing.map((s) => s.file), this.options.cache);
    let next = 0;
    const results = steps.map((s) => preloaded?.get(loadKey(s)) ?? fresh[next++]);
    const all = steps.map((step, i) => {
      const result = results[i];
      // Duplicates are already listed above, once per file.
      add(step.source, ...result.problems.filter((p) => p.severity === 'error' && p.code !== 'duplicate-version'));
      if (result.migration && step.direction === 'down' && typeof result.migration.down !== 'function') {
        add(step.source, { ...result.problems.find((p) => p.code === 'missing-down')!, severity: 'error',
          message: `Cannot roll back ${step.file.version}: it has no down(). Add a down(knex) that undoes up(), or roll back only newer migrations.` });
      }
      return { ...step, migration: result.migration! };
    });
    const bad = (step: Step) => (problemsOf.get(step.source)?.length ?? 0) > 0;
    return { loaded: all.filter((s) => !bad(s)), blocked: steps.filter(bad), problems: [...problemsOf.values()].flat(), results };
  }

  private lock(knex: Knex): MigrationLock {
    return this.dialect.lock(knex, { kind: this.options.runner ?? 'cli', timeoutMs: this.settings.lockTimeoutMs, staleMs: this.settings.staleLockMs }, this.logger);
  }

  /**
   * History rows (and the lock, when asked) for a read. On the built-in SQLite driver straight
   * through node:sqlite, without loading knex; otherwise on the read connection.
   */
  private async snapshot(opts: { source?: string; lock?: boolean } = {}): Promise<HistoryRead> {
    if (this.dialect.quickRead && !this.writer) return this.dialect.quickRead(opts.source);
    const knex = this.readDb();
    if (!knex) return { rows: [], unreadable: [] };
    return { ...(await this.historyOf(knex).read(opts.source)), lock: opts.lock ? await this.lock(knex).current() : undefined };
  }

  /** One read of the history, folded once; a source with rows we did not write is blocked, not the others. */
  private async read(): Promise<HistorySnapshot> {
    const { rows, unreadable } = await this.snapshot();
    return new HistorySnapshot(rows, unreadable);
  }

  private readDb(): Knex | undefined {
    if (this.writer) return this.writer;
    return (this.reader ??= this.dialect.open('read'));
  }

  private writeDb(): Knex {
    if (!this.writer) {
      // A read-only SQLite handle would not see the switch to WAL cleanly; one handle from here on.
      if (this.reader !== this.target.instance) void this.reader?.destroy();
      this.reader = undefined;
      this.writer = this.dialect.open('write')!;
    }
    return this.writer;
  }
}


/**
 * The workspace's project config as plain data, executed in a child process: the editor's way
 * to read it, as it runs no workspace code itself. Undefined when the workspace has none.
 */
export async function readProjectInChild(workspace: string, isolate: IsolateOptions, logger: Logger = silentLogger): Promise<ProjectConfig | undefined> {
  if (!findProjectConfig(workspace)) return undefined;
  const config = { workspace, settings: readWorkspaceSettings(workspace), cache: false };
  const described = await runInChild<ProjectConfig | null>(forkRunner(isolate), config, { op: 'project' }, { logger, timeoutMs: 0, recordStopped: async () => {} });
  return described ?? undefined;
}

/** The config's hooks around the caller's events: the config's first, each awaited. */
function withHooks(events: RunEvents | undefined, hooks: ProjectConfig['hooks']): RunEvents | undefined {
  if (!hooks) return events;
  return {
    ...events,
    beforeMigration: async (step, index, total, info) => {
      await hooks.beforeMigration?.(step);
      await events?.beforeMigration?.(step, index, total, info);
    },
    afterMigration: async (step, index, total) => {
      await hooks.afterMigration?.(step);
      await events?.afterMigration?.(step, index, total);
    },
  };
}

/**
 * An error of the migration's own call into Node (a file it wrote, a service it called: they carry
 * `path` or `syscall`), which is its failure, not the database's; the drivers' own are told apart
 * by their codes and words (see databaseError).
 */
function ownCall(err: unknown): boolean {
  const e = err as { path?: unknown; syscall?: unknown } | null;
  return typeof e?.path === 'string' || typeof e?.syscall === 'string';
}

/** A step's file and direction: redo's down and up each get an instance of their own, as when loaded under the lock. */
function loadKey(step: Step): string {
  return `${step.direction}:${step.source.id}:${step.file.path}:${step.file.version}`;
}

/**
 * A run to version `to` needs one source, which must have that version (a file, or an applied
 * one whose file is gone): `up --to 99` with no 99 would otherwise apply everything.
 */
function requireVersion(states: readonly SourceState[], what: string, to: number | undefined): void {
  requireOneSource(states, what);
  if (to === undefined) return;
  const [one] = states;
  const versions = one ? [...new Set(one.states.map((m) => m.version))] : [];
  if (!versions.includes(to)) {
    throw new ConfigError(`There is no migration ${to} in ${one?.source.id ?? 'this workspace'}; ${versions.length > 0 ? `its versions are ${versions.join(', ')}` : 'it has none'}.`, { source: one?.source.id, version: to }, 'usage');
  }
}

/** An option the call does not take is a mistake to report, not to ignore (`down({ version: 3 })` once rolled back everything). */
function checkOptions(call: string, opts: object, known: readonly string[]): void {
  const unknown = Object.keys(opts).filter((k) => !known.includes(k) && (opts as Record<string, unknown>)[k] !== undefined);
  if (unknown.length > 0) throw new ConfigError(`${call}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; it takes ${known.join(', ')}.`, {}, 'usage');
}

/**
 * The plan without the steps of sources whose history cannot be trusted (rows we did not write, a
 * migration applied twice): those are blocked, the others run. When only blocked steps were
 * planned, the rows are the error; so they are for a rollback, whose order across sources a
 * blocked source would break.
 */
function runnable(planned: readonly Step[], history: HistorySnapshot, where: string): { steps: Step[]; blocked: Step[] } {
  const bad = new Set(history.unreadable.map((u) => u.source));
  const steps = planned.filter((s) => !bad.has(s.source.id));
  const blocked = planned.filter((s) => bad.has(s.source.id));
  if (blocked.length > 0 && (steps.length === 0 || planned.some((s) => s.direction === 'down'))) throw corruptHistory(where, history.unreadable.filter((u) => blocked.some((s) => s.source.id === u.source)));
  return { steps, blocked };
}

/** Recording by hand is refused while the history holds rows we did not write. */
function refuseUnreadable(history: HistorySnapshot, where: string): HistorySnapshot {
  if (history.unreadable.length > 0) throw corruptHistory(where, history.unreadable);
  return history;
}

