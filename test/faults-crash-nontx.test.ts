// SIGKILL at random moments of `up` of 50 migrations whose rollback would not undo their changes:
// on SQLite with `transaction = false`, and on MariaDB, whose DDL commits at once. After each kill
// the schema is compared with what status --json and the history say: no migration that changed
// the database is shown pending, no row claims more than the schema holds, and the next `up`
// either finishes the job or refuses the interrupted migration without running anything.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Knex } from 'knex';
import { CLI, DEFAULT_DB, inspect, tempWorkspace } from './helpers';
import { cacheFileOf, cliWithin, pool, recoverHotJournal, seededRandom } from './faults';
import { probe, rowsOf, SERVERS, TestDatabase } from './servers';

const COUNT = 50;
const ROWS = 20;
/** Inside each migration, between its first DDL and its last statements: the window a kill lands in most. */
const PAUSE_MS = 25;
const TRIALS = 24;
const PARALLEL = 4;
const LIMIT_MS = 30_000;
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const env = { XDG_CACHE_HOME: tempWorkspace() };
const versions = Array.from({ length: COUNT }, (_, i) => i + 1);

/** Migration v: creates t<v>, fills it, pauses, indexes it, and records a ledger row (1 creates the ledger first). */
function migration(v: number, transaction: boolean): string {
  return `import type { Knex } from 'knex';
export class M${v} {
  readonly version = ${v};
  readonly description = 'create t${v}';${transaction ? '' : '\n  readonly transaction = false;'}
  async up(knex: Knex) {
    ${v === 1 ? "await knex.schema.createTable('ledger', (t) => { t.integer('version').primary(); });\n    " : ''}await knex.schema.createTable('t${v}', (t) => { t.increments('id'); t.string('name'); });
    await knex('t${v}').insert(Array.from({ length: ${ROWS} }, (_, i) => ({ name: 'row ' + i })));
    await new Promise((resolve) => setTimeout(resolve, ${PAUSE_MS}));
    await knex.schema.alterTable('t${v}', (t) => { t.index(['name'], 'ix_t${v}'); });
    await knex('ledger').insert({ version: ${v} });
  }
  async down(knex: Knex) {
    await knex('ledger').where({ version: ${v} }).del();
    await knex.schema.dropTable('t${v}');${v === 1 ? "\n    await knex.schema.dropTable('ledger');" : ''}
  }
}
export function getMigration() { return M${v}; }
`;
}

function files(transaction: boolean): Record<string, string> {
  return Object.fromEntries(versions.map((v) => [`versions/migration_${String(v).padStart(3, '0')}_create_t${v}.ts`, migration(v, transaction)]));
}

/** What one migration left in the schema. */
interface Facts {
  readonly table: boolean;
  readonly rows: number;
  readonly index: boolean;
  readonly ledger: boolean;
}

interface HistoryLite {
  readonly id: number;
  readonly version: number;
  readonly direction: string;
  readonly success: boolean;
  readonly running: boolean;
}

/** What a database holds: each migration's facts, and the history rows. */
interface Seen {
  readonly facts: ReadonlyMap<number, Facts>;
  readonly ledgerTable: boolean;
  readonly history: readonly HistoryLite[];
}

/** Where the trials run: a workspace with its database, read back from outside. */
interface Target {
  readonly name: string;
  workspace(): Promise<{ ws: string; seen: () => Promise<Seen>; done: () => Promise<void> }>;
}

async function seenThrough(db: Knex, tables: readonly string[], indexes: (table: string) => Promise<boolean>): Promise<Seen> {
  const has = new Set(tables);
  const ledger = has.has('ledger') ? new Set(((await db('ledger').select('version')) as { version: unknown }[]).map((r) => Number(r.version))) : new Set<number>();
  const facts = new Map<number, Facts>();
  for (const v of versions) {
    const table = has.has(`t${v}`);
    facts.set(v, { table, rows: table ? Number(((await db(`t${v}`).count({ n: '*' }).first()) as { n: unknown }).n) : 0, index: table && (await indexes(`t${v}`)), ledger: ledger.has(v) });
  }
  const history = has.has('migration_history')
    ? ((await db('migration_history').orderBy('id').select('*')) as Record<string, unknown>[]).map((r) => ({
        id: Number(r.id), version: Number(r.version), direction: String(r.direction), success: Boolean(Number(r.success)), running: Boolean(Number(r.running ?? 0)),
      }))
    : [];
  return { facts, ledgerTable: has.has('ledger'), history };
}


const SQLITE: Target = {
  name: 'SQLite, transaction = false',
  async workspace() {
    const ws = tempWorkspace(files(false));
    return {
      ws,
      done: async () => {},
      seen: () => {
        const file = DEFAULT_DB(ws);
        if (!fs.existsSync(file)) return Promise.resolve({ facts: new Map(versions.map((v) => [v, { table: false, rows: 0, index: false, ledger: false }])), ledgerTable: false, history: [] });
        return recoverHotJournal(file).then(() => inspect(file, async (db) => {
          const master = (await db('sqlite_master').select('type', 'name')) as { type: string; name: string }[];
          return seenThrough(db, master.filter((m) => m.type === 'table').map((m) => m.name), async (t) => master.some((m) => m.type === 'index' && m.name === `ix_${t}`));
        }));
      },
    };
  },
};

const MARIADB_SERVER = SERVERS.find((s) => s.client === 'mysql2')!;
const MARIADB: Target = {
  name: 'MariaDB, DDL in transactional migrations',
  async workspace() {
    const database = await TestDatabase.create(MARIADB_SERVER);
    const ws = tempWorkspace({ ...files(true), '.vscode/settings.json': database.settingsJson() });
    return {
      ws,
      done: () => database.drop(),
      seen: async () => seenThrough(database.db, await database.tables(), async (t) =>
        rowsOf(await database.db.raw('select 1 from information_schema.statistics where table_schema = database() and table_name = ? and index_name = ?', [t, `ix_${t}`])).length > 0),
    };
  },
};

const complete = (f: Facts) => f.table && f.rows === ROWS && f.index && f.ledger;
const untouched = (f: Facts) => !f.table && !f.ledger;

/** Everything wrong with what status --json and the history say about the schema. */
function problems(seen: Seen, statuses: ReadonlyMap<number, string>): string[] {
  const out: string[] = [];
  const applied = new Set<number>();
  const newest = new Map<number, HistoryLite>();
  for (const r of seen.history) {
    newest.set(r.version, r);
    if (r.running) continue;
    if (!r.success) out.push(`history row ${r.id} (${r.version}): a failed row in a run that was only killed`);
    else if (r.direction !== 'up' || applied.has(r.version)) out.push(`history row ${r.id} (${r.version}): a second success, or a rollback`);
    else applied.add(r.version);
  }
  for (const v of versions) {
    const f = seen.facts.get(v)!;
    const said = statuses.get(v);
    const last = newest.get(v);
    const state = complete(f) && (v !== 1 || seen.ledgerTable) ? 'complete' : untouched(f) && (v !== 1 || !seen.ledgerTable) ? 'untouched' : 'half';
    if (applied.has(v) && state !== 'complete') out.push(`migration ${v}: history says applied, the schema has it ${state}: ${JSON.stringify(f)}`);
    if (last?.running && said !== 'interrupted') out.push(`migration ${v}: its newest row is a marker, status says ${said}`);
    // Killed after its last statement and before its outcome replaced the marker: interrupted is what is known.
    if (state === 'complete' && said !== 'applied' && said !== 'interrupted') out.push(`migration ${v}: complete in the schema, status says ${said}`);
    if (state === 'half' && said !== 'interrupted') out.push(`migration ${v}: half done in the schema ${JSON.stringify(f)}, status says ${said}`);
    if (state === 'untouched' && said !== 'pending' && said !== 'interrupted') out.push(`migration ${v}: untouched, status says ${said}`);
  }
  return out;
}

/** Spawns `up` in its own process group and SIGKILLs the group `delay` ms later unless it has ended. */
async function killedUp(ws: string, delay: number): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'up', '--dir', ws], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* it ended first */
    }
  }, delay);
  const [code, signal] = await closed;
  clearTimeout(timer);
  return { killed: signal === 'SIGKILL', code, stderr };
}

async function statusOf(ws: string): Promise<Map<number, string> | string> {
  const r = await cliWithin(['status', '--json', '--dir', ws], env, LIMIT_MS);
  if (r.code !== 0) return `status --json exited ${r.code}: ${r.stderr.trim()}`;
  const report = JSON.parse(r.stdout) as { sources: { migrations: { version: number; status: string }[] }[] };
  return new Map((report.sources[0]?.migrations ?? []).map((m) => [m.version, m.status]));
}

/** Where a kill landed: inside a migration (one interrupted or half done), between two, or the run had ended. */
type Landed = 'in-migration' | 'between' | 'finished';

async function trial(target: Target, n: number, delay: number, template: string): Promise<{ landed: Landed; problems: string[] }> {
  const { ws, seen, done } = await target.workspace();
  try {
    fs.copyFileSync(cacheFileOf(template, env), cacheFileOf(ws, env));
    const at = `trial ${n} (killed at ${delay} ms)`;
    const run = await killedUp(ws, delay);
    const out: string[] = [];
    if (!run.killed && run.code !== 0) out.push(`${at}: up exited ${run.code} on its own: ${run.stderr.trim()}`);
    const before = await seen();
    const statuses = await statusOf(ws);
    if (typeof statuses === 'string') return { landed: 'between', problems: [`${at}: ${statuses}`] };
    out.push(...problems(before, statuses).map((p) => `${at}: ${p}`));
    const interrupted = versions.filter((v) => statuses.get(v) === 'interrupted');

    // The next up: refuses an interrupted migration and changes nothing, or finishes the job.
    const next = await cliWithin(['up', '--dir', ws], env, LIMIT_MS);
    const after = await seen();
    if (interrupted.length > 0) {
      if (next.code !== 1 || !new RegExp(`Migration ${interrupted[0]} \\(versions\\) is interrupted: `).test(next.stderr)) out.push(`${at}: the next up did not refuse interrupted ${interrupted[0]}: exit ${next.code}, ${next.stderr.trim()}`);
      if (JSON.stringify([...after.facts]) !== JSON.stringify([...before.facts]) || after.history.length !== before.history.length) out.push(`${at}: the refused up changed the database`);
    } else {
      if (next.code !== 0) out.push(`${at}: the next up exited ${next.code}: ${next.stderr.trim()}`);
      const final = await statusOf(ws);
      if (typeof final === 'string') out.push(`${at}: after recovery: ${final}`);
      else out.push(...problems(after, final).map((p) => `${at}: after recovery: ${p}`));
      const missing = versions.filter((v) => !complete(after.facts.get(v)!));
      if (missing.length > 0) out.push(`${at}: after recovery, not complete: ${missing.join(',')}`);
    }
    const half = versions.some((v) => !complete(before.facts.get(v)!) && !untouched(before.facts.get(v)!));
    return { landed: !run.killed ? 'finished' : interrupted.length > 0 || half ? 'in-migration' : 'between', problems: out };
  } finally {
    await done();
  }
}

for (const target of [SQLITE, MARIADB]) {
  test(`SIGKILL at random moments of up of ${COUNT} migrations (${target.name}), ${TRIALS} trials: none that changed the database shown pending, no row that lies`, { timeout: 180_000 }, async (t) => {
    if (target === MARIADB) {
      const why = await probe(MARIADB_SERVER);
      if (why) return t.skip(why);
    }
    const started = Date.now();
    // An unkilled run: it does the whole job, warms the cache every trial starts with, and gives the time the kills are spread over.
    const full = await target.workspace();
    let fullMs: number;
    try {
      const r = await cliWithin(['up', '--dir', full.ws], env, LIMIT_MS);
      assert.equal(r.code, 0, r.stderr);
      const again = await cliWithin(['up', '--dir', full.ws], env, LIMIT_MS);
      assert.match(again.stdout, /Nothing to apply/);
      const seen = await full.seen();
      const statuses = await statusOf(full.ws);
      assert.notEqual(typeof statuses, 'string', String(statuses));
      assert.deepEqual(problems(seen, statuses as Map<number, string>), []);
      assert.ok(versions.every((v) => complete(seen.facts.get(v)!)));
      // Timed warm: most of it is migrating, not starting.
      const timed = await target.workspace();
      try {
        fs.copyFileSync(cacheFileOf(full.ws, env), cacheFileOf(timed.ws, env));
        const warm = await cliWithin(['up', '--dir', timed.ws], env, LIMIT_MS);
        assert.equal(warm.code, 0, warm.stderr);
        fullMs = warm.ms;
      } finally {
        await timed.done();
      }
    } catch (err) {
      await full.done();
      throw err;
    }
    const random = seededRandom(SEED);
    const delays = Array.from({ length: TRIALS }, () => Math.round(random() * 0.9 * fullMs));
    try {
      const outcomes = await pool(delays.map((delay, i) => ({ delay, n: i + 1 })), PARALLEL, ({ delay, n }) => trial(target, n, delay, full.ws));
      const count = (l: Landed) => outcomes.filter((o) => o.landed === l).length;
      t.diagnostic(`seed ${SEED} (FAULTS_SEED to replay); full run ${fullMs} ms; kills: ${count('in-migration')} inside a migration, ${count('between')} between migrations or before the first, ${count('finished')} after the run ended; ${Math.round((Date.now() - started) / 1000)} s`);
      assert.deepEqual(outcomes.flatMap((o) => o.problems), [], `seed ${SEED}`);
      assert.ok(count('in-migration') >= TRIALS / 3, `too few kills landed inside a migration: ${count('in-migration')} of ${TRIALS}`);
    } finally {
      await full.done();
    }
  });
}
