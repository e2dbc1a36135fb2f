// The README's "run" command: the extension in a real VS Code (code-server on 127.0.0.1) on a
// copy of the sample workspace (SQLite, no set-up). Builds, packages the VSIX, installs it
// into a fresh profile, serves, and prints the URL to open. Ctrl+C stops it.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { installVsix, packageVsix, profileDirs, ROOT, startCodeServer, tempDir, workbenchUrl } from './vscode-host.mjs';

execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
const ws = tempDir('migration-manager-sample-');
cpSync(path.join(ROOT, 'test/fixtures/sample/versions'), path.join(ws, 'versions'), { recursive: true });
const dirs = profileDirs();
const { vsix } = packageVsix(dirs.base);
await installVsix(vsix, dirs);
const server = await startCodeServer({ dirs, folder: ws });
console.log(`\nMigration Manager is running in VS Code (code-server) on the sample workspace ${ws}.`);
console.log(`Open ${workbenchUrl(server, ws)} in a browser (on this machine), then the Migrations view in the activity bar.`);
console.log(`The same engine from a terminal: node ${path.relative(process.cwd(), path.join(ROOT, 'dist/cli.js')) || 'dist/cli.js'} status --dir ${ws}`);
console.log('Ctrl+C stops it.');
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
