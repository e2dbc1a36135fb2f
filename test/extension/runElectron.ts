// The same extension-host suite under @vscode/test-electron, for machines that can
// download VS Code (a contributor's laptop, a public CI). This machine cannot: here
// scripts/test.mjs runs the suite in code-server instead (runCodeServer.mjs).
//
//   npm run test:electron          (VSCODE_TEST_VERSION=1.103.2 to pin the version code-server runs)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { CONFIG_FILE, prepareRun, readResult, ROOT, SUITE_INDEX, type SuiteName, type SuiteResult } from './workspaces';

const version = process.env.VSCODE_TEST_VERSION ?? 'stable';

async function runSuite(suite: SuiteName): Promise<SuiteResult> {
  const run = prepareRun(suite);
  const env = { MIGRATIONS_TEST_CONFIG: path.join(run.dir, CONFIG_FILE) };
  let why = 'VS Code exited without a result';
  try {
    if (suite === 'main') {
      const code = await runTests({ version, extensionDevelopmentPath: ROOT, extensionTestsPath: SUITE_INDEX, extensionTestsEnv: env, launchArgs: [run.workspace, '--disable-extensions'] });
      why = `VS Code exited with ${code} without a result`;
    } else {
      // runTests always adds --disable-workspace-trust; restricted mode needs trust on, so launch it here.
      const executable = await downloadAndUnzipVSCode({ version });
      const args = [
        run.workspace, '--disable-extensions', '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes',
        `--extensionDevelopmentPath=${ROOT}`, `--extensionTestsPath=${SUITE_INDEX}`,
        '--user-data-dir', path.join(run.dir, 'user-data'), '--extensions-dir', path.join(run.dir, 'extensions'),
      ];
      const r = spawnSync(executable, args, { env: { ...process.env, ...env }, stdio: 'inherit' });
      why = `VS Code exited with ${r.status ?? r.signal} without a result`;
    }
  } catch (err) {
    why = err instanceof Error ? err.message : String(err);
  }
  const result = readResult(run, why);
  fs.rmSync(run.dir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  let passed = 0;
  let failed = 0;
  for (const suite of ['main', 'restricted'] as const) {
    const result = await runSuite(suite);
    for (const t of result.tests) console.log(`  ${t.state === 'passed' ? '✔' : '✖'} ${t.title}${t.error ? `\n${t.error.replace(/^/gm, '      ')}` : ''}`);
    for (const [k, v] of Object.entries(result.metrics)) console.log(`  ${suite} ${k}: ${v}`);
    passed += result.passed;
    failed += result.failed;
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

void main();
