import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DEFAULT_DB, lockRows, tempWorkspace } from './helpers';
import { cacheFileOf, cliWithin, deadPid, heldRunner, type HeldRunner, historyProblems, plantLock, pool, seededRandom, snapshot, versionsOf, workloadWorkspace, type Workload } from './faults';

// Short migrations: what is tried here is the start, when every runner reaches for the lock.
const W: Workload = { count: 20, rows: 50, work: 2_000, pauseMs: 0 };
const TRIALS = 50;
/** Trials side by side (each with its 2 or 4 runners). */
const PARALLEL = 4;
/** Waiting runners all get their turn; a short timeout makes losers fail at once (0) or after a few polls. */
const LONG_TIMEOUT_MS = 60_000;
const SHORT_TIMEOUTS_MS = [0, 30];
const PRE_APPLIED = 5;
const env = { XDG_CACHE_HOME: tempWorkspace() };

/** The database the runners find: none yet, 1..5 applied, or that and the lock row of a killed runner. */
type Start = 'fresh' | 'applied' | 'stale-lock';

interface Trial {
  readonly n: number;
  readonly runners: number;
  readonly timeoutMs: number;
  readonly start: Start;
}

/** What one runner ended with. */
type Ending = 'applied' | 'nothing-left' | 'busy';

interface Outcome {
  readonly trial: Trial;
  readonly endings: Ending[];
  readonly problems: string[];
  /** From the release at the barrier to the last runner's exit. */
  readonly ms: number;
}

/** `error` of a busy failure: who holds the lock, as the user reads it. */
const BUSY = /locked by cli \S+@\S+ \(pid (\d+) on [^)]+\)/;

async function concurrencyTrial(trial: Trial, template: string): Promise<Outcome> {
  const ws = workloadWorkspace(W, { dbFrom: trial.start === 'fresh' ? undefined : template, settings: { 'migrations.lockTimeoutMs': trial.timeoutMs } });
  fs.copyFileSync(cacheFileOf(template, env), cacheFileOf(ws, env));
  const dead = trial.start === 'stale-lock' ? await deadPid() : undefined;
  if (dead) await plantLock(ws, dead);
  const preApplied = trial.start === 'fresh' ? 0 : PRE_APPLIED;
  const runners = await Promise.all(Array.from({ length: trial.runners }, () => heldRunner(['up', '--json', '--dir', ws], env)));
  // All have loaded the CLI and wait at the barrier: release them in the same tick.
  const released = Date.now();
  for (const r of runners) r.go();
  const results = await Promise.all(runners.map((r) => r.result));
  const ms = Date.now() - released;

  const problems: string[] = [];
  const endings: Ending[] = [];
  const pids = runners.map((r) => r.pid);
  const done: number[] = [];
  for (const [i, r] of results.entries()) {
    const who = `runner pid ${pids[i]}`;
    let report: { ok: boolean; error?: string; steps?: { version: number; direction: string; outcome: string }[] };
    try {
      report = JSON.parse(r.stdout);
    } catch {
      problems.push(`${who} exited ${r.code} without a JSON report: ${r.stdout.trim()} ${r.stderr.trim()}`);
      continue;
    }
    if (r.code === 0 && report.ok) {
      const steps = report.steps ?? [];
      const notDone = steps.filter((s) => s.outcome !== 'done' || s.direction !== 'up');
      if (notDone.length > 0) problems.push(`${who} exited 0 with steps not done: ${JSON.stringify(notDone)}`);
      done.push(...steps.map((s) => s.version));
      endings.push(steps.length > 0 ? 'applied' : 'nothing-left');
      continue;
    }
    const holder = BUSY.exec(report.error ?? '')?.[1];
    if (r.code === 1 && holder !== undefined && trial.timeoutMs !== LONG_TIMEOUT_MS) {
      const owner = runners.findIndex((other) => other.pid === Number(holder));
      if (owner === i || owner === -1) problems.push(`${who} failed naming pid ${holder}, not another runner: ${report.error}`);
      endings.push('busy');
      continue;
    }
    problems.push(`${who} exited ${r.code}: ${report.error ?? r.stdout.trim()} ${r.stderr.trim()}`);
  }

  const pending = versionsOf(W).filter((v) => v > preApplied);
  const doneSorted = [...done].sort((a, b) => a - b);
  if (JSON.stringify(doneSorted) !== JSON.stringify(pending)) problems.push(`runners reported applying ${doneSorted.join(',')} between them, not ${preApplied + 1}..${W.count} once each`);
  if (dead) {
    const released = results.filter((r) => r.stderr.includes(`Released a stale lock held by cli killed@`) && r.stderr.includes(`(pid ${dead} `)).length;
    if (released !== 1) problems.push(`${released} runners said they released the dead runner's lock (pid ${dead}), not one: ${results.map((r) => JSON.stringify(r.stderr)).join(' ')}`);
  }
  const snap = await snapshot(ws, W);
  problems.push(...historyProblems(snap, W, { downs: false }));
  if (snap.history.length !== W.count) problems.push(`${snap.history.length} history rows for ${W.count} migrations`);
  const missing = versionsOf(W).filter((v) => !snap.present.has(v));
  if (missing.length > 0) problems.push(`not applied: ${missing.join(',')}`);
  if (snap.locks.length > 0) problems.push(`lock rows left: ${JSON.stringify(snap.locks)}`);
  return { trial, endings, problems, ms };
}

test(`2 and 4 runners start up on one database at the same instant, ${TRIALS} trials each: every migration applied once, losers wait or fail naming the holder`, async (t) => {
  const started = Date.now();
  // Migrations 1..5 applied, and a cache holding every file (validate loads them all).
  const template = workloadWorkspace(W);
  for (const args of [['validate'], ['up', '--to', String(PRE_APPLIED)]]) {
    const r = await cliWithin([...args, '--dir', template], env, 30_000);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.ok(fs.existsSync(cacheFileOf(template, env)), `no CLI cache at ${cacheFileOf(template, env)}: has ResultCache.forWorkspace moved it?`);

  const trials: Trial[] = [2, 4].flatMap((runners) => Array.from({ length: TRIALS }, (_, i) => ({
    n: 0, runners,
    timeoutMs: i % 2 === 0 ? LONG_TIMEOUT_MS : SHORT_TIMEOUTS_MS[(i >> 1) % SHORT_TIMEOUTS_MS.length],
    start: (['fresh', 'applied', 'stale-lock'] as const)[(i >> 1) % 3],
  }))).map((trial, i) => ({ ...trial, n: i + 1 }));
  const outcomes = await pool(trials, PARALLEL, (trial) => concurrencyTrial(trial, template));

  const failed = outcomes.filter((o) => o.problems.length > 0);
  const tally = (runners: number, long: boolean) => {
    const endings = outcomes.filter((o) => o.trial.runners === runners && (o.trial.timeoutMs === LONG_TIMEOUT_MS) === long).flatMap((o) => o.endings);
    return Object.fromEntries((['applied', 'nothing-left', 'busy'] as const).map((e) => [e, endings.filter((x) => x === e).length]));
  };
  for (const runners of [2, 4]) {
    for (const long of [true, false]) t.diagnostic(`${runners} runners, ${long ? 'long' : 'short'} lock timeout: ${JSON.stringify(tally(runners, long))}`);
  }
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  t.diagnostic(`${trials.length} trials in ${Math.round((Date.now() - started) / 1000)} s; from release to the last exit: median ${ms[ms.length >> 1]} ms, max ${ms[ms.length - 1]} ms`);

  assert.deepEqual(
    failed.map((o) => `trial ${o.trial.n} (${o.trial.runners} runners, lockTimeoutMs ${o.trial.timeoutMs}, start ${o.trial.start}): ${o.problems.join('; ')}`),
    [],
    `${failed.length} of ${trials.length} trials failed`,
  );
  // Both outcomes were exercised: with a short timeout some losers failed naming the holder.
  for (const runners of [2, 4]) assert.ok(tally(runners, false).busy > 0, `no ${runners}-runner trial with a short timeout saw a busy failure`);
});

// A pause in each migration: the holder is killed while the others wait, at any point of its run.
const KW: Workload = { count: 20, rows: 20, work: 1_000, pauseMs: 20 };
const KILL_TRIALS = 20;
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Three runners released together; `delay` ms later the lock's holder (else one of them) is SIGKILLed: the others take over and finish. */
async function killWhileWaiting(n: number, delay: number, template: string): Promise<{ problems: string[]; tookOver: boolean; ms: number }> {
  const ws = workloadWorkspace(KW, { settings: { 'migrations.lockTimeoutMs': LONG_TIMEOUT_MS } });
  fs.copyFileSync(cacheFileOf(template, env), cacheFileOf(ws, env));
  const runners: HeldRunner[] = await Promise.all([0, 1, 2].map(() => heldRunner(['up', '--json', '--dir', ws], env)));
  let victim = runners[n % 3];
  const released = Date.now();
  for (const r of runners) r.go();
  const kill = (r: HeldRunner) => {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  // At `delay`, the runner holding the lock then (or, if none yet, the first to take it) dies:
  // with fast migrations most of a race is start-up, so a kill at a bare random moment would
  // seldom land on a holder.
  let settled = false;
  const killHolder = async () => {
    for (const deadline = Date.now() + 10_000; !settled && Date.now() < deadline;) {
      const holder = Number((await lockRows(DEFAULT_DB(ws)).catch(() => []))[0]?.pid);
      const owner = runners.find((r) => r.pid === holder);
      if (owner) {
        victim = owner;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    kill(victim);
  };
  const timer = setTimeout(() => void killHolder(), delay);
  const results = await Promise.all(runners.map((r) => r.result));
  settled = true;
  clearTimeout(timer);
  const ms = Date.now() - released;

  const problems: string[] = [];
  const applied: number[] = [];
  const tookOver: string[] = [];
  for (const [i, r] of results.entries()) {
    if (runners[i] === victim && r.stderr.includes('killed by SIGKILL')) continue;
    const report = JSON.parse(r.stdout || '{}') as { ok?: boolean; error?: string; steps?: { version: number; outcome: string }[] };
    if (r.code !== 0 || !report.ok) problems.push(`runner pid ${runners[i].pid} exited ${r.code}: ${report.error ?? r.stderr.trim()}`);
    applied.push(...(report.steps ?? []).filter((s) => s.outcome === 'done').map((s) => s.version));
    if (r.stderr.includes('Released a stale lock')) tookOver.push(r.stderr.trim());
  }
  const snap = await snapshot(ws, KW);
  problems.push(...historyProblems(snap, KW, { downs: false }));
  const missing = versionsOf(KW).filter((v) => !snap.present.has(v));
  if (missing.length > 0) problems.push(`not applied: ${missing.join(',')}`);
  if (snap.locks.length > 0) problems.push(`lock rows left: ${JSON.stringify(snap.locks)}`);
  // What the survivors did not apply, the victim did before it died.
  const byVictim = versionsOf(KW).filter((v) => !applied.includes(v));
  const diedHolding = byVictim.length > 0 && byVictim.length < KW.count;
  const named = (text: string) => text.includes(`(pid ${victim.pid} `);
  if (tookOver.length > 1 || (diedHolding && !(tookOver.length === 1 && named(tookOver[0])))) {
    problems.push(`the victim (pid ${victim.pid}) applied ${byVictim.join(',') || 'nothing'}; the survivors said about its lock: ${JSON.stringify(tookOver)}`);
  }
  return { problems, tookOver: tookOver.length > 0, ms };
}

test(`a runner killed while two others wait for the lock, ${KILL_TRIALS} trials: one takes it over and finishes the job`, async (t) => {
  const template = workloadWorkspace(KW);
  assert.equal((await cliWithin(['validate', '--dir', template], env, 30_000)).code, 0);
  // How long such a race takes unkilled (the victim never dies: it is killed after the end).
  const full = await killWhileWaiting(0, 60_000, template);
  assert.deepEqual(full.problems, []);
  const random = seededRandom(SEED);
  const delays = Array.from({ length: KILL_TRIALS }, () => Math.round(random() * full.ms));
  const outcomes = await pool(delays.map((delay, i) => ({ n: i + 1, delay })), PARALLEL, async ({ n, delay }) => ({ n, delay, ...(await killWhileWaiting(n, delay, template)) }));
  t.diagnostic(`seed ${SEED}; an unkilled race takes ${full.ms} ms; the holder died holding the lock and was taken over in ${outcomes.filter((o) => o.tookOver).length} of ${KILL_TRIALS} trials`);
  const failed = outcomes.filter((o) => o.problems.length > 0);
  assert.deepEqual(failed.map((o) => `trial ${o.n} (kill at ${o.delay} ms, seed ${SEED}): ${o.problems.join('; ')}`), [], `${failed.length} of ${KILL_TRIALS} trials failed`);
});
