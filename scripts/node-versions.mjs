// The SQLite-specific tests on every Node the product supports: the oldest (22.13, the first
// without --experimental-sqlite), the newest 22 (the project's own runtime) and 24. Each Node comes
// from the npm registry (the `node` package), installed once into .cache/node/<version>/.
// Used by scripts/test.mjs; alone: node scripts/node-versions.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
/** `node` package versions: the floor, and the newest 24 the registry had when this was written. */
export const NODE_VERSIONS = ['22.13.0', 'self', '24'];
/** Compiled test files (out/test/) that exercise SQLite: the drivers, runs in a child process, the CLI, locks. */
const FILES = ['sqliteDrivers.test.js', 'isolated.test.js', 'run.test.js', 'lock.test.js'];

/** The `node` binary of a registry version, installed on first use. */
function nodeBinary(version) {
  if (version === 'self') return process.execPath;
  const dir = path.join(ROOT, '.cache', 'node', version);
  const bin = path.join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "allowScripts": { "node": true } }\n');
    console.log(`[node-versions] npm install node@${version} (once, into ${path.relative(ROOT, dir)})`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `node@${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return bin;
}

/** Runs the files on each Node; returns per-version counts parsed from the TAP summary. */
export function runOnNodeVersions() {
  return NODE_VERSIONS.map((version) => {
    const node = nodeBinary(version);
    const actual = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    // better-sqlite3 13 needs Node ≥ 22.14 (it crashes on 22.13): a user on that Node cannot pick it.
    const [major, minor] = actual.slice(1).split('.').map(Number);
    const env = { ...process.env, MIGRATIONS_TEST_DRIVERS: major === 22 && minor < 14 ? 'sqlite,sqlite3' : '' };
    const started = Date.now();
    const r = spawnSync(node, ['--test', '--test-reporter=tap', '--test-concurrency=1', ...FILES.map((f) => path.join(ROOT, 'out', 'test', f))], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(r.stdout)?.[1] ?? 0);
    const failures = [...r.stdout.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]);
    return { version: actual, passed: count('pass'), failed: count('fail') || (r.status === 0 ? 0 : 1), skipped: count('skipped'), failures, seconds: Math.round((Date.now() - started) / 1000), output: r.status === 0 ? '' : (r.stdout + r.stderr).slice(-4000) };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  for (const r of runOnNodeVersions()) console.log(`${r.version}: ${r.passed} passed, ${r.failed} failed${r.failures.length ? ` (${r.failures.join('; ')})` : ''} in ${r.seconds} s`);
}
