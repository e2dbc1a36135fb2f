import * as path from 'node:path';
import type { Knex } from 'knex';
import { chooseTarget, type DatabaseTarget, type PasswordProvider } from '../database/database';
import { dialectOf, type Dialect } from '../database/dialect';
import { databaseError } from '../database/databaseErrors';
import { Connections } from '../database/connections';
import { DatabaseHistory } from '../database/databaseHistory';
import type { MigrationLock } from '../database/lock';
import { namesDatabase, type Settings } from '../config/settings';
import { HistorySnapshot, type HistoryRead, type HistoryStorage } from '../model/history';
import { silentLogger, type Logger } from '../model/types';
import type { DatabaseError } from '../model/errors';
import type { SourcesContext } from './sources';

export interface TargetOptions {
  /** The database over the settings and the config's (`--db`): a SQLite file or a URL. */
  readonly db?: string;
  /** A URL from the environment (DATABASE_URL), taken only when nothing else names a database. */
  readonly databaseUrl?: string;
  /** An app's own Knex instance (never destroyed here), or a knex config. */
  readonly database?: Knex | Knex.Config;
  /** Server password when `migrations.passwordEnv` names no set variable. */
  readonly password?: PasswordProvider;
  /** Not trusted: a SQLite file is read through Node's built-in driver (see EngineOptions.untrusted). */
  readonly untrusted?: boolean;
  /** Names the lock holder: "cli", "editor" or "app". */
  readonly runner?: string;
  readonly logger?: Logger;
  /** Where the history lives; unset: the history table of this database. An in-memory one for unit tests. */
  readonly history?: HistoryStorage<Knex.Transaction>;
}

/**
 * Which database: its dialect, its connections, where its history lives and its lock. Built from
 * a sources context's settings (which name the database) but holding nothing of its migrations,
 * so one sources context can serve many targets.
 */
export class TargetContext {
  readonly target: DatabaseTarget;
  readonly dialect: Dialect;
  readonly history: HistoryStorage<Knex.Transaction>;
  readonly connections: Connections;
  /** `db`, or the environment's URL when nothing else names a database: what a child process is given too. */
  readonly db?: string;
  /** A database given in code (it cannot cross to a child process). */
  readonly inCode: boolean;
  readonly password?: PasswordProvider;

  constructor(
    private readonly settings: Settings,
    target: DatabaseTarget,
    private readonly options: TargetOptions & { readonly db?: string } = {},
  ) {
    this.target = target;
    this.dialect = dialectOf(target);
    this.connections = new Connections(target, this.dialect);
    this.history = options.history ?? new DatabaseHistory(this.connections, this.dialect, target.label, (knex) => this.lock(knex));
    this.db = options.db;
    this.inCode = options.database !== undefined;
    this.password = options.password;
  }

  /** The database the sources' settings and config name, with `--db`, a database in code or DATABASE_URL over them. */
  static of(sources: SourcesContext, options: TargetOptions = {}): TargetContext {
    const { project, settings, workspace } = sources;
    // `--db` is the one thing said on the command line: it wins over the config's database too.
    const fromProject = options.database === undefined && options.db === undefined ? project?.database : undefined;
    const fromEnv = options.databaseUrl && options.db === undefined && options.database === undefined && !fromProject && !namesDatabase(settings) ? options.databaseUrl : undefined;
    const db = options.db ?? fromEnv;
    const target = chooseTarget(workspace, settings, {
      ...options, db, dbFrom: fromEnv && 'DATABASE_URL', database: options.database ?? fromProject, databaseFrom: fromProject && path.basename(project!.file),
    });
    return new TargetContext(settings, target, { ...options, db });
  }

  /** Where the history lives, without secrets. */
  get label(): string {
    return this.target.label;
  }

  get logger(): Logger | undefined {
    return this.options.logger;
  }

  lock(knex: Knex): MigrationLock {
    return this.dialect.lock(knex, { kind: this.options.runner ?? 'cli', timeoutMs: this.settings.lockTimeoutMs, staleMs: this.settings.staleLockMs }, this.options.logger ?? silentLogger);
  }

  /** History rows (and the lock, when asked) for a decision, read without writing anything. */
  async snapshot(opts: { source?: string; lock?: boolean } = {}): Promise<HistoryRead> {
    if (this.history.snapshot) return this.history.snapshot(opts);
    return { rows: await this.history.rows(opts.source), unreadable: [] };
  }

  /** One read of the history, folded once; a source with rows we did not write is blocked, not the others. */
  async read(): Promise<HistorySnapshot> {
    const { rows, unreadable } = await this.snapshot();
    return new HistorySnapshot(rows, unreadable);
  }

  /** Every write: the write connection, the lock held throughout, the history table ready. */
  async underLock<T>(work: (knex: Knex, history: HistoryStorage<Knex.Transaction>, lock: MigrationLock) => Promise<T>): Promise<T> {
    const knex = this.connections.write();
    const lock = this.lock(knex);
    await lock.acquire();
    try {
      await this.history.ensure();
      return await work(knex, this.history, lock);
    } finally {
      await lock.release();
    }
  }

  /** Database failures (locked, read-only, not a database…) become errors that name the file and say what to do. */
  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.failure(err) ?? err;
    }
  }

  /** A driver's error as one that names the database and says what to do; undefined when it is not the database's. */
  failure(err: unknown): DatabaseError | undefined {
    return databaseError(err, this.target.label, this.target.filename, this.target.server);
  }

  close(): Promise<void> {
    return this.connections.close();
  }
}
