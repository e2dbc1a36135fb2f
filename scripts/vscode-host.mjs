// A real VS Code for the extension tests on machines that cannot download one:
// code-server (VS Code's workbench and a Node extension host, from the npm registry)
// driven by playwright-core with Debian's Chromium. See shared/VSCODE-HOST.md.
//
//   node scripts/vscode-host.mjs install          installs once into .vscode-test/code-server/
//   node scripts/vscode-host.mjs serve <folder>   serves <folder> until Ctrl+C (for a look by hand)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const CODE_SERVER_VERSION = '4.103.2';
// code-server 4.103 runs on Node 22 only (its postinstall refuses others; its native modules
// are built for that ABI). The system's Node may be 20: then the `node` dev dependency's.
const NODE_MAJOR = '22';
const CACHE = path.join(ROOT, '.vscode-test', 'code-server');
const ENTRY = path.join(CACHE, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const STAMP = path.join(CACHE, `installed-${CODE_SERVER_VERSION}`);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const APT_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium'];
const RIPGREP_CACHE = path.join(os.tmpdir(), 'vscode-ripgrep-cache-1.15.14', 'ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz');

const log = (message) => console.log(`[vscode-host] ${message}`);

/** Polls `check` until it returns a truthy value; throws `what` at the deadline. */
export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function aptInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Debian packages code-server and the browser need: installed once (we are root on these machines). */
function ensureAptPackages() {
  if (!fs.existsSync('/usr/bin/dpkg-query')) return; // not Debian: bring them yourself (CHROMIUM_PATH, rg)
  const missing = APT_PACKAGES.filter((p) => !aptInstalled(p));
  if (missing.length === 0) return;
  log(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

/** The Node that installs and runs code-server: this one if it is 22, else node_modules/node's. */
export function codeServerNode() {
  if (process.versions.node.split('.')[0] === NODE_MAJOR) return process.execPath;
  const local = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(local)) throw new Error(`code-server@${CODE_SERVER_VERSION} needs Node ${NODE_MAJOR}, this is ${process.version} and ${path.relative(ROOT, local)} is missing (npm install)`);
  return local;
}

/**
 * Headers of exactly that Node for node-gyp (node-pty, kerberos…): npm's nodedir here may be
 * the system Node's, and node-gyp cannot download them. The registry's node-<os>-<arch>
 * package (what `node@22` installs its binary from) ships include/node.
 */
function nodeHeaders(node, env) {
  const version = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  const pkg = `node-${os.platform()}-${os.arch()}`;
  const dir = path.join(CACHE, `node-${version}`);
  const headers = path.join(dir, 'node_modules', pkg);
  if (!fs.existsSync(path.join(headers, 'include', 'node', 'node.h'))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `${pkg}@${version}`], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], env });
  }
  return headers;
}

/** Waits for (and takes) a lock folder, so two test runs never install at once. */
async function withInstallLock(fn) {
  const lock = `${CACHE}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  await waitFor('the code-server install lock', () => {
    try {
      fs.mkdirSync(lock);
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock left by a run that died (older than the longest install) is taken over.
      if (Date.now() - fs.statSync(lock).mtimeMs > 15 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      return false;
    }
  }, { timeoutMs: 15 * 60_000, intervalMs: 1000 });
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Installs code-server into `.vscode-test/code-server/` (git-ignored) unless it is there
 * already; returns the path of its entry script. Fast when installed: one stat.
 */
export async function ensureCodeServer() {
  ensureAptPackages();
  if (fs.existsSync(STAMP) && fs.existsSync(ENTRY)) return ENTRY;
  return withInstallLock(() => {
    if (fs.existsSync(STAMP) && fs.existsSync(ENTRY)) return ENTRY;
    const started = Date.now();
    log(`installing code-server@${CODE_SERVER_VERSION} into ${path.relative(ROOT, CACHE)} (about 90 s, once)`);
    // @vscode/ripgrep's postinstall downloads from GitHub; it takes a pre-filled cache instead.
    if (!fs.existsSync(RIPGREP_CACHE)) {
      fs.mkdirSync(path.dirname(RIPGREP_CACHE), { recursive: true });
      execFileSync('tar', ['czf', RIPGREP_CACHE, '-C', path.dirname(which('rg')), 'rg']);
    }
    fs.mkdirSync(CACHE, { recursive: true });
    if (!fs.existsSync(path.join(CACHE, 'package.json'))) fs.writeFileSync(path.join(CACHE, 'package.json'), '{ "private": true }\n');
    // npm (and the npm its postinstall runs) on Node 22 first on PATH: the postinstall checks
    // the Node in npm's user agent, and node-gyp builds for the Node it runs on.
    const node = codeServerNode();
    // Not the variables of an outer `npm test` (on the machine's Node 20): the inner npm would take
    // its npm_config_user_agent as its own, and code-server's postinstall would see Node 20 there.
    const outer = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    const env = { ...outer, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
      cwd: CACHE,
      stdio: ['ignore', 'inherit', 'inherit'],
      // As root the postinstall stops without unsafe-perm, and node-pty's `npx node-gyp` is refused without yes.
      env: { ...env, npm_config_unsafe_perm: 'true', npm_config_yes: 'true', npm_config_nodedir: nodeHeaders(node, env) },
    });
    if (!fs.existsSync(ENTRY)) throw new Error(`code-server installed, but ${ENTRY} is missing`);
    fs.writeFileSync(STAMP, `${new Date().toISOString()}\n`);
    log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
    return ENTRY;
  });
}

function which(cmd) {
  const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, cmd)).find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${cmd} is not on PATH`);
  return found;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh temp folder (removed by the caller, or left for a look when KEEP_VSCODE_TEMP is set). */
export function tempDir(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** The dirs code-server keeps its state in, all in one temp folder unless given. */
export function profileDirs(base = tempDir('mm-vscode-')) {
  const dirs = { base, userData: path.join(base, 'user-data'), extensions: path.join(base, 'extensions'), xdgConfig: path.join(base, 'xdg-config'), xdgData: path.join(base, 'xdg-data') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  return dirs;
}

function codeServerEnv(dirs, extraEnv = {}) {
  return { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData, ...extraEnv };
}

/** Installs a VSIX into the profile's extensions dir with code-server's own CLI. */
export async function installVsix(vsix, dirs) {
  const entry = await ensureCodeServer();
  execFileSync(codeServerNode(), [entry, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix, '--force'], {
    env: codeServerEnv(dirs),
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 120_000,
  });
}

/**
 * Starts code-server on 127.0.0.1 and a free port, in its own process group (setsid),
 * and waits until it answers. `trusted: false` leaves Workspace Trust on (restricted mode).
 */
export async function startCodeServer({ dirs = profileDirs(), trusted = true, env = {}, folder } = {}) {
  const entry = await ensureCodeServer();
  const port = await freePort();
  const args = [entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...(trusted ? ['--disable-workspace-trust'] : []), ...(folder ? [folder] : [])];
  const output = [];
  // detached: setsid(), so stop() can end code-server and every child it spawned by process group.
  const child = spawn(codeServerNode(), args, { detached: true, env: codeServerEnv(dirs, env), stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => output.push(d.toString()));
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  const url = `http://127.0.0.1:${port}`;
  const server = {
    port, url, dirs, pid: child.pid,
    output: () => output.join(''),
    async stop() {
      if (exited) return;
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      const done = await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 5000, undefined))]);
      if (!done) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      await exit;
    },
  };
  try {
    await waitFor(`code-server on ${url}`, async () => {
      if (exited) throw new Error(`code-server exited:\n${server.output()}`);
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      return res?.ok;
    }, { timeoutMs: 60_000, intervalMs: 100 });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/**
 * Packages the extension as users get it (`vsce package`, as `npm run package` does): the bundles,
 * media and templates that .vscodeignore re-includes. Fails on any native binary: one VSIX must
 * serve every platform.
 */
export function packageVsix(outDir) {
  const vsix = path.join(outDir, 'migration-manager.vsix');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--out', vsix], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter((e) => e && !e.endsWith('/'));
  for (const needed of ['extension/dist/extension.js', 'extension/dist/editor-runner.js', 'extension/dist/editor-runner-main.js', 'extension/media/icon.png', 'extension/templates/migration.ts.template']) {
    if (!entries.includes(needed)) throw new Error(`the VSIX lacks ${needed}`);
  }
  const native = entries.filter((e) => e.endsWith('.node') || e.includes('/node_modules/'));
  if (native.length > 0) throw new Error(`the VSIX must hold no native binary or node_modules, but has: ${native.join(', ')}`);
  return { vsix, bytes: fs.statSync(vsix).size, files: entries.length, entries };
}

/** Debian's Chromium through playwright-core (never a downloaded browser). */
export async function launchChromium() {
  // The browser may start before code-server is installed (a fresh machine): packages first.
  ensureAptPackages();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** `?folder=` (and an optional test payload) for a workbench URL. */
export function workbenchUrl(server, folder, payload) {
  const query = new URLSearchParams({ folder });
  if (payload) query.set('payload', JSON.stringify(payload));
  return `${server.url}/?${query}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const [cmd, folder] = process.argv.slice(2);
  if (cmd === 'install') {
    log(`code-server ready: ${await ensureCodeServer()}`);
  } else if (cmd === 'serve') {
    const server = await startCodeServer({ folder: path.resolve(folder ?? ROOT) });
    log(`serving ${server.url}/?folder=${path.resolve(folder ?? ROOT)} (Ctrl+C stops)`);
    process.on('SIGINT', () => void server.stop().then(() => process.exit(0)));
  } else {
    console.error('usage: node scripts/vscode-host.mjs install | serve [folder]');
    process.exitCode = 2;
  }
}
