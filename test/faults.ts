// Shared by the fault trials (faults-crash, faults-concurrency): a workload of migrations that
// do real work in several statements, and checks that the schema, the history, the lock table
// and `status --json` all tell the same story. Checks return a list of problems, so a failing
// trial names everything that was wrong at once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { shortHash } from '../src/core/model/checksum';
import { CLI, DEFAULT_DB, inspect, sqliteKnex, tempWorkspace, type CliResult } from './helpers';

export interface Workload {
  /** Migrations 1..count. */
  readonly count: number;
  /** Rows each migration inserts into its table. */
  readonly rows: number;
  /** Steps of the computation that fills each ledger row (about 2 ms per 10k). */
  readonly work: number;
  /**
   * A wait inside each migration's transaction, up and down: it stands for a slow
   * statement (a big table, a slow disk) and widens the window for a kill mid-migration without
   * spending the CPU that trials running side by side need.
   */
  readonly pauseMs: number;
}

export const versionsOf = (w: Workload): number[] => Array.from({ length: w.count }, (_, i) => i + 1);

/** `sum(n % 7)` for n in 1..work: what a ledger row holds when its statement ran to the end. */
export const ledgerTotal = (work: number): number => 21 * Math.floor(work / 7) + ((work % 7) * ((work % 7) + 1)) / 2;

const series = (n: number) => `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n})`;

/**
 * Migration v: creates t<v>, fills it, indexes it, then records a computed ledger row
 * (migration 1 creates the ledger). down() undoes each part, with work of its own.
 */
function migrationSource(v: number, w: Workload): string {
  const ledger = v === 1 ? `await knex.schema.createTable('ledger', (t) => { t.integer('version').primary(); t.integer('total').notNullable(); });\n    ` : '';
  const dropLedger = v === 1 ? `\n    await knex.schema.dropTable('ledger');` : '';
  const pause = w.pauseMs > 0 ? `\n    await new Promise((resolve) => setTimeout(resolve, ${w.pauseMs}));` : '';
  return `import type { Knex } from 'knex';
export class M${v} {
  readonly version = ${v};
  readonly description = 'create t${v}';
  async up(knex: Knex) {
    ${ledger}await knex.schema.createTable('t${v}', (t) => { t.increments('id'); t.string('name'); t.integer('n'); });
    await knex.raw("${series(w.rows)} INSERT INTO t${v} (name, n) SELECT 'row ' || n, n FROM s");
    await knex.schema.alterTable('t${v}', (t) => { t.index(['name'], 'ix_t${v}'); });${pause}
    await knex.raw('INSERT INTO ledger (version, total) SELECT ${v}, sum(n % 7) FROM (${series(w.work)} SELECT n FROM s)');
  }
  async down(knex: Knex) {
    await knex.raw('DELETE FROM ledger WHERE version = ${v} AND total = (SELECT sum(n % 7) FROM (${series(w.work)} SELECT n FROM s))');
    await knex.schema.alterTable('t${v}', (t) => { t.dropIndex(['name'], 'ix_t${v}'); });${pause}
    await knex('t${v}').del();
    await knex.schema.dropTable('t${v}');${dropLedger}
  }
}
export function getMigration() { return M${v}; }
`;
}

export function workloadFiles(w: Workload): Record<string, string> {
  return Object.fromEntries(versionsOf(w).map((v) => [`versions/migration_${String(v).padStart(3, '0')}_create_t${v}.ts`, migrationSource(v, w)]));
}

/** A workspace with the workload, optionally its database copied from `dbFrom` (a workspace run before). */
export function workloadWorkspace(w: Workload, opts: { dbFrom?: string; settings?: Record<string, unknown> } = {}): string {
  const files = workloadFiles(w);
  if (opts.settings) files['.vscode/settings.json'] = JSON.stringify(opts.settings);
  const ws = tempWorkspace(files);
  if (opts.dbFrom) fs.cpSync(path.dirname(DEFAULT_DB(opts.dbFrom)), path.dirname(DEFAULT_DB(ws)), { recursive: true });
  return ws;
}

/**
 * The CLI's parse and transpile cache for `ws` (ResultCache.forWorkspace's file). Its entries
 * are keyed by content, so one workspace's cache warms another holding the same migrations.
 */
export function cacheFileOf(ws: string, env: { XDG_CACHE_HOME: string }): string {
  return path.join(env.XDG_CACHE_HOME, 'migration-manager', `${shortHash(ws)}.json`);
}

export interface HistoryRowLite {
  readonly id: number;
  readonly source: string;
  readonly version: number;
  readonly direction: string;
  readonly success: boolean;
  readonly error: string | null;
}

export interface LockRowLite {
  readonly pid: number;
  readonly holder: string;
}

/** What one database file holds, read through a read-only connection. */
export interface Snapshot {
  /** Versions whose every effect is present. */
  readonly present: ReadonlySet<number>;
  /** One line per migration found partly applied. */
  readonly half: readonly string[];
  readonly history: readonly HistoryRowLite[];
  readonly locks: readonly LockRowLite[];
}

/**
 * A run killed before its connection switched the file to WAL leaves a hot rollback journal,
 * which a read-only connection cannot roll back (SQLITE_READONLY_ROLLBACK): a writable one does
 * it first, as the next run would, and the file is then read as it was before that transaction.
 */
export async function recoverHotJournal(file: string): Promise<void> {
  if (!fs.existsSync(`${file}-journal`)) return;
  const db = sqliteKnex(file);
  try {
    await db.raw('select count(*) from sqlite_master');
  } finally {
    await db.destroy();
  }
}

export async function snapshot(ws: string, w: Workload): Promise<Snapshot> {
  const file = DEFAULT_DB(ws);
  if (!fs.existsSync(file)) return { present: new Set(), half: [], history: [], locks: [] };
  await recoverHotJournal(file);
  return inspect(file, async (db) => {
    const master = (await db('sqlite_master').select('type', 'name')) as { type: string; name: string }[];
    const has = (type: string, name: string) => master.some((m) => m.type === type && m.name === name);
    const ledger = has('table', 'ledger')
      ? new Map(((await db('ledger').select('version', 'total')) as { version: number; total: number }[]).map((r) => [Number(r.version), Number(r.total)]))
      : new Map<number, number>();
    const present = new Set<number>();
    const half: string[] = [];
    for (const v of versionsOf(w)) {
      const rows = has('table', `t${v}`) ? Number(((await db(`t${v}`).count({ n: '*' }).first()) as { n: number }).n) : undefined;
      const parts = {
        table: rows !== undefined,
        rows: rows === w.rows,
        index: has('index', `ix_t${v}`),
        ledger: ledger.get(v) === ledgerTotal(w.work),
        ...(v === 1 ? { ledgerTable: has('table', 'ledger') } : {}),
      };
      const got = Object.values(parts);
      if (got.every(Boolean)) present.add(v);
      else if (got.some(Boolean) || (ledger.has(v) && !parts.ledger)) {
        half.push(`migration ${v} half-applied: ${JSON.stringify({ ...parts, rowCount: rows ?? null, ledgerTotal: ledger.get(v) ?? null })}`);
      }
    }
    const history = has('table', 'migration_history')
      ? ((await db('migration_history').orderBy('id').select('id', 'source', 'version', 'direction', 'success', 'error')) as Record<string, unknown>[]).map((r) => ({
          id: Number(r.id), source: String(r.source), version: Number(r.version), direction: String(r.direction), success: Boolean(Number(r.success)), error: r.error == null ? null : String(r.error),
        }))
      : [];
    const locks = has('table', 'migration_lock')
      ? ((await db('migration_lock').select('pid', 'holder')) as Record<string, unknown>[]).map((r) => ({ pid: Number(r.pid), holder: String(r.holder) }))
      : [];
    return { present, half, history, locks };
  });
}

/**
 * Does the history tell the truth about the schema? Every row a success of a known version;
 * per version successes alternate up, down, up… (so no success is recorded twice); and what the
 * rows fold to is exactly what the schema holds.
 */
export function historyProblems(snap: Snapshot, w: Workload, opts: { downs: boolean }): string[] {
  const problems: string[] = [...snap.half];
  const applied = new Set<number>();
  for (const r of snap.history) {
    const where = `history row ${r.id} (${r.direction} ${r.version}${r.success ? '' : ' failed'})`;
    if (r.source !== 'versions' || r.version < 1 || r.version > w.count) problems.push(`${where}: not a migration of the workload (source ${r.source})`);
    if (!r.success) problems.push(`${where}: a failed row, error ${JSON.stringify(r.error)}`);
    if (!r.success) continue;
    if (r.direction === 'up') {
      if (applied.has(r.version)) problems.push(`${where}: a second success for an applied migration`);
      applied.add(r.version);
    } else {
      if (!opts.downs) problems.push(`${where}: a rollback in a trial that ran none`);
      if (!applied.has(r.version)) problems.push(`${where}: a rollback of a migration not applied`);
      applied.delete(r.version);
    }
  }
  for (const v of versionsOf(w)) {
    if (applied.has(v) && !snap.present.has(v)) problems.push(`migration ${v}: history says applied, the schema lacks it`);
    if (!applied.has(v) && snap.present.has(v)) problems.push(`migration ${v}: in the schema, history does not say applied`);
  }
  return problems;
}

/** Versions 1..n with nothing else: what runs in version order leave behind. */
export function isPrefix(set: ReadonlySet<number>): boolean {
  return [...set].every((v) => v >= 1 && v <= set.size);
}

/** Does `status --json` say applied for exactly the migrations the schema holds, pending for the rest? */
export function statusProblems(result: CliResult, snap: Snapshot, w: Workload): string[] {
  if (result.code !== 0) return [`status --json exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`];
  let report: { sources: { id: string; migrations: { version: number; status: string }[] }[]; lock?: { pid: number } };
  try {
    report = JSON.parse(result.stdout);
  } catch {
    return [`status --json printed no JSON: ${result.stdout.slice(0, 200)}`];
  }
  const problems: string[] = [];
  const said = new Map((report.sources.find((s) => s.id === 'versions')?.migrations ?? []).map((m) => [m.version, m.status]));
  for (const v of versionsOf(w)) {
    const want = snap.present.has(v) ? 'applied' : 'pending';
    if (said.get(v) !== want) problems.push(`status --json says ${v} is ${said.get(v)}, the schema says ${want}`);
  }
  const lockPid = snap.locks[0]?.pid;
  if (report.lock?.pid !== lockPid) problems.push(`status --json shows lock pid ${report.lock?.pid}, the lock table holds ${lockPid}`);
  return problems;
}

/** The pid of a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** Writes the lock row a runner killed while holding the lock leaves behind. */
export async function plantLock(ws: string, pid: number): Promise<void> {
  const db = sqliteKnex(DEFAULT_DB(ws));
  try {
    const at = new Date().toISOString();
    await db('migration_lock').insert({ id: 1, holder: `cli killed@${os.hostname()}`, host: os.hostname(), pid, acquired_at: at, heartbeat: at, token: 'killed-run' });
  } finally {
    await db.destroy();
  }
}

/** A CLI run in a child process that waits for `go()` before starting (see faults-runner.ts). */
export interface HeldRunner {
  /** The CLI's process, which the lock row names (its migrations run on a thread of it). */
  readonly pid: number;
  go(): void;
  readonly result: Promise<CliResult>;
}

const RUNNER = path.join(__dirname, 'faults-runner.js');

/** Starts the CLI with `args` in a child and resolves once it has loaded and waits at the barrier. */
export async function heldRunner(args: readonly string[], env: NodeJS.ProcessEnv): Promise<HeldRunner> {
  const child: ChildProcess = fork(RUNNER, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const result = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? -1, stdout, stderr: stderr + (signal ? `\n(killed by ${signal})` : '') })));
  const [message] = (await Promise.race([once(child, 'message'), result.then((r) => [r])])) as unknown[];
  if (message !== 'ready') throw new Error(`the runner exited before reaching the barrier: ${JSON.stringify(message)}`);
  return { pid: child.pid!, go: () => child.send('go'), result };
}

/** Runs `fn` for every item, at most `limit` at a time. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/** A small seeded generator (mulberry32), so a failing trial's delays can be replayed with FAULTS_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the built CLI; a run still going after `limitMs` is killed and reported as such (code -1). */
export function cliWithin(args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(still running after ${limitMs} ms: killed)`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}
