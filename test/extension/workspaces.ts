// Fixture workspaces for the extension tests, shared by both runners (code-server and
// test-electron). Each run gets a temp folder:
//   <run>/workspace/              a copy of test/fixtures/sample (plus extras per suite)
//   <run>/extension-test.json     tells the suite which tests to run and where to report
//   <run>/result.json             written by the suite: per-test outcomes and figures
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** `main`: everything in a trusted workspace; `restricted`: Workspace Trust withheld. */
export type SuiteName = 'main' | 'restricted';

/** What the suite reads from `extension-test.json` beside its workspace. */
export interface SuiteConfig {
  readonly suite: SuiteName;
  /** Where the suite writes its `SuiteResult`. */
  readonly result: string;
  /** A file the restricted suite's migration writes if its code ever runs. */
  readonly marker: string;
  /** Only the tests whose full title matches (mocha's grep), for a quick rerun by hand. */
  readonly grep?: string;
}

/** What the suite writes when it ends. */
export interface SuiteResult {
  readonly suite: SuiteName;
  readonly passed: number;
  readonly failed: number;
  /** Tests that did not run here (e.g. no database server): never counted as passed. */
  readonly skipped?: number;
  readonly tests: readonly { title: string; state: 'passed' | 'failed' | 'skipped'; durationMs?: number; error?: string }[];
  /** Measured figures, e.g. `refreshAfterEditMs`. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface PreparedRun {
  readonly dir: string;
  readonly workspace: string;
  readonly config: SuiteConfig;
}

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'sample');
/** The compiled suite entry (`run()`), built by scripts/test.mjs. */
export const SUITE_INDEX = path.join(ROOT, 'out', 'test', 'extension', 'suite', 'index.js');
export const CONFIG_FILE = 'extension-test.json';

/** A migration whose top-level code (and every method) writes `marker`: it must never run untrusted. */
export function markerMigration(marker: string): string {
  return `import * as fs from 'node:fs';
import type { Knex } from 'knex';

fs.writeFileSync(${JSON.stringify(marker)}, 'top-level code ran');

export class WritesMarker {
  readonly version = 4;
  readonly description = 'Writes a marker file';

  async up(knex: Knex): Promise<void> {
    fs.writeFileSync(${JSON.stringify(marker)}, 'up ran');
    await knex.schema.createTable('marker_table', (t) => t.increments('id'));
  }

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('marker_table');
  }
}

export function getMigration() {
  fs.writeFileSync(${JSON.stringify(marker)}, 'getMigration ran');
  return WritesMarker;
}
`;
}

/** Copies the sample into a fresh temp folder and writes the suite's config beside it. */
export function prepareRun(suite: SuiteName, grep?: string): PreparedRun {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `mm-ext-${suite}-`)));
  const workspace = path.join(dir, 'workspace');
  fs.cpSync(path.join(SAMPLE, 'versions'), path.join(workspace, 'versions'), { recursive: true });
  const config: SuiteConfig = { suite, result: path.join(dir, 'result.json'), marker: path.join(dir, 'marker.txt'), ...(grep ? { grep } : {}) };
  if (suite === 'restricted') {
    fs.writeFileSync(path.join(workspace, 'versions', 'migration_004_writes_marker.ts'), markerMigration(config.marker));
    // A project config is code too: were it executed, it would write the marker and rename the source.
    fs.writeFileSync(path.join(workspace, 'migrations.config.ts'),
      `require('node:fs').writeFileSync(${JSON.stringify(config.marker)}, 'migrations.config.ts ran');\nexport default { sources: [{ id: 'renamed', dir: 'versions' }] };\n`);
    // So are SQLite drivers in the workspace's node_modules, which a user-level migrations.client may name.
    for (const driver of ['sqlite3', 'better-sqlite3']) {
      fs.mkdirSync(path.join(workspace, 'node_modules', driver), { recursive: true });
      fs.writeFileSync(path.join(workspace, 'node_modules', driver, 'index.js'),
        `require('node:fs').writeFileSync(${JSON.stringify(config.marker)}, '${driver} loaded in pid ' + process.pid); module.exports = {};\n`);
    }
  }
  fs.writeFileSync(path.join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, workspace, config };
}

/** The suite's result, or a failure that says why there is none (the host died, the suite never ran). */
export function readResult(run: PreparedRun, why: string): SuiteResult {
  try {
    return JSON.parse(fs.readFileSync(run.config.result, 'utf8')) as SuiteResult;
  } catch {
    return { suite: run.config.suite, passed: 0, failed: 1, tests: [{ title: `${run.config.suite} suite`, state: 'failed', error: `no result file: ${why}` }], metrics: {} };
  }
}
