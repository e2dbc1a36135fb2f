// Bundles the CLI and the extension entry with esbuild; `tsc --noEmit` type-checks separately.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

// knex requires every dialect's driver lazily. sqlite3 is native and stays a real dependency;
// the drivers we do not support stay out; pg and mysql2 (plain JavaScript) are bundled into the
// extension and its runner child, so the VSIX needs no node_modules for them (an installed
// extension has none), but left out of the CLI and its runner thread, whose every start would
// otherwise parse them (an npm install of the CLI has them in node_modules).
const external = [
  'vscode', 'sqlite3', 'pg-query-stream', 'pg-native', 'mysql', 'mariadb', 'mariadb/*',
  'tedious', 'oracledb', 'better-sqlite3',
];

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // jsonc-parser's UMD build hides its requires from esbuild; its ESM build bundles cleanly.
  mainFields: ['module', 'main'],
  sourcemap: true,
  // Smaller bundles parse faster and take less memory at every CLI start; names stay for stack traces.
  minify: !process.env.NO_MINIFY,
  keepNames: true,
  external,
  logLevel: 'warning',
  // Bundled ESM packages may read import.meta.url (e.g. for createRequire); CommonJS output has none.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // knex's dialect loader uses dynamic requires that esbuild cannot follow; they are the externals above.
  logOverride: { 'unsupported-require-call': 'silent' },
};
// The CLI refuses an older Node in one sentence, before anything else loads (node:sqlite needs 22.13).
const NODE_FLOOR = `{const [a,b]=process.versions.node.split('.').map(Number);if(a<22||(a===22&&b<13)){process.stderr.write('migrations needs Node.js 22.13 or newer (this is '+process.version+'): install a current Node.js and run it again.\\n');process.exit(2)}}`;
const NODE_FLOOR_LIB = `{const [a,b]=process.versions.node.split('.').map(Number);if(a<22||(a===22&&b<13))throw new Error('migration-manager needs Node.js 22.13 or newer (this is '+process.version+'): install a current Node.js and run it again.')}`;
const entries = [
  { entryPoints: ['src/cli.ts'], outfile: 'dist/cli-main.js', external: [...external, 'pg', 'mysql2'] },
  // The child process that executes migration files, for the CLI and the extension.
  { entryPoints: ['src/runner.ts'], outfile: 'dist/runner-main.js', external: [...external, 'pg', 'mysql2'] },
  // The same for the editor's runner child, with the server drivers inside.
  { entryPoints: ['src/runner.ts'], outfile: 'dist/editor-runner-main.js' },
  // The library (package.json exports["."]): its CommonJS dependencies resolve from the app's
  // node_modules, so the app's own knex and drivers are the ones used; ESM-only @babel/parser is bundled.
  // On an older Node it throws one sentence, as the CLI says it, before anything else loads.
  { entryPoints: ['src/lib.ts'], outfile: 'dist/lib.js', external: [...external, 'pg', 'mysql2', 'knex', 'sucrase', 'jsonc-parser', 'cjs-module-lexer'], minify: false,
    banner: { js: `${NODE_FLOOR_LIB}\n${common.banner.js}` } },
  ...(existsSync('src/extension/extension.ts') ? [{ entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' }] : []),
];
// Nothing left over from an older layout of dist/ (it would ship in the VSIX).
if (!watch) rmSync('dist', { recursive: true, force: true });
for (const entry of entries) {
  if (watch) await (await esbuild.context({ ...common, ...entry })).watch();
  else await esbuild.build({ ...common, ...entry });
}

// The two process entries are stubs that turn on Node's compile cache before loading their bundle:
// compiling a 1 MB bundle costs about 80 ms at every start, a cached one a few (Node 22.1+).
mkdirSync('dist', { recursive: true });
writeFileSync('dist/cli.js', `#!/usr/bin/env node
'use strict';
${NODE_FLOOR}
require('node:module').enableCompileCache?.();
const cli = require('./cli-main.js');
module.exports = cli;
if (require.main === module) cli.main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
`, { mode: 0o755 });
// The library's type declarations, from src/lib.ts and the core it exports.
spawnSync(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
for (const name of ['runner', 'editor-runner']) {
  writeFileSync(`dist/${name}.js`, `'use strict';
require('node:module').enableCompileCache?.();
require('./${name}-main.js');
`);
}
