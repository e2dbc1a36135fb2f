// The README's test command: type-check, build, transpile the tests, run them with
// node's test runner, and end with the plain "N passed, N failed" line CI reads.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

sh(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
sh(process.execPath, [path.join(root, 'scripts/build.mjs')]);

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.name === 'fixtures' ? [] : e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
await esbuild.build({
  entryPoints: [...walk(path.join(root, 'src')), ...walk(path.join(root, 'test'))],
  outdir: path.join(root, 'out'),
  outbase: root,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
});

const only = process.argv.slice(2);
const files = walk(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && (only.length === 0 || only.some((o) => f.includes(o))))
  .map((f) => path.join(root, 'out', path.relative(root, f)).replace(/\.ts$/, '.js'));

let passed = 0;
let failed = 0;
let skipped = 0;
const stream = run({ files, timeout: 10 * 60_000, concurrency: 1 });
stream.on('test:pass', (d) => {
  if (d.details?.type === 'suite') return;
  if (d.skip || d.todo) skipped++;
  else passed++;
});
stream.on('test:fail', (d) => {
  if (d.details?.type !== 'suite') failed++;
});
stream.compose(spec).pipe(process.stdout);
await new Promise((resolve) => stream.on('end', resolve));
// Let the spec reporter flush before the closing line.
await new Promise((resolve) => setImmediate(resolve));
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
