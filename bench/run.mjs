#!/usr/bin/env node
// Benchmark: this project's CLI against knex's own migration CLI on the same N migrations.
//
//   npm run bench                      (builds dist/cli.js, then runs this with N=1000, 3 runs)
//   node bench/run.mjs --n 200 --runs 5 [--apply-runs 7] [--keep]
//
// It generates N equivalent migrations in a temp folder, in our format (versions/*.ts classes)
// and in knex's (migrations/*.js with exports.up/down, plus a knexfile), then times each CLI
// as a fresh child process on a fresh SQLite file per run and reports medians, peak RSS and
// ratios against the targets. A last scenario is the latency felt at every "apply": the one
// pending migration of a workspace of N (N-1 applied), against knex's migrate:latest with one
// pending, alternating, --apply-runs times each. It reports; it never fails on a missed target (it is not a test).
// Results also go to bench/results/latest.json (git-ignored).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const KNEX_CLI = path.join(ROOT, 'node_modules', 'knex', 'bin', 'cli.js');
const MAXRSS = path.join(ROOT, 'bench', 'maxrss.cjs');
const RESULTS = path.join(ROOT, 'bench', 'results', 'latest.json');
const require = createRequire(path.join(ROOT, 'package.json'));

const TARGETS = {
  up: { max: 0.4, text: '≤ 0.40× knex' },
  rollbackAll: { max: 0.2, text: '≤ 0.20× knex' },
  noop: { max: 0.5, text: '≤ 0.5× knex' },
  peakRss: { max: 1, text: '≤ knex' },
  discovery: { maxMs: 150, text: '≤ 150 ms' },
  applyOne: { max: 1, text: '≤ 1.0× knex' },
  applyOneRss: { max: 1.2, text: '≤ 1.2× knex' },
  verify: { max: 3.5, text: '≤ 3.5× our up' },
};

// ---------------------------------------------------------------------------------------------
// Options

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    'apply-runs': { type: 'string', default: '7' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log('Usage: node bench/run.mjs [--n 1000] [--runs 3] [--apply-runs 7] [--only apply] [--keep]\n  --n           number of migrations to generate\n  --runs        fresh runs per measurement (medians are reported)\n  --apply-runs  runs of "apply the 1 pending migration of N" each (alternating with knex)\n  --only apply  only that scenario (with its floor), not the whole benchmark\n  --keep        keep the temp folder');
  process.exit(0);
}
const N = wholeNumber('--n', opts.n);
const RUNS = wholeNumber('--runs', opts.runs);
const APPLY_RUNS = wholeNumber('--apply-runs', opts['apply-runs']);
if (opts.only !== undefined && opts.only !== 'apply') fail(`--only takes "apply" (got "${opts.only}").`);
if (RUNS < 3) console.error(`note: --runs ${RUNS} is below 3; medians of so few runs are noisy.`);
for (const [file, hint] of [[CLI, 'run "npm run bench", which builds it first'], [KNEX_CLI, 'run "npm install"']]) {
  if (!fs.existsSync(file)) fail(`${path.relative(ROOT, file)} is missing: ${hint}.`);
}

function wholeNumber(flag, text) {
  if (!/^\d+$/.test(text) || Number(text) < 1) fail(`${flag} takes a whole number ≥ 1 (got "${text}").`);
  return Number(text);
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const log = (message) => process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------------------------------------
// Generated migrations: the same table, columns and index in both formats.

const TMP = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-bench-')));
const OURS_WS = path.join(TMP, 'ours');
const KNEX_DIR = path.join(TMP, 'knex');
const KNEXFILE = path.join(KNEX_DIR, 'knexfile.js');
// The same migrations on better-sqlite3: a second reference (knex's fastest SQLite driver).
const KNEXFILE_BETTER = path.join(KNEX_DIR, 'knexfile-better.js');
const DBS = path.join(TMP, 'dbs');
const WIDTH = Math.max(4, String(N).length);
const pad = (i) => String(i).padStart(WIDTH, '0');

function generate() {
  fs.mkdirSync(path.join(OURS_WS, 'versions'), { recursive: true });
  fs.mkdirSync(path.join(KNEX_DIR, 'migrations'), { recursive: true });
  fs.mkdirSync(DBS, { recursive: true });
  for (let i = 1; i <= N; i++) {
    const v = pad(i);
    const table = `t${v}`;
    fs.writeFileSync(path.join(OURS_WS, 'versions', `migration_${v}_create_${table}.ts`), `import type { Knex } from 'knex';

export class CreateT${v} {
  readonly version = ${i};
  readonly description = 'Create ${table}';

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('${table}', (t) => {
      t.increments('id');
      t.string('name', 255).notNullable();
      t.integer('amount').notNullable().defaultTo(0);
      t.index(['name']);
    });
  }

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('${table}');
  }
}

export function getMigration() {
  return CreateT${v};
}
`);
    fs.writeFileSync(path.join(KNEX_DIR, 'migrations', `${v}_create_${table}.js`), `exports.up = async function (knex) {
  await knex.schema.createTable('${table}', (t) => {
    t.increments('id');
    t.string('name', 255).notNullable();
    t.integer('amount').notNullable().defaultTo(0);
    t.index(['name']);
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTable('${table}');
};
`);
  }
  // The database file changes per run, so it comes from the environment.
  for (const [file, client] of [[KNEXFILE, 'sqlite3'], [KNEXFILE_BETTER, 'better-sqlite3']]) {
    fs.writeFileSync(file, `const path = require('node:path');

module.exports = {
  client: '${client}',
  useNullAsDefault: true,
  connection: { filename: process.env.BENCH_KNEX_DB },
  migrations: { directory: path.join(__dirname, 'migrations') },
};
`);
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes: wall time and peak RSS.

let childCount = 0;

/** Runs `node <args>` to completion; returns wall ms, peak RSS (MB) and output. Throws on a non-zero exit. */
function child(args, env = {}) {
  const rssFile = path.join(TMP, `rss-${++childCount}.txt`);
  const started = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, ...env, NODE_OPTIONS: `--require ${JSON.stringify(MAXRSS)}`, BENCH_RSS_FILE: rssFile, FORCE_COLOR: '0' },
  });
  const ms = performance.now() - started;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`"node ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}" exited ${r.status}:\n${(r.stderr || r.stdout).slice(-2000)}`);
  }
  // One line per process (the CLI and the child that runs its migrations): their sum.
  const kb = fs.readFileSync(rssFile, 'utf8').split('\n').filter(Boolean).reduce((sum, line) => sum + Number(line), 0);
  return { ms, rssMb: kb / 1024, stdout: r.stdout, stderr: r.stderr };
}

const ours = (command, db, ...extra) => child([CLI, ...command.split(' '), '--dir', OURS_WS, '--db', db, ...extra]);
// The knexfile lives in a temp folder without node_modules: KNEX_PATH points knex's CLI at ours.
// NODE_PATH lets the knexfile's driver (sqlite3, better-sqlite3) resolve from this project too.
const knexCli = (command, db, knexfile = KNEXFILE) => child([KNEX_CLI, ...command.split(' '), '--knexfile', knexfile], { BENCH_KNEX_DB: db, KNEX_PATH: require.resolve('knex'), NODE_PATH: path.join(ROOT, 'node_modules') });

// ---------------------------------------------------------------------------------------------
// Honesty checks: both sides really changed their database.

const { knex: createKnex } = require('knex');

async function inspectDb(file, fn) {
  const db = createKnex({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

async function countGeneratedTables(db) {
  const rows = await db('sqlite_master').where({ type: 'table' }).select('name');
  return rows.filter((r) => /^t\d+$/.test(r.name)).length;
}

async function countRows(db, table, where = {}) {
  if (!(await db.schema.hasTable(table))) return 0;
  const [{ n }] = await db(table).where(where).count({ n: '*' });
  return Number(n);
}

function expect(condition, message) {
  if (!condition) throw new Error(`verification failed: ${message}`);
}

async function verifyApplied(oursDb, knexDb) {
  await inspectDb(oursDb, async (db) => {
    const tables = await countGeneratedTables(db);
    const indexes = Number((await db('sqlite_master').where({ type: 'index' }).andWhere('name', 'like', 't%_name_index').count({ n: '*' }))[0].n);
    const history = await countRows(db, 'migration_history', { direction: 'up', success: true });
    expect(tables === N && indexes === N && history === N, `ours after up: ${tables} tables, ${indexes} indexes, ${history} history rows (want ${N} each)`);
  });
  await inspectDb(knexDb, async (db) => {
    const tables = await countGeneratedTables(db);
    const indexes = Number((await db('sqlite_master').where({ type: 'index' }).andWhere('name', 'like', 't%_name_index').count({ n: '*' }))[0].n);
    const done = await countRows(db, 'knex_migrations');
    expect(tables === N && indexes === N && done === N, `knex after migrate:latest: ${tables} tables, ${indexes} indexes, ${done} knex_migrations rows (want ${N} each)`);
  });
}

async function verifyRolledBack(oursDb, knexDb) {
  await inspectDb(oursDb, async (db) => {
    const tables = await countGeneratedTables(db);
    const downs = await countRows(db, 'migration_history', { direction: 'down', success: true });
    expect(tables === 0 && downs === N, `ours after down --all: ${tables} tables left, ${downs} down rows (want 0 and ${N})`);
  });
  await inspectDb(knexDb, async (db) => {
    const tables = await countGeneratedTables(db);
    const done = await countRows(db, 'knex_migrations');
    expect(tables === 0 && done === 0, `knex after migrate:rollback --all: ${tables} tables, ${done} knex_migrations rows left (want 0)`);
  });
}

// ---------------------------------------------------------------------------------------------
// Discovery + static validation in-process, from a bundle of src/core/sources/discovery.ts.

/**
 * The esbuild options of scripts/build.mjs (externals, main fields, the import.meta.url shim…),
 * read from its source so the bench bundles discovery exactly as the CLI is bundled.
 */
function buildOptions() {
  const text = fs.readFileSync(path.join(ROOT, 'scripts', 'build.mjs'), 'utf8');
  const external = /^const external = \[[\s\S]*?\];$/m.exec(text);
  const common = /^const common = \{[\s\S]*?^\};$/m.exec(text);
  try {
    const options = new Function('process', `const watch = false;\n${external[0]}\n${common[0]}\nreturn common;`)(process);
    if (options && Array.isArray(options.external)) return options;
  } catch {
    /* fall through */
  }
  log('note: could not read the esbuild options of scripts/build.mjs; using a copy.');
  return {
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external: ['vscode', 'sqlite3', 'pg', 'pg-query-stream', 'pg-native', 'mysql', 'mysql2', 'mariadb', 'mariadb/*', 'tedious', 'oracledb', 'better-sqlite3'],
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logOverride: { 'unsupported-require-call': 'silent' },
  };
}

/** Our knex client for node:sqlite, bundled for the up floor. */
async function bundleNodeSqliteClient() {
  const outfile = path.join(TMP, 'node-sqlite-client.cjs');
  await esbuild.build({ ...buildOptions(), entryPoints: [path.join(ROOT, 'src', 'core', 'database', 'nodeSqliteClient.ts')], outfile, sourcemap: false, minify: false, logLevel: 'error', banner: {} , define: {} });
  return outfile;
}

async function bundleDiscovery() {
  const outfile = path.join(TMP, 'discovery.cjs');
  await esbuild.build({
    ...buildOptions(),
    entryPoints: [path.join(ROOT, 'src', 'core', 'sources', 'discovery.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    sourcemap: false,
    logLevel: 'error',
  });
  const script = path.join(TMP, 'discover-child.cjs');
  fs.writeFileSync(script, `'use strict';
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const { Discovery } = require(process.argv[2]);
const t1 = performance.now();
const discovery = new Discovery(process.argv[3]);
const sources = discovery.discover();
const t2 = performance.now();
discovery.discover();
const t3 = performance.now();
const problems = sources.flatMap((s) => [...s.problems, ...s.migrations.flatMap((m) => m.problems)]);
process.stdout.write(JSON.stringify({
  loadMs: t1 - t0,
  discoverMs: t2 - t1,
  cachedMs: t3 - t2,
  sources: sources.length,
  migrations: sources.reduce((n, s) => n + s.migrations.length, 0),
  errors: problems.filter((p) => p.severity === 'error').length,
  warnings: problems.filter((p) => p.severity === 'warning').length,
  firstProblem: problems[0] ? problems[0].message : null,
}));
`);
  return { bundle: outfile, script };
}

function measureDiscovery({ bundle, script }) {
  // Bundle externals (native modules) resolve from the project's node_modules.
  const r = child([script, bundle, OURS_WS], { NODE_PATH: path.join(ROOT, 'node_modules') });
  const result = JSON.parse(r.stdout);
  expect(result.sources === 1 && result.migrations === N && result.errors === 0,
    `discovery found ${result.sources} source(s), ${result.migrations} migrations, ${result.errors} error(s) (want 1, ${N}, 0)${result.firstProblem ? `: ${result.firstProblem}` : ''}`);
  return { ...result, processMs: r.ms, rssMb: r.rssMb };
}

// ---------------------------------------------------------------------------------------------
// Apply 1 pending migration in a workspace of N (N-1 applied): what a developer waits for at every
// "apply". Each run first rolls the newest migration back on each side (not timed), then times our
// `up` and knex's `migrate:latest`, alternating who goes first; the floor applies the same one
// migration with nothing else (floor-apply1.cjs). One database per side throughout, so our
// schema.sql is really rewritten each time, as on a developer's machine.

async function measureApplyOne(client) {
  const oursDb = path.join(DBS, 'apply1-ours.sqlite3');
  const knexDb = path.join(DBS, 'apply1-knex.sqlite3');
  const floorDb = path.join(DBS, 'apply1-floor.sqlite3');
  const last = path.join(KNEX_DIR, 'migrations', `${pad(N)}_create_t${pad(N)}.js`);
  const floorRun = (mode) => child([path.join(ROOT, 'bench', 'floor-apply1.cjs'), ROOT, last, floorDb, client, mode]);
  // The earlier runs' snapshot names their own databases (a run would refuse to replace it).
  fs.rmSync(path.join(OURS_WS, 'schema.sql'), { force: true });
  ours('up', oursDb);
  knexCli('migrate:latest', knexDb);
  const samples = { ours: [], knex: [], floor: [] };
  for (let run = 1; run <= APPLY_RUNS; run++) {
    log(`bench: apply 1 pending of ${N}: run ${run}/${APPLY_RUNS}`);
    const down = ours('down', oursDb);
    expect(/^1 migration\(s\) done\./m.test(down.stdout), `ours down did not roll back one migration: ${down.stdout.slice(-300)}`);
    const knexDown = knexCli('migrate:down', knexDb);
    expect(new RegExp(`${pad(N)}_create_t${pad(N)}`).test(knexDown.stdout), `knex migrate:down did not roll back the newest migration: ${knexDown.stdout.slice(-300)}`);
    // knex's sqlite3 keeps no WAL: the file alone is the database.
    if (run === 1) fs.copyFileSync(knexDb, floorDb);
    else floorRun('down');
    const [o, k] = run % 2 ? [ours('up', oursDb), knexCli('migrate:latest', knexDb)] : [knexCli('migrate:latest', knexDb), ours('up', oursDb)].reverse();
    expect(/^1 migration\(s\) done\./m.test(o.stdout) && new RegExp(`\\bup\\s+versions\\s+${N}\\b`).test(o.stdout), `ours up did not apply migration ${N} alone: ${o.stdout.slice(-300)}`);
    expect(/Batch \d+ run: 1 migrations/.test(k.stdout), `knex migrate:latest did not apply one migration: ${k.stdout.slice(-300)}`);
    const f = floorRun('up');
    for (const [side, db] of [['ours', oursDb], ['knex', knexDb], ['floor', floorDb]]) {
      const tables = await inspectDb(db, countGeneratedTables);
      expect(tables === N, `${side} has ${tables} tables after applying the last migration (want ${N})`);
    }
    samples.ours.push({ ms: o.ms, rssMb: o.rssMb });
    samples.knex.push({ ms: k.ms, rssMb: k.rssMb });
    samples.floor.push({ ms: f.ms, rssMb: f.rssMb });
  }
  // The snapshot the runs wrote is the database's whole schema, as `schema` dumps it afresh.
  const snapshot = ours('schema', oursDb);
  expect(/-- Unchanged: schema\.sql$/m.test(snapshot.stdout), `schema.sql after the last apply differs from a fresh dump: ${snapshot.stdout.slice(-300)}`);
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Statistics and the report.

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const max = (xs) => Math.max(...xs);
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main() {
  log(`bench: ${N} migrations, ${RUNS} run(s) each, in ${TMP}`);
  const loadBefore = os.loadavg()[0];
  generate();
  if (opts.only === 'apply') return applyOnly();

  const ops = ['up', 'noop', 'noopUp', 'rollbackAll'];
  const samples = Object.fromEntries(ops.map((op) => [op, { ours: [], knex: [], better: [] }]));
  const verifySamples = [];

  // Warm the OS file cache and node's compile cache for both tools (not measured).
  log('bench: warm-up run');
  {
    const a = path.join(DBS, 'warm-ours.sqlite3');
    const b = path.join(DBS, 'warm-knex.sqlite3');
    ours('up', a);
    knexCli('migrate:latest', b);
  }

  for (let run = 1; run <= RUNS; run++) {
    const oursDb = path.join(DBS, `ours-${run}.sqlite3`);
    const knexDb = path.join(DBS, `knex-${run}.sqlite3`);
    // Alternate who goes first so neither side always gets the warmer machine.
    const pairs = (fnOurs, fnKnex) => (run % 2 ? [fnOurs(), fnKnex()] : [fnKnex(), fnOurs()].reverse());

    log(`bench: run ${run}/${RUNS}: up`);
    const [upOurs, upKnex] = pairs(() => ours('up', oursDb), () => knexCli('migrate:latest', knexDb));

    log(`bench: run ${run}/${RUNS}: no-op with everything applied`);
    const [noopOurs, noopKnex] = pairs(() => ours('status', oursDb), () => knexCli('migrate:latest', knexDb));
    const appliedLines = noopOurs.stdout.split('\n').filter((l) => /^\s+\d+\s+applied\s/.test(l)).length;
    expect(appliedLines === N && !/\bpending\b/.test(noopOurs.stdout), `ours status listed ${appliedLines} applied migrations (want ${N}, none pending)`);
    expect(/Already up to date/i.test(noopKnex.stdout + noopKnex.stderr), `knex no-op migrate:latest did not say "Already up to date": ${noopKnex.stdout.slice(0, 300)}`);
    // The other no-op the target names: `up` with nothing to do (against the same knex no-op).
    const noopUpOurs = ours('up', oursDb);
    expect(/Nothing to apply/.test(noopUpOurs.stdout), `ours no-op up did not say "Nothing to apply": ${noopUpOurs.stdout.slice(0, 300)}`);
    await verifyApplied(oursDb, knexDb);

    log(`bench: run ${run}/${RUNS}: roll back all`);
    const [downOurs, downKnex] = pairs(() => ours('down --all', oursDb), () => knexCli('migrate:rollback --all', knexDb));
    await verifyRolledBack(oursDb, knexDb);

    log(`bench: run ${run}/${RUNS}: verify all ${N} pending on a shadow (up, down, up each)`);
    const verified = ours('verify', path.join(DBS, `verify-${run}.sqlite3`));
    expect(/Every migration is reversible/.test(verified.stdout) && (verified.stdout.match(/^\s+reversible\s/gm) ?? []).length === N,
      `verify did not find all ${N} migrations reversible: ${verified.stdout.slice(-300)}${verified.stderr.slice(0, 300)}`);
    expect(!fs.existsSync(path.join(DBS, `verify-${run}.sqlite3`)), 'verify created the real database file');
    verifySamples.push({ ms: verified.ms, rssMb: verified.rssMb });

    log(`bench: run ${run}/${RUNS}: knex on better-sqlite3 (reference)`);
    const betterDb = path.join(DBS, `better-${run}.sqlite3`);
    const upBetter = knexCli('migrate:latest', betterDb, KNEXFILE_BETTER);
    const noopBetter = knexCli('migrate:latest', betterDb, KNEXFILE_BETTER);
    const downBetter = knexCli('migrate:rollback --all', betterDb, KNEXFILE_BETTER);
    await inspectDb(betterDb, async (db) => expect((await countRows(db, 'knex_migrations')) === 0 && (await countGeneratedTables(db)) === 0, 'knex on better-sqlite3 left tables or rows after rollback --all'));

    for (const [op, o, k, b] of [['up', upOurs, upKnex, upBetter], ['noop', noopOurs, noopKnex, noopBetter], ['noopUp', noopUpOurs, noopKnex, noopBetter], ['rollbackAll', downOurs, downKnex, downBetter]]) {
      samples[op].ours.push({ ms: o.ms, rssMb: o.rssMb });
      samples[op].knex.push({ ms: k.ms, rssMb: k.rssMb });
      samples[op].better.push({ ms: b.ms, rssMb: b.rssMb });
    }
  }

  // Floors: what any runner on knex + node:sqlite must spend, measured in the same run, so a
  // missed target can be told apart from one that no implementation on this stack could meet.
  log('bench: floors (node start, the least an up and a no-op can do)');
  const lastOursDb = path.join(DBS, `ours-${RUNS}.sqlite3`);
  const client = await bundleNodeSqliteClient();
  const floors = { node: [], up: [], upEach: [], downEach: [], noop: [] };
  for (let run = 1; run <= RUNS; run++) {
    floors.node.push(child(['-e', '0']).ms);
    for (const [key, mode] of [['up', 'one'], ['upEach', 'each']]) {
      const db = path.join(DBS, `floor-${key}-${run}.sqlite3`);
      floors[key].push(child([path.join(ROOT, 'bench', 'floor-up.cjs'), ROOT, path.join(KNEX_DIR, 'migrations'), db, client, mode]).ms);
      const made = await inspectDb(db, countGeneratedTables);
      expect(made === N, `the up floor (${mode}) created ${made} tables (want ${N})`);
    }
    const applied = path.join(DBS, `floor-upEach-${run}.sqlite3`);
    floors.downEach.push(child([path.join(ROOT, 'bench', 'floor-up.cjs'), ROOT, path.join(KNEX_DIR, 'migrations'), applied, client, 'down-each']).ms);
    const left = await inspectDb(applied, countGeneratedTables);
    expect(left === 0, `the rollback floor left ${left} tables (want 0)`);
    floors.noop.push(child([path.join(ROOT, 'bench', 'floor-noop.cjs'), path.join(OURS_WS, 'versions'), lastOursDb]).ms);
  }

  const applyOne = await measureApplyOne(client);

  log('bench: discovery + static validation (fresh process each)');
  const discoveryBundle = await bundleDiscovery();
  measureDiscovery(discoveryBundle); // warm-up, not counted
  const discovery = Array.from({ length: RUNS }, () => measureDiscovery(discoveryBundle));

  // ---- medians, ratios, targets
  const summary = {};
  for (const op of ops) {
    const o = samples[op].ours;
    const k = samples[op].knex;
    summary[op] = {
      oursMs: median(o.map((s) => s.ms)),
      knexMs: median(k.map((s) => s.ms)),
      oursPeakRssMb: max(o.map((s) => s.rssMb)),
      knexPeakRssMb: max(k.map((s) => s.rssMb)),
    };
    summary[op].betterMs = median(samples[op].better.map((s) => s.ms));
    summary[op].betterPeakRssMb = max(samples[op].better.map((s) => s.rssMb));
    summary[op].ratio = summary[op].oursMs / summary[op].knexMs;
    summary[op].rssRatio = summary[op].oursPeakRssMb / summary[op].knexPeakRssMb;
  }
  const oursPeak = max(ops.map((op) => summary[op].oursPeakRssMb));
  const knexPeak = max(ops.map((op) => summary[op].knexPeakRssMb));
  const discoveryMs = median(discovery.map((d) => d.discoverMs));
  const verifyMs = median(verifySamples.map((s) => s.ms));
  const apply = {
    oursMs: median(applyOne.ours.map((s) => s.ms)),
    knexMs: median(applyOne.knex.map((s) => s.ms)),
    floorMs: median(applyOne.floor.map((s) => s.ms)),
    oursPeakRssMb: max(applyOne.ours.map((s) => s.rssMb)),
    knexPeakRssMb: max(applyOne.knex.map((s) => s.rssMb)),
    floorPeakRssMb: max(applyOne.floor.map((s) => s.rssMb)),
  };
  apply.ratio = apply.oursMs / apply.knexMs;
  apply.rssRatio = apply.oursPeakRssMb / apply.knexPeakRssMb;
  const targets = {
    applyOne: { ...TARGETS.applyOne, value: apply.ratio, met: apply.ratio <= TARGETS.applyOne.max },
    applyOneRss: { ...TARGETS.applyOneRss, value: apply.rssRatio, met: apply.rssRatio <= TARGETS.applyOneRss.max },
    verify: { ...TARGETS.verify, value: verifyMs / summary.up.oursMs, met: verifyMs / summary.up.oursMs <= TARGETS.verify.max },
    up: { ...TARGETS.up, value: summary.up.ratio, met: summary.up.ratio <= TARGETS.up.max },
    rollbackAll: { ...TARGETS.rollbackAll, value: summary.rollbackAll.ratio, met: summary.rollbackAll.ratio <= TARGETS.rollbackAll.max },
    noop: { ...TARGETS.noop, value: summary.noop.ratio, met: summary.noop.ratio <= TARGETS.noop.max },
    noopUp: { ...TARGETS.noop, value: summary.noopUp.ratio, met: summary.noopUp.ratio <= TARGETS.noop.max },
    peakRss: { ...TARGETS.peakRss, value: oursPeak / knexPeak, met: oursPeak <= knexPeak },
    discovery: { ...TARGETS.discovery, value: discoveryMs, met: discoveryMs <= TARGETS.discovery.maxMs },
  };

  // ---- table
  const mark = (t) => (t.met ? 'met' : 'NOT met');
  const rows = [
    ['measurement', 'ours ms', 'knex ms', 'ours/knex', 'ours RSS MB', 'knex RSS MB', 'target', 'result'],
    ['up (apply all)', summary.up.oursMs, summary.up.knexMs, summary.up.ratio, summary.up.oursPeakRssMb, summary.up.knexPeakRssMb, TARGETS.up.text, mark(targets.up)],
    ['rollback all', summary.rollbackAll.oursMs, summary.rollbackAll.knexMs, summary.rollbackAll.ratio, summary.rollbackAll.oursPeakRssMb, summary.rollbackAll.knexPeakRssMb, TARGETS.rollbackAll.text, mark(targets.rollbackAll)],
    ['no-op status (all applied)', summary.noop.oursMs, summary.noop.knexMs, summary.noop.ratio, summary.noop.oursPeakRssMb, summary.noop.knexPeakRssMb, TARGETS.noop.text, mark(targets.noop)],
    ['no-op up (all applied)', summary.noopUp.oursMs, summary.noopUp.knexMs, summary.noopUp.ratio, summary.noopUp.oursPeakRssMb, summary.noopUp.knexPeakRssMb, TARGETS.noop.text, mark(targets.noopUp)],
    [`apply 1 pending of ${N}`, apply.oursMs, apply.knexMs, apply.ratio, apply.oursPeakRssMb, apply.knexPeakRssMb, TARGETS.applyOne.text, `${mark(targets.applyOne)} (${APPLY_RUNS} runs)`],
    [`peak RSS (apply 1 of ${N})`, '', '', apply.rssRatio, apply.oursPeakRssMb, apply.knexPeakRssMb, TARGETS.applyOneRss.text, mark(targets.applyOneRss)],
    ['peak RSS (all ops)', '', '', oursPeak / knexPeak, oursPeak, knexPeak, TARGETS.peakRss.text, mark(targets.peakRss)],
    ['verify all pending', verifyMs, '', '', max(verifySamples.map((s) => s.rssMb)), '', TARGETS.verify.text, `${mark(targets.verify)} (${targets.verify.value.toFixed(2)}× our up)`],
    ['discovery + static checks', discoveryMs, '', '', median(discovery.map((d) => d.rssMb)), '', TARGETS.discovery.text, mark(targets.discovery)],
  ].map((r) => r.map((c, i) => (typeof c === 'number' ? (i === 3 ? `${c.toFixed(2)}×` : c.toFixed(i >= 4 ? 1 : 0)) : c)));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i >= 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(`Migration Manager (node:sqlite) vs knex ${require('knex/package.json').version} on sqlite3 — ${N} migrations, median of ${RUNS} fresh run(s), node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  console.log(`knex on better-sqlite3 (reference): up ${round(summary.up.betterMs, 0)} ms, no-op ${round(summary.noop.betterMs, 0)} ms, rollback all ${round(summary.rollbackAll.betterMs, 0)} ms;` +
    ` ours/that: up ${(summary.up.oursMs / summary.up.betterMs).toFixed(2)}×, no-op ${(summary.noop.oursMs / summary.noop.betterMs).toFixed(2)}×, rollback all ${(summary.rollbackAll.oursMs / summary.rollbackAll.betterMs).toFixed(2)}×; peak RSS ${round(max(ops.map((op) => summary[op].betterPeakRssMb)))} MB`);
  console.log(`ours:  node dist/cli.js up | status, up (no-op) | down --all  --dir <ws> --db <fresh file>`);
  console.log(`knex:  node node_modules/knex/bin/cli.js migrate:latest | migrate:latest (no-op) | migrate:rollback --all  --knexfile <kf>`);
  console.log(`discovery: new Discovery(ws).discover() in a fresh process; median ${round(discoveryMs)} ms` +
    ` (module load ${round(median(discovery.map((d) => d.loadMs)))} ms, cached re-run ${round(median(discovery.map((d) => d.cachedMs)), 2)} ms, whole process ${round(median(discovery.map((d) => d.processMs)))} ms)`);
  const loadAfter = os.loadavg()[0];
  if (Math.max(loadBefore, loadAfter) > os.cpus().length * 0.5) {
    console.log(`note: the machine was busy (1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, ${os.cpus().length} CPUs); timings are noisy.`);
  }
  const floor = Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, median(v)]));
  console.log(`floors on node:sqlite, same run: node start ${round(floor.node, 0)} ms; up ${round(floor.up, 0)} ms = ${(floor.up / summary.up.knexMs).toFixed(2)}× knex` +
    ` (knex + ${N} modules, every up() in one transaction), ${round(floor.upEach, 0)} ms = ${(floor.upEach / summary.up.knexMs).toFixed(2)}× with a transaction and a row per migration;` +
    ` rollback all ${round(floor.downEach, 0)} ms = ${(floor.downEach / summary.rollbackAll.knexMs).toFixed(2)}× knex (a transaction and a row per migration);` +
    ` no-op ${round(floor.noop, 0)} ms = ${(floor.noop / summary.noop.knexMs).toFixed(2)}× knex (read the files and the history, nothing else)`);
  console.log(`apply 1 pending of ${N} (${N - 1} applied), same run: floor ${round(apply.floorMs, 0)} ms = ${(apply.floorMs / apply.knexMs).toFixed(2)}× knex, ${round(apply.floorPeakRssMb)} MB` +
    ` (node start + knex + that one migration and its row in one transaction; no discovery, checks, lock or snapshot); ours is ${round(apply.oursMs - apply.floorMs, 0)} ms above it, knex ${round(apply.knexMs - apply.floorMs, 0)} ms`);
  console.log(`verified: both sides created ${N} tables + ${N} indexes and recorded ${N} migrations, then dropped them all, on every run.`);

  // ---- JSON
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpu: `${os.cpus()[0]?.model ?? ''} ×${os.cpus().length}`,
    knexVersion: require('knex/package.json').version,
    loadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
    n: N,
    runs: RUNS,
    medians: Object.fromEntries(ops.map((op) => [op, { oursMs: round(summary[op].oursMs), knexMs: round(summary[op].knexMs), ratio: round(summary[op].ratio, 3) }])),
    peakRssMb: {
      ...Object.fromEntries(ops.map((op) => [op, { ours: round(summary[op].oursPeakRssMb), knex: round(summary[op].knexPeakRssMb) }])),
      overall: { ours: round(oursPeak), knex: round(knexPeak), ratio: round(oursPeak / knexPeak, 3) },
    },
    discovery: {
      medianMs: round(discoveryMs, 2),
      loadMedianMs: round(median(discovery.map((d) => d.loadMs)), 2),
      cachedMedianMs: round(median(discovery.map((d) => d.cachedMs)), 2),
      processMedianMs: round(median(discovery.map((d) => d.processMs))),
      runs: discovery.map((d) => ({ discoverMs: round(d.discoverMs, 2), loadMs: round(d.loadMs, 2), processMs: round(d.processMs), rssMb: round(d.rssMb) })),
      migrations: discovery[0].migrations,
      warnings: discovery[0].warnings,
    },
    verify: { medianMs: round(verifyMs), ratioToOurUp: round(verifyMs / summary.up.oursMs, 3), runs: verifySamples.map((s) => ({ ms: round(s.ms), rssMb: round(s.rssMb) })) },
    applyOne: {
      runs: APPLY_RUNS, oursMs: round(apply.oursMs), knexMs: round(apply.knexMs), floorMs: round(apply.floorMs), ratio: round(apply.ratio, 3),
      peakRssMb: { ours: round(apply.oursPeakRssMb), knex: round(apply.knexPeakRssMb), floor: round(apply.floorPeakRssMb), ratio: round(apply.rssRatio, 3) },
      samples: Object.fromEntries(Object.entries(applyOne).map(([side, list]) => [side, list.map((s) => ({ ms: round(s.ms), rssMb: round(s.rssMb) }))])),
    },
    floorsMs: { node: round(floor.node), up: round(floor.up), upEach: round(floor.upEach), downEach: round(floor.downEach), noop: round(floor.noop) },
    betterSqlite3: Object.fromEntries(ops.map((op) => [op, { ms: round(summary[op].betterMs), peakRssMb: round(summary[op].betterPeakRssMb) }])),
    targets: Object.fromEntries(Object.entries(targets).map(([k, t]) => [k, { target: t.text, value: round(t.value, 3), met: t.met }])),
    samples: Object.fromEntries(ops.map((op) => [op, {
      ours: samples[op].ours.map((s) => ({ ms: round(s.ms), rssMb: round(s.rssMb) })),
      knex: samples[op].knex.map((s) => ({ ms: round(s.ms), rssMb: round(s.rssMb) })),
      better: samples[op].better.map((s) => ({ ms: round(s.ms), rssMb: round(s.rssMb) })),
    }])),
  };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  console.log(`results: ${path.relative(ROOT, RESULTS)}`);
}

/** `--only apply`: the one scenario and its floor, reported alone (nothing written to results/). */
async function applyOnly() {
  log('bench: warm-up run');
  ours('up', path.join(DBS, 'warm-ours.sqlite3'));
  knexCli('migrate:latest', path.join(DBS, 'warm-knex.sqlite3'));
  const samples = await measureApplyOne(await bundleNodeSqliteClient());
  const m = (side) => median(samples[side].map((s) => s.ms));
  const rss = (side) => max(samples[side].map((s) => s.rssMb));
  console.log(`apply 1 pending of ${N} (${N - 1} applied), median of ${APPLY_RUNS}, alternating: ours ${round(m('ours'), 0)} ms, knex ${round(m('knex'), 0)} ms = ${(m('ours') / m('knex')).toFixed(2)}× (${TARGETS.applyOne.text});` +
    ` peak RSS ours ${round(rss('ours'))} MB, knex ${round(rss('knex'))} MB = ${(rss('ours') / rss('knex')).toFixed(2)}× (${TARGETS.applyOneRss.text}); floor ${round(m('floor'), 0)} ms = ${(m('floor') / m('knex')).toFixed(2)}× knex, ${round(rss('floor'))} MB`);
  console.log(`ours:  ${samples.ours.map((s) => round(s.ms, 0)).join(' ')} ms\nknex:  ${samples.knex.map((s) => round(s.ms, 0)).join(' ')} ms\nfloor: ${samples.floor.map((s) => round(s.ms, 0)).join(' ')} ms`);
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (opts.keep) log(`bench: kept ${TMP}`);
  else fs.rmSync(TMP, { recursive: true, force: true });
}
