// Runs the extension-host suite (test/extension/suite) inside code-server: VS Code's
// browser test hook loads the extension under development and the compiled suite from
// the `payload` URL parameter, and calls codeAutomationExit when run() settles.
// Two launches: `main` (trusted) and `restricted` (Workspace Trust on, folder untrusted).
//
//   node test/extension/runCodeServer.mjs     builds, runs both, prints "N passed, N failed"
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { format } from 'node:util';
import * as fs from 'node:fs';
import { launchChromium, profileDirs, ROOT, startCodeServer, waitFor, workbenchUrl } from '../../scripts/vscode-host.mjs';

const require = createRequire(import.meta.url);
const SUITE_TIMEOUT_MS = 5 * 60_000;

/** The compiled (CommonJS) fixture helpers that test-electron's runner shares. */
const workspaces = () => require(path.join(ROOT, 'out', 'test', 'extension', 'workspaces.js'));

/**
 * Runs one suite in a fresh code-server and returns its SuiteResult (a failed one when
 * the host never reported). `browser` may be shared between suites.
 */
export async function runSuite(name, { browser, print = console.log, grep } = {}) {
  const { prepareRun, readResult, SUITE_INDEX } = workspaces();
  const run = prepareRun(name, grep);
  const server = await startCodeServer({ trusted: name !== 'restricted', dirs: profileDirs(path.join(run.dir, 'profile')) });
  const page = await browser.newPage();
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  let exitCode;
  let why = 'the suite did not finish';
  // The workbench's and the host's console (mocha's spec output among it): shown when something failed.
  const hostLog = [];
  try {
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      // The host's console arguments, format string first (mocha's spec reporter uses %s, %d).
      const line = format(...(Array.isArray(args) ? args : [args]));
      for (const l of line.split('\n')) if (l.trim()) hostLog.push(`    [${name}${type === 'log' || type === 'info' ? '' : ` ${type}`}] ${l}`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => { exitCode = code; });
    page.on('crash', () => { why = 'the browser page crashed'; });
    const payload = [
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(SUITE_INDEX)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    await page.goto(workbenchUrl(server, run.workspace, payload));
    await waitFor(`the ${name} suite to finish (codeAutomationExit)`, () => exitCode !== undefined || why === 'the browser page crashed', { timeoutMs: SUITE_TIMEOUT_MS, intervalMs: 200 });
    if (exitCode !== undefined) why = `the extension host exited with ${exitCode} before writing a result`;
  } catch (err) {
    why = err.message;
  } finally {
    await page.close().catch(() => {});
    await server.stop();
  }
  const result = readResult(run, why);
  if (result.failed > 0 || process.env.MIGRATIONS_TEST_VERBOSE) {
    print(hostLog.join('\n'));
    print(server.output().split('\n').slice(-20).join('\n'));
  }
  if (!process.env.KEEP_VSCODE_TEMP) fs.rmSync(run.dir, { recursive: true, force: true });
  // A zero exit with failures (or the reverse) means the counts cannot be trusted.
  if (exitCode !== undefined && (exitCode === 0) !== (result.failed === 0 && result.passed > 0)) {
    return { ...result, failed: result.failed + 1, tests: [...result.tests, { title: `${name} suite exit code`, state: 'failed', error: `exit code ${exitCode} with ${result.passed} passed, ${result.failed} failed` }] };
  }
  return result;
}

/** Both suites, one browser. */
export async function runExtensionSuites({ print = console.log, suites = ['main', 'restricted'], grep } = {}) {
  const browser = await launchChromium();
  try {
    const results = [];
    for (const name of suites) {
      const started = Date.now();
      print(`\n▶ extension host (code-server): ${name} suite`);
      const result = await runSuite(name, { browser, print, grep });
      for (const t of result.tests) print(`  ${{ passed: '✔', skipped: '-' }[t.state] ?? '✖'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}${t.error ? `\n${t.error.replace(/^/gm, '      ')}` : ''}`);
      print(`  ${name}: ${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''} in ${Math.round((Date.now() - started) / 1000)} s`);
      results.push(result);
    }
    return results;
  } finally {
    await browser.close();
  }
}

/** Builds dist/ and the compiled tests (what scripts/test.mjs does before it runs them). */
export async function buildForExtensionTests() {
  const { execFileSync } = await import('node:child_process');
  const { readdirSync } = await import('node:fs');
  const esbuild = await import('esbuild');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  await esbuild.build({ entryPoints: walk(path.join(ROOT, 'test', 'extension')), outdir: path.join(ROOT, 'out'), outbase: ROOT, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline', logLevel: 'warning' });
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  // node test/extension/runCodeServer.mjs [main|restricted ...] [--grep <text>]
  const args = process.argv.slice(2);
  const at = args.indexOf('--grep');
  const grep = at >= 0 ? args.splice(at, 2)[1] : undefined;
  await buildForExtensionTests();
  const results = await runExtensionSuites({ grep, ...(args.length ? { suites: args } : {}) });
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + (r.skipped ?? 0), 0);
  for (const r of results) for (const [k, v] of Object.entries(r.metrics)) console.log(`${r.suite} ${k}: ${v}`);
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}
