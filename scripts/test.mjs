// The README's test command: type-check, build, transpile the tests, run them with
// node's test runner, then the extension tests in a real VS Code (code-server, see
// scripts/vscode-host.mjs): the extension-host suite and the UI end-to-end test. Ends with
// one plain "N passed, N failed" line for all of them, which CI reads.
//
//   node scripts/test.mjs                  everything
//   node scripts/test.mjs lock cli         only node:test files whose path has "lock" or "cli"
//   node scripts/test.mjs extension ui     only the extension-host suite / the UI test ("vscode": both)
//   node scripts/test.mjs nodes            only the SQLite tests on Node 22.13, the newest 22 and 24
//   node scripts/test.mjs --no-vscode      everything but the VS Code tiers (--no-nodes: and the Node versions tier)
//   node scripts/test.mjs --build-only     type-check and build, run nothing (npm run test:electron)
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

const args = process.argv.slice(2);
if (args.includes('--build-only')) process.exit(0);
const only = args.filter((a) => !a.startsWith('--'));
const TIERS = { extension: ['extension', 'vscode'], ui: ['ui', 'vscode'], nodes: ['nodes'] };
const wants = (tier) => (tier === 'nodes' || !args.includes('--no-vscode')) && (only.length === 0 || only.some((o) => TIERS[tier].includes(o)));
const nodeFilters = only.filter((o) => !Object.values(TIERS).flat().includes(o));
// test/extension/ runs inside VS Code (below), not in node's test runner.
const extensionDir = path.join(root, 'test', 'extension') + path.sep;
const files = walk(path.join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && !f.startsWith(extensionDir) && (only.length === 0 || nodeFilters.some((o) => f.includes(o))))
  .map((f) => path.join(root, 'out', path.relative(root, f)).replace(/\.ts$/, '.js'));

let passed = 0;
let failed = 0;
let skipped = 0;
if (files.length > 0) {
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
  // Let the spec reporter flush before what follows.
  await new Promise((resolve) => setImmediate(resolve));
  console.log(`\nengine and CLI (node:test): ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}

// The other tiers: each reports per-test outcomes, added to the counts above.
const figures = [];
const tier = async (title, fn) => {
  const started = Date.now();
  console.log(`\n▶ ${title}`);
  let results;
  try {
    results = await fn();
  } catch (err) {
    // No VS Code to run in (install or start failed): one failure, never a silent skip.
    console.log(`  ✖ ${title}\n${String(err?.stack ?? err).replace(/^/gm, '      ')}`);
    failed++;
    return;
  }
  for (const r of results) {
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped ?? 0;
    for (const [k, v] of Object.entries(r.metrics)) figures.push(`${r.suite} ${k}: ${v}`);
  }
  console.log(`  ${title}: ${results.reduce((n, r) => n + r.passed, 0)} passed, ${results.reduce((n, r) => n + r.failed, 0)} failed in ${Math.round((Date.now() - started) / 1000)} s`);
};
if (wants('nodes') && !args.includes('--no-nodes')) {
  const { runOnNodeVersions } = await import('./node-versions.mjs');
  await tier('SQLite tests on Node 22.13, the newest 22 and 24 (scripts/node-versions.mjs)', async () => {
    const results = runOnNodeVersions();
    for (const r of results) {
      console.log(`  ${r.failed === 0 ? '✔' : '✖'} Node ${r.version}: ${r.passed} passed, ${r.failed} failed in ${r.seconds} s`);
      for (const f of r.failures) console.log(`      ✖ ${f}`);
      if (r.output) console.log(r.output.replace(/^/gm, '      '));
    }
    return results.map((r) => ({ suite: `node ${r.version}`, passed: r.passed, failed: r.failed, skipped: r.skipped, metrics: {} }));
  });
}
if (wants('extension')) {
  const { runExtensionSuites } = await import('../test/extension/runCodeServer.mjs');
  await tier('extension host suite in code-server (test/extension/suite)', () => runExtensionSuites());
}
if (wants('ui')) {
  const { runUiTest } = await import('../test/extension/ui.mjs');
  await tier('UI end-to-end in code-server + Chromium (test/extension/ui.mjs)', async () => {
    const result = await runUiTest();
    for (const t of result.tests) console.log(`  ${t.state === 'passed' ? '✔' : '✖'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}${t.error ? `\n${t.error.replace(/^/gm, '      ')}` : ''}`);
    return [result];
  });
}
if (figures.length > 0) console.log(`\nMeasured:\n${figures.map((f) => `  ${f}`).join('\n')}`);

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
