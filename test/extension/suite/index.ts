// The extension-host entry both runners load as `extensionTestsPath`: runs the mocha
// (TDD) files of the configured suite, writes per-test outcomes and the measured
// figures to the result file, and rejects when anything failed (exit code 1).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import type { SuiteName, SuiteResult } from '../workspaces';
import { config, metrics } from './helpers';

/** Files per suite, in the order they run (later files build on the state earlier ones leave). */
const FILES: Record<SuiteName, string[]> = {
  main: ['activation.test.js', 'run.test.js', 'history.test.js', 'diagnostics.test.js', 'folders.test.js', 'project.test.js', 'generate.test.js', 'firstRun.test.js', 'checks.test.js', 'current.test.js', 'preview.test.js', 'database.test.js', 'settings.test.js', 'editing.test.js', 'messages.test.js', 'smaller.test.js', 'performance.test.js'],
  restricted: ['restricted.test.js'],
};

export async function run(): Promise<void> {
  const { suite, result, grep } = config();
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec', ...(grep ? { grep } : {}) });
  for (const file of FILES[suite]) mocha.addFile(path.join(__dirname, file));
  const tests: SuiteResult['tests'][number][] = [];
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }));
    runner.on('pending', (t) => tests.push({ title: t.fullTitle(), state: 'skipped' }));
    // Hooks fail through here too, so a broken setup is never a silent zero.
    runner.on('fail', (t, err: Error) => tests.push({ title: t.fullTitle(), state: 'failed', error: err?.stack ?? String(err) }));
  });
  const passed = tests.filter((t) => t.state === 'passed').length;
  const failed = tests.filter((t) => t.state === 'failed').length;
  const skipped = tests.filter((t) => t.state === 'skipped').length;
  const report: SuiteResult = { suite, passed, failed, skipped, tests, metrics };
  fs.writeFileSync(result, `${JSON.stringify(report, null, 2)}\n`);
  if (failed > 0 || passed === 0) throw new Error(`${failed} of ${tests.length} extension test(s) failed`);
}
