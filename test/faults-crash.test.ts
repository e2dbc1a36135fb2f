import { test } from 'node:test';
import * as fs from 'node:fs';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, DEFAULT_DB, sqliteKnex, tempWorkspace, type CliResult } from './helpers';
import { processAlive } from '../src/core/database/lock';
import { cacheFileOf, cliWithin, historyProblems, isPrefix, pool, seededRandom, snapshot, statusProblems, versionsOf, workloadWorkspace, type Snapshot, type Workload } from './faults';

// 50 migrations of several statements each (table, 200 rows, index, a computed ledger row)
// and a pause before the last: most of a run's time is spent inside migrations.
const W: Workload = { count: 50, rows: 200, work: 10_000, pauseMs: 60 };
const TRIALS = 100;
/** Trials side by side; the full-run time used for the delays is measured at the same load. */
const PARALLEL = 8;
/** One unkilled full run among every this many trials keeps that measure current. */
const PACE_EVERY = 8;
/** A dead holder's lock is taken over at once; this only bounds a recovery that would hang. */
const RECOVERY_LIMIT_MS = 20_000;
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const env = { XDG_CACHE_HOME: tempWorkspace() };

type Kind = 'up' | 'down';
/**
 * Where a kill landed: starting (before it took the lock), holding the lock before its first
 * commit, mid-run (between its first and last commit), after its last commit, or the run had ended.
 */
type Landed = 'starting' | 'locked' | 'mid' | 'after' | 'finished';

interface Trial {
  readonly n: number;
  /** The first run killed: `up` from an empty database, or `down --all` from a fully applied one. */
  readonly kind: Kind;
  /**
   * When to kill, as fractions of a full run's time (measured when the trial starts); a second
   * one kills the first recovery attempt too.
   */
  readonly at: readonly number[];
}

interface Outcome {
  readonly trial: Trial;
  /** Kill delays in ms after spawn. */
  readonly delays: number[];
  readonly landed: Landed[];
  readonly recoveryMs: number;
  readonly problems: string[];
}

const args = (kind: Kind, ws: string) => (kind === 'up' ? ['up', '--dir', ws] : ['down', '--all', '--dir', ws]);

/** Waits (up to 2 s) until none of `pids` is alive: a SIGKILLed process ends soon, not at once. */
async function holdersGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 2000;
  while (pids.some((pid) => processAlive(pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Spawns the CLI and SIGKILLs it `delay` ms later unless it has exited by then. */
async function killedRun(kind: Kind, ws: string, delay: number): Promise<{ pid: number; killed: boolean; code: number | null; stderr: string }> {
  // Its own process group: the kill takes the CLI and the child running the migrations at once,
  // as a crash or a killed terminal would.
  const child = spawn(process.execPath, [CLI, ...args(kind, ws)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the run ended first: its group is gone */
    }
  }, delay);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return { pid: child.pid!, killed: signal === 'SIGKILL', code, stderr };
}

/** Migrations this run committed, from the history rows it added. */
function committed(before: Snapshot, after: Snapshot, kind: Kind): number {
  return after.history.slice(before.history.length).filter((r) => r.success && r.direction === kind).length;
}

async function crashTrial(trial: Trial, template: string, fullMs: (kind: Kind) => number): Promise<Outcome> {
  const ws = trialWorkspace(trial.kind, template);
  const problems: string[] = [];
  const landed: Landed[] = [];
  const delays: number[] = [];
  let snap = await snapshot(ws, W);
  const killedPids = new Set<number>();
  for (const [i, fraction] of trial.at.entries()) {
    const kind: Kind = i === 0 ? trial.kind : 'up';
    // Within the first 85% of a full run: its last part is the two processes' exit, after the last commit.
    const delay = Math.round(fraction * 0.85 * fullMs(kind));
    delays.push(delay);
    const at = `${kind} killed at ${delay} ms`;
    const run = await killedRun(kind, ws, delay);
    if (!run.killed && run.code !== 0) problems.push(`${at}: exited ${run.code} on its own: ${run.stderr.trim()}`);
    const after = await snapshot(ws, W);
    problems.push(...historyProblems(after, W, { downs: trial.kind === 'down' }).map((p) => `${at}: ${p}`));
    if (!isPrefix(after.present)) problems.push(`${at}: applied versions are not 1..n: ${[...after.present].join(',')}`);
    if (run.killed) killedPids.add(run.pid);
    // A run killed before it took over an earlier killed run's lock (or with nothing to do) leaves that
    // one's row. The row names the child that ran the migrations: it must be a killed process (the
    // kernel may take a moment to end a child caught in a system call once the CLI has gone).
    if (run.killed) await holdersGone(after.locks.map((l) => l.pid as number));
    if (after.locks.length > 1 || after.locks.some((l) => processAlive(l.pid as number))) {
      problems.push(`${at}: lock rows ${JSON.stringify(after.locks)} (killed runs: pids ${[...killedPids].join(', ')}; this one pid ${run.pid}, killed: ${run.killed})`);
    }
    problems.push(...statusProblems(await cliWithin(['status', '--json', '--dir', ws], env, RECOVERY_LIMIT_MS), after, W).map((p) => `${at}: ${p}`));
    const total = kind === 'up' ? W.count - snap.present.size : snap.present.size;
    const done = committed(snap, after, kind);
    // A lock row this run left: it died holding the lock.
    const held = after.locks.some((l) => !snap.locks.some((b) => b.pid === l.pid));
    landed.push(!run.killed ? 'finished' : done === 0 ? (held ? 'locked' : 'starting') : done === total ? 'after' : 'mid');
    snap = after;
  }

  const recovery = await recover(ws, ['up'], snap.locks[0]?.pid, problems);
  let final = await snapshot(ws, W);
  let downs = trial.kind === 'down';
  if (final.locks.length > 0 && recovery.stdout.includes('Nothing to apply.')) {
    // The kill came after the last apply or before the first rollback, so a run with nothing to
    // apply leaves the dead holder's row (status shows it); the next run that writes takes it over.
    await recover(ws, ['down'], final.locks[0].pid, problems);
    await recover(ws, ['up'], undefined, problems);
    final = await snapshot(ws, W);
    downs = true;
  }
  problems.push(...historyProblems(final, W, { downs }).map((p) => `after recovery: ${p}`));
  const missing = versionsOf(W).filter((v) => !final.present.has(v));
  if (missing.length > 0) problems.push(`after recovery: not applied: ${missing.join(',')}`);
  if (final.locks.length > 0) problems.push(`after recovery: lock rows left: ${JSON.stringify(final.locks)}`);
  return { trial, delays, landed, recoveryMs: recovery.ms, problems };
}

/** A run after the kills: exits 0 in bounded time, and says so when it takes over a dead holder's lock. */
async function recover(ws: string, command: string[], deadPid: number | undefined, problems: string[]): Promise<CliResult & { ms: number }> {
  const r = await cliWithin([...command, '--dir', ws], env, RECOVERY_LIMIT_MS);
  const what = `recovery ${command.join(' ')}`;
  if (r.code !== 0) problems.push(`${what} exited ${r.code} after ${r.ms} ms: ${r.stderr.trim()}`);
  const tookOver = /stale lock held by .*\(pid (\d+) /.exec(r.stderr)?.[1];
  if (deadPid !== undefined && !r.stdout.includes('Nothing to') && tookOver !== String(deadPid)) {
    problems.push(`${what} did not say it took over the lock of dead pid ${deadPid}: ${JSON.stringify(r.stderr)}`);
  }
  if (deadPid === undefined && tookOver) problems.push(`${what} took over a lock (pid ${tookOver}) the table did not show`);
  return r;
}

/** A workspace as after an earlier run: the CLI cache warm, the database copied from `template` for a rollback. */
function trialWorkspace(kind: Kind, template: string): string {
  const ws = workloadWorkspace(W, kind === 'down' ? { dbFrom: template } : {});
  // Without it most of a run would be parsing and transpiling, not migrating.
  fs.copyFileSync(cacheFileOf(template, env), cacheFileOf(ws, env));
  return ws;
}

/** How long an unkilled full run takes (ms); it must do the whole job. */
async function fullRun(kind: Kind, template: string): Promise<number> {
  const ws = trialWorkspace(kind, template);
  const r = await cliWithin(args(kind, ws), env, RECOVERY_LIMIT_MS);
  assert.equal(r.code, 0, `full ${kind}: ${r.stderr}`);
  const snap = await snapshot(ws, W);
  assert.deepEqual(historyProblems(snap, W, { downs: kind === 'down' }), []);
  assert.equal(snap.present.size, kind === 'up' ? W.count : 0);
  return r.ms;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

test('the trial checks catch a half-applied migration, a history row that lies, a duplicate success and a wrong status', async () => {
  const w: Workload = { count: 3, rows: 5, work: 100, pauseMs: 0 };
  const ws = workloadWorkspace(w);
  assert.equal((await cliWithin(['up', '--dir', ws], env, RECOVERY_LIMIT_MS)).code, 0);
  const status = await cliWithin(['status', '--json', '--dir', ws], env, RECOVERY_LIMIT_MS);
  const clean = await snapshot(ws, w);
  assert.deepEqual([...clean.present], [1, 2, 3]);
  assert.deepEqual([...historyProblems(clean, w, { downs: false }), ...statusProblems(status, clean, w)], []);

  const db = sqliteKnex(DEFAULT_DB(ws));
  try {
    await db.schema.alterTable('t2', (t) => t.dropIndex(['name'], 'ix_t2'));
    await db('ledger').where({ version: 3 }).del();
    await db.schema.dropTable('t3');
    const { id: _id, ...first } = (await db('migration_history').where({ version: 1 }).first()) as Record<string, unknown>;
    await db('migration_history').insert(first);
  } finally {
    await db.destroy();
  }
  const broken = await snapshot(ws, w);
  assert.deepEqual([...broken.present], [1]);
  assert.match(broken.half.join('\n'), /^migration 2 half-applied: .*"index":false/);
  assert.deepEqual(historyProblems(broken, w, { downs: false }).map((p) => p.replace(/\{.*\}/, '{…}')), [
    'migration 2 half-applied: {…}',
    'history row 4 (up 1): a second success for an applied migration',
    'migration 2: history says applied, the schema lacks it',
    'migration 3: history says applied, the schema lacks it',
  ]);
  assert.deepEqual(statusProblems(status, broken, w), ['status --json says 2 is applied, the schema says pending', 'status --json says 3 is applied, the schema says pending']);
});

test(`SIGKILL at a random moment of up or down --all, ${TRIALS} trials: nothing half-applied, history true, the next run recovers`, async (t) => {
  const started = Date.now();
  // The rollback trials' database, and the cache every trial starts with.
  const template = workloadWorkspace(W);
  assert.equal((await cliWithin(['up', '--dir', template], env, RECOVERY_LIMIT_MS)).code, 0);
  assert.ok(fs.existsSync(cacheFileOf(template, env)), `no CLI cache at ${cacheFileOf(template, env)}: has ResultCache.forWorkspace moved it?`);
  // Full-run times: a first measure with PARALLEL runs started together (the worst moment), then
  // unkilled runs among the trials keep it at the trials' own load: the last 5 of a kind count.
  const samples: Record<Kind, number[]> = { up: [], down: [] };
  await pool(Array.from({ length: PARALLEL }, (_, i): Kind => (i % 2 ? 'down' : 'up')), PARALLEL, async (kind) => samples[kind].push(await fullRun(kind, template)));
  const fullMs = (kind: Kind) => median(samples[kind].slice(-5));
  const random = seededRandom(SEED);
  const trials: Trial[] = Array.from({ length: TRIALS }, (_, i) => {
    const kind: Kind = i % 10 < 3 ? 'down' : 'up';
    return { n: i + 1, kind, at: i % 5 === 4 ? [random(), random()] : [random()] };
  });
  // Pacers in the proportions of the trials' first runs: one rollback in three.
  const pacer = (i: number): Kind => (Math.floor(i / PACE_EVERY) % 3 === 0 ? 'down' : 'up');
  const work = trials.flatMap((trial, i) => (i % PACE_EVERY === PACE_EVERY - 1 ? [trial, pacer(i)] : [trial]));
  const outcomes = (await pool(work, PARALLEL, async (item) => {
    if (typeof item !== 'string') return crashTrial(item, template, fullMs);
    samples[item].push(await fullRun(item, template));
    return undefined;
  })).filter((o): o is Outcome => o !== undefined);

  const landed = outcomes.flatMap((o) => o.landed);
  const count = (l: Landed) => landed.filter((x) => x === l).length;
  const recoveries = outcomes.map((o) => o.recoveryMs).sort((a, b) => a - b);
  t.diagnostic(`seed ${SEED} (FAULTS_SEED to replay the kill fractions); full runs at ${PARALLEL} in parallel: up ${samples.up.join(', ')} ms; down --all ${samples.down.join(', ')} ms`);
  t.diagnostic(`${trials.length} trials, ${landed.length} kills: ${count('mid')} mid-run, ${count('starting')} before taking the lock, ${count('locked')} holding it before the first commit, ${count('after')} after the last commit, ${count('finished')} after the run ended`);
  t.diagnostic(`recovery run: median ${recoveries[recoveries.length >> 1]} ms, max ${recoveries[recoveries.length - 1]} ms; whole test ${Math.round((Date.now() - started) / 1000)} s`);

  const failed = outcomes.filter((o) => o.problems.length > 0);
  assert.deepEqual(
    failed.map((o) => `trial ${o.trial.n} (${o.trial.kind}, killed at ${o.delays.join('/')} ms, seed ${SEED}): ${o.problems.join('; ')}`),
    [],
    `${failed.length} of ${trials.length} trials failed`,
  );
  // Most land mid-run (75% at load average 5 on 2 cores, 57% at 12); the floor keeps the
  // trials meaningful on a busy machine, where starting a run takes longer.
  assert.ok(count('mid') >= 0.4 * landed.length, `too few kills landed mid-run: ${count('mid')} of ${landed.length}`);
});
