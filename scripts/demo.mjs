// `npm run demo`: builds the CLI and walks the sample workspace (SQLite, no
// set-up) through status → up → status → history, on a temp copy so the fixture stays clean.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const ws = mkdtempSync(path.join(tmpdir(), 'migration-manager-sample-'));
cpSync(path.join(root, 'test/fixtures/sample/versions'), path.join(ws, 'versions'), { recursive: true });
const cli = path.join(root, 'dist/cli.js');
for (const args of [['status'], ['up'], ['status'], ['history']]) {
  console.log(`\n$ migrations ${args.join(' ')} --dir ${ws}`);
  execFileSync(process.execPath, [cli, ...args, '--dir', ws], { stdio: 'inherit' });
}
console.log(`\nThe sample workspace is at ${ws}; try: node ${path.relative(process.cwd(), cli) || cli} down --dir ${ws}`);
