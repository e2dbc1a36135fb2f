import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

// The core's folders say what their code may do; these rules keep the names true.
const CORE = path.join(ROOT, 'src', 'core');

/**
 * The core folders each folder may import from, besides itself. index.ts and internal.ts (the
 * entries) may import all; engine.ts, the facade, only ops/ (see the test below).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // Pure rules: naming, problems, plan, history fold, repair. No files, no database.
  model: [],
  config: ['model'],
  // Discovery and static checks: reads migration files, never executes them.
  sources: ['model', 'config'],
  // Executes migration files: trusted workspaces only.
  loading: ['model', 'config', 'sources'],
  // knex, dialects, history storage, locks; the declared schema and the knex code generated from a schema diff (generate/: what each database reads back is its knowledge).
  database: ['model', 'config'],
  // Runs loaded steps against a database, here, in a child process or on a worker thread.
  run: ['model', 'config', 'database'],
  // Tries loaded migrations on a shadow database and compares schemas: verify, lint, drift.
  verify: ['model', 'config', 'database', 'run'],
  // Operations, one file each, and the contexts they run with (which migrations, which database):
  // the one folder that combines the others, so that a capability is one file here, not engine code.
  // It executes code and reaches databases only through loading/, database/ and run/ (ONLY_IN).
  ops: ['model', 'config', 'sources', 'loading', 'database', 'run', 'verify'],
};

/** Modules that run code or reach a database: only the folders named may import them (at run time). */
const ONLY_IN: Record<string, readonly string[]> = {
  'node:vm': ['loading'],
  sucrase: ['loading'],
  'node:module': ['loading', 'sources', 'database'],
  knex: ['database', 'run'],
  'node:sqlite': ['database'],
  'node:child_process': ['run'],
  'node:worker_threads': ['run'],
  'node:fs': ['config', 'sources', 'loading', 'database', 'verify'],
};

interface Import {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const REQUIRE = /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  // Comments may quote code (`require('./impl')`); they import nothing.
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [
    ...[...text.matchAll(IMPORT)].map((m) => ({ file, specifier: m[3], typeOnly: m[2] !== undefined || onlyTypes(m[0]) })),
    ...[...text.matchAll(REQUIRE)].map((m) => ({ file, specifier: m[1], typeOnly: false })),
  ];
}

/** `import { type A, type B } from …`: every name imported is a type. */
function onlyTypes(statement: string): boolean {
  const names = /^\s*import\s*\{([^}]*)\}/.exec(statement)?.[1];
  return names !== undefined && names.split(',').map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith('type '));
}

/** The core folder a file is in ('' for engine.ts, index.ts and internal.ts), or undefined outside the core. */
function folderOf(file: string): string | undefined {
  const rel = path.relative(CORE, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(path.sep);
  return parts.length === 1 ? '' : parts[0];
}

/** Every import of every file in a core folder (the files at the top, which have rules of their own, left out). */
function* folderImports(): Generator<{ file: string; from: string; imp: Import }> {
  for (const file of sourceFiles(CORE)) {
    const from = folderOf(file)!;
    if (from !== '') for (const imp of importsOf(file)) yield { file, from, imp };
  }
}

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');

test('the core has one folder per kind of code, and every module lives in one of them', () => {
  const top = fs.readdirSync(CORE, { withFileTypes: true });
  assert.deepEqual(top.filter((e) => e.isDirectory()).map((e) => e.name).sort(), Object.keys(MAY_IMPORT).sort());
  assert.deepEqual(top.filter((e) => e.isFile()).map((e) => e.name).sort(), ['engine.ts', 'index.ts', 'internal.ts']);
});

test('engine.ts is a facade: at run time it imports ops/ only (types from anywhere), and each public method is one line', () => {
  const engine = path.join(CORE, 'engine.ts');
  const wrong = importsOf(engine).filter((i) => !i.typeOnly && folderOf(path.join(CORE, i.specifier, 'index.ts')) !== 'ops').map((i) => i.specifier);
  assert.deepEqual(wrong, []);
  const text = fs.readFileSync(engine, 'utf8');
  const body = text.slice(text.indexOf('export class MigrationEngine'));
  // A method's body: the lines between its signature and its closing brace, at two spaces.
  const long = [...body.matchAll(/^  (?:async )?(\w+)\([^\n]*\)(?:: [^\n]+)? \{\n((?:    [^\n]*\n)*?)  \}/gm)]
    .filter((m) => m[1] !== 'constructor' && m[2].split('\n').filter((l) => l.trim() !== '').length > 1).map((m) => m[1]);
  assert.deepEqual(long, [], 'facade methods with more than one line');
});

test('the public entry holds no internals: the runner protocol is in internal.ts, which only the runner and tests import', () => {
  const index = fs.readFileSync(path.join(CORE, 'index.ts'), 'utf8');
  for (const name of ['serializeError', 'ParentMessage', 'ChildMessage', 'ChildRequest', 'RECORD_STOPPED_ENV', 'StoppedRecord', 'ChildEngineConfig', 'recordStopped', 'processAlive']) {
    assert.ok(!new RegExp(`\\b${name}\\b`).test(index), `index.ts exports ${name}`);
  }
  const users = sourceFiles(path.join(ROOT, 'src')).filter((f) => importsOf(f).some((i) => i.specifier.startsWith('.') && path.resolve(path.dirname(f), i.specifier) === path.join(CORE, 'internal')));
  assert.deepEqual(users.map(rel), ['src/runner.ts']);
});

test('imports between core folders only go the allowed way (sources never import loading, model imports nothing)', () => {
  const wrong: string[] = [];
  for (const { file, from, imp } of folderImports()) {
    if (!imp.specifier.startsWith('.')) continue;
    const to = folderOf(path.resolve(path.dirname(file), imp.specifier));
    if (to === undefined) wrong.push(`${rel(file)} imports ${imp.specifier}, outside the core`);
    else if (to === '') wrong.push(`${rel(file)} imports ${imp.specifier}: only the front ends use the facade`);
    else if (to !== from && !MAY_IMPORT[from].includes(to)) wrong.push(`${rel(file)} (${from}/) imports ${imp.specifier} (${to}/)`);
  }
  assert.deepEqual(wrong, []);
});

test('only loading/ executes code, only database/ and run/ use knex, only run/ starts processes and threads', () => {
  const wrong: string[] = [];
  for (const { file, from, imp } of folderImports()) {
    if (imp.typeOnly) continue;
    const rule = Object.entries(ONLY_IN).find(([name]) => imp.specifier === name || imp.specifier.startsWith(`${name}/`));
    if (rule && !rule[1].includes(from)) wrong.push(`${rel(file)} (${from}/) imports ${imp.specifier} at run time`);
  }
  assert.deepEqual(wrong, []);
});

test('the front ends (CLI, runner, extension) import the core only through its index (the runner: internal.ts)', () => {
  const frontEnds = sourceFiles(path.join(ROOT, 'src')).filter((f) => folderOf(f) === undefined);
  assert.ok(frontEnds.some((f) => f.endsWith(path.join('extension', 'extension.ts'))) && frontEnds.some((f) => f.endsWith('cli.ts')));
  const wrong: string[] = [];
  for (const file of frontEnds) {
    for (const imp of importsOf(file)) {
      if (!imp.specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), imp.specifier);
      const internal = target === path.join(CORE, 'internal') && file.endsWith(path.join('src', 'runner.ts'));
      if (folderOf(target) !== undefined && target !== CORE && !internal) wrong.push(`${rel(file)} imports ${imp.specifier}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the rules see the imports they judge (a type-only import, a require, a re-export)', () => {
  const sample = path.join(CORE, 'sources', 'discovery.ts');
  const found = importsOf(sample).map((i) => i.specifier);
  assert.ok(found.includes('node:fs') && found.some((s) => s.startsWith('../model/')), `discovery.ts imports: ${found.join(', ')}`);
  const runner = importsOf(path.join(CORE, 'run', 'runner.ts'));
  assert.ok(runner.some((i) => i.specifier === 'knex' && i.typeOnly), 'runner.ts imports knex for its types only');
  assert.ok(importsOf(path.join(CORE, 'index.ts')).length > 5, 'index.ts re-exports the core');
});

// The dialect object owns every database difference (dialect.ts): the rest of the core never asks
// which database it talks to. settings.ts parses the client's name, so it may compare it.
const CLIENT_NAME = String.raw`['"\`](?:sqlite3?|better-sqlite3|pg|postgres(?:ql)?|mysql2?|mariadb)['"\`]`;
const CLIENT_TESTS: readonly RegExp[] = [
  new RegExp(String.raw`[!=]==?\s*${CLIENT_NAME}`),
  new RegExp(String.raw`${CLIENT_NAME}\s*[!=]==?`),
  new RegExp(String.raw`\bcase\s+${CLIENT_NAME}\s*:`),
  // Against a constant too (`client === DEFAULT_CLIENT`); `typeof x.client` asks for a type, not a name.
  /(?<!typeof\s+[\w$.?]*)\bclient\s*[!=]==?/,
  /\bisSqlite\s*\(/,
];

/** The lines of `text` that test which database it is (comments left out: they may quote such code). */
function clientTests(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, '')).replace(/^\s*\/\/.*$/gm, '');
  return code.split('\n').flatMap((line, i) => (CLIENT_TESTS.some((re) => re.test(line)) ? [`${i + 1}: ${line.trim()}`] : []));
}

test('no core module outside database/ branches on the client (settings.ts, which parses it, aside): the dialect answers', () => {
  const exempt = path.join(CORE, 'config', 'settings.ts');
  const wrong = sourceFiles(CORE)
    .filter((file) => folderOf(file) !== 'database' && file !== exempt)
    .flatMap((file) => clientTests(fs.readFileSync(file, 'utf8')).map((hit) => `${rel(file)}:${hit}`));
  assert.deepEqual(wrong, []);
});

test('the client rule sees a branch on the database however it is spelled, and not a lookalike', () => {
  const branches = [
    "if (target.client === 'pg') {",
    "const mysql = settings.client !== 'mysql2';",
    "if (input.kind === 'pg' && index) {",
    "return 'sqlite' == kind ? a : b;",
    "    case 'better-sqlite3':",
    'if (client === CHOSEN) {',
    'const file = isSqlite(target.client);',
  ];
  assert.deepEqual(branches.map((line) => clientTests(line).length), branches.map(() => 1));
  const lookalikes = [
    "if (c.kind === 'table-removed') {",
    "if (typeof db.client !== 'string') fail();",
    "const label = `${t.client} ${name}`;",
    "// if (target.client === 'pg') in a comment",
    "/* client === 'pg' */ run();",
  ];
  assert.deepEqual(lookalikes.flatMap(clientTests), []);
});

/** Every module `file` imports, `import('…')` too. */
function allImportsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...importsOf(file).map((i) => i.specifier), ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1])];
}

test('only src/extension/ imports vscode: the core, the CLI, the runner and the library run without an editor', () => {
  const extension = path.join(ROOT, 'src', 'extension') + path.sep;
  const importers = sourceFiles(path.join(ROOT, 'src')).filter((file) => allImportsOf(file).some((s) => s === 'vscode' || s.startsWith('vscode/')));
  assert.ok(importers.some((file) => file.startsWith(extension)), 'the extension imports vscode (the rule sees its imports)');
  assert.deepEqual(importers.filter((file) => !file.startsWith(extension)).map(rel), []);
});
