import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { lineAt, problem, topLevelAwait, TOP_LEVEL_AWAIT_FIX } from '../sources/analyze';
import { transpileForLoad } from './transpile';
import { ResultCache } from '../sources/cache';
import { describeError, MigrationsError } from '../model/errors';
import { bounded, boundedEach, ProcessExitError } from './guard';
import { resolveImport } from '../sources/resolve';
import type { Migration, MigrationFile, Problem } from '../model/types';

/** Node's CommonJS module internals that the loader relies on (stable since Node 0.x). */
interface NodeModule {
  filename: string;
  paths: string[];
  exports: unknown;
  loaded: boolean;
  require(id: string): unknown;
  _compile(code: string, filename: string): void;
}
const ModuleCtor = Module as unknown as {
  new (id: string, parent?: unknown): NodeModule;
  _nodeModulePaths(dir: string): string[];
};

export interface LoadResult {
  readonly migration?: Migration;
  readonly problems: readonly Problem[];
}

/** How long a file's top-level code may run, and then getMigration(), before loading gives up. */
export const DEFAULT_LOAD_TIMEOUT_MS = 5_000;

/** `MIGRATIONS_LOAD_TIMEOUT_MS` when it is a positive number (a slow CI machine, a test), else 5 s. */
export function loadTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.MIGRATIONS_LOAD_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_LOAD_TIMEOUT_MS;
}

type Stage = 'export' | 'call' | 'construct' | 'check';

/**
 * Executes a migration file (only in a trusted workspace) and checks what
 * `getMigration()` returns. A fresh module every call, so an edited file is reloaded.
 * Everything the file runs is bounded by `timeoutMs` and cannot end the process.
 */
/** Loads many files (a run's, or validate's) under one time limit per batch; see boundedEach. */
export function loadMigrations(files: readonly MigrationFile[], results?: ResultCache, timeoutMs = loadTimeoutMs()): LoadResult[] {
  return boundedEach(files, timeoutMs, (file) => loadMigration(file, results, timeoutMs));
}

export function loadMigration(file: MigrationFile, results?: ResultCache, timeoutMs = loadTimeoutMs()): LoadResult {
  const errors = file.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { problems: errors };
  if (file.instance) return checkShape(file, file.instance);
  // Read only when needed: a run whose code is cached compiles without it, and a problem's line comes from it.
  let text: string | undefined;
  const source = () => (text ??= fs.readFileSync(file.path, 'utf8'));
  let exports: unknown;
  try {
    exports = bounded(timeoutMs, () => compileModule(file.path, new Map(), results, source));
  } catch (err) {
    return { problems: [loadFailure(err, file.path, safely(source), timeoutMs)] };
  }
  const line = () => {
    const at = safely(source).indexOf('getMigration');
    return at < 0 ? 1 : lineAt(safely(source), at);
  };
  const progress: { stage: Stage } = { stage: 'export' };
  try {
    return bounded(timeoutMs, () => make(file, exports, () => safely(source), line, progress));
  } catch (err) {
    return { problems: [makeFailure(err, progress.stage, file.path, line(), timeoutMs)] };
  }
}

/**
 * Executes a module that is not a migration (the project config), as migration files are
 * loaded: TypeScript and ESM transpiled, bounded in time. A failure names the file and line.
 */
export function loadModule(file: string, timeoutMs = loadTimeoutMs(), provided?: Provided): unknown {
  try {
    return bounded(timeoutMs, () => compileModule(file, new Map(), undefined, undefined, provided));
  } catch (err) {
    // The transpiler's syntax errors (transpileForLoad keeps them as the cause) end in "(line:column)".
    const syntax = /^(?:.*?: )?(.*) \((\d+):(\d+)\)$/.exec(err instanceof MigrationsError && err.cause ? err.message : '');
    if (syntax) throw new MigrationsError(`${file}:${syntax[2]}: Syntax error: ${syntax[1]}. Fix it at this line.`, { code: 'config', facts: { file, line: Number(syntax[2]) } });
    const found = loadFailure(err, file, safely(() => fs.readFileSync(file, 'utf8')), timeoutMs);
    throw new MigrationsError(`${found.file}:${found.line}: ${found.message}`, { code: 'config', facts: { file: found.file, line: found.line } });
  }
}

/** The file's text, or nothing when it cannot be read any more (the problem then has no line to point at). */
function safely(source: () => string): string {
  try {
    return source();
  } catch {
    return '';
  }
}

/** Calls getMigration(), constructs a returned class and checks the result, noting how far it got. */
function make(file: MigrationFile, exports: unknown, text: () => string, line: () => number, progress: { stage: Stage }): LoadResult {
  const getMigration = (exports as { getMigration?: unknown } | null | undefined)?.getMigration;
  if (typeof getMigration !== 'function') {
    const at = exports !== null && typeof exports === 'object' ? line() : lineAt(text(), Math.max(0, text().indexOf('module.exports')));
    return { problems: [problem(file.path, at, 1, 'error', 'missing-get-migration', notExported(exports, getMigration))] };
  }
  progress.stage = 'call';
  let made: unknown = getMigration();
  if (isThenable(made)) {
    // An async getMigration that rejects must not surface later as an unhandled rejection.
    made.then(undefined, () => {});
  } else if (typeof made === 'function') {
    if (!isConstructor(made)) {
      return { problems: [problem(file.path, line(), 1, 'error', 'bad-shape',
        'getMigration() returned a function that is not a class; return the migration class itself (or an instance), not a factory function.')] };
    }
    progress.stage = 'construct';
    made = new (made as new () => unknown)();
  }
  progress.stage = 'check';
  return checkShape(file, made, line);
}

/** Validates what `getMigration()` produced against the contract. */
export function checkShape(file: MigrationFile, made: unknown, line: () => number = () => 1): LoadResult {
  const bad = (what: string): LoadResult => ({
    problems: [problem(file.path, line(), 1, 'error', 'bad-shape', `getMigration() ${what}`)],
  });
  if (made === null || (typeof made !== 'object' && typeof made !== 'function')) {
    return bad(`returned ${describeValue(made)}; return the migration class (or an instance) with version, description, up and down.`);
  }
  if (isThenable(made)) {
    return bad('returned a Promise; make getMigration synchronous (not async) and return the class itself.');
  }
  const m = made as Partial<Migration>;
  const missing = (['version', 'description', 'up'] as const).filter((k) => m[k] === undefined);
  if (missing.length > 0) return bad(`returned a migration without ${missing.join(', ')}: add ${missing.length > 1 ? 'them' : 'it'} to the class (a migration needs version, description, up(knex) and down(knex)).`);
  if (typeof m.version !== 'number' || !Number.isSafeInteger(m.version)) {
    return bad(`returned a version that is ${describeValue(m.version)}, not an integer; write version = ${file.version} (a number, the one in the file name).`);
  }
  if (typeof m.description !== 'string') return bad(`returned a description that is ${describeValue(m.description)}; write description = 'what it changes' (a string).`);
  if (typeof m.up !== 'function') return bad(`returned an up that is ${describeValue(m.up)}, not a function; write up(knex) { … }.`);
  const problems: Problem[] = [];
  if (m.version !== file.version) {
    return { problems: [problem(file.path, line(), 1, 'error', 'version-mismatch',
      `The migration's version is ${m.version} but the file name says ${file.version}. Make them equal.`)] };
  }
  if (typeof m.down !== 'function') {
    problems.push(problem(file.path, line(), 1, 'warning', 'missing-down',
      'This migration has no down(): rolling back past it will be refused. Add a down(knex) that undoes up().'));
  }
  return { migration: m as Migration, problems };
}

/**
 * Packages a module gets from the process loading it, whatever its folder holds: a declared schema
 * imports `defineSchema` from 'migration-manager', which the workspace need not have installed,
 * and its columns must be the engine's own to be read.
 */
export type Provided = Readonly<Record<string, unknown>>;

function compileModule(filename: string, seen: Map<string, NodeModule>, results?: ResultCache, text = () => fs.readFileSync(filename, 'utf8'), provided?: Provided): unknown {
  const existing = seen.get(filename);
  if (existing) return existing.exports;
  const source = transpiled(filename, text, results);
  const mod = new ModuleCtor(filename);
  mod.filename = filename;
  mod.paths = ModuleCtor._nodeModulePaths(path.dirname(filename));
  seen.set(filename, mod);
  const nodeRequire = mod.require.bind(mod);
  // Relative TypeScript helpers are transpiled the same way; everything else is Node's own require.
  mod.require = (id: string) => {
    if (provided && Object.hasOwn(provided, id)) return provided[id];
    const resolved = resolveImport(id, filename);
    if (resolved && /\.m?ts$/.test(resolved)) return compileModule(resolved, seen, results, undefined, provided);
    if (resolved && path.isAbsolute(resolved) && (id === 'knex' || id.startsWith('knex/'))) return nodeRequire(resolved);
    return nodeRequire(id);
  };
  mod._compile(source, filename);
  mod.loaded = true;
  return mod.exports;
}

function transpiled(filename: string, text: () => string, results?: ResultCache): string {
  if (!results) return transpileForLoad(filename, text());
  // A file discovery just found unchanged has a known content key: its code needs no read.
  const known = results.keyOf(filename);
  const hit = known === undefined ? undefined : results.code(known);
  if (hit !== undefined) return hit;
  const source = text();
  const key = ResultCache.key(filename, source);
  const cached = results.code(key);
  if (cached !== undefined) return cached;
  const code = transpileForLoad(filename, source);
  results.setCode(key, code);
  return code;
}

/** The first stack frame inside the file; sucrase keeps lines, so the line is the user's. */
function locate(err: unknown, file: string, fallbackLine = 1): { line: number; column: number; found: boolean } {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2] ?? 1), found: true } : { line: fallbackLine, column: 1, found: false };
}

/** " (thrown in node_modules/pkg/index.js:3)" when the error came from a file the migration imports. */
function origin(err: unknown, file: string): string {
  if (!(err instanceof Error) || err instanceof MigrationsError) return '';
  const frame = /^\s*(?:at .*?\(|at |)((?:\/|[A-Za-z]:\\)[^():\n]+?):(\d+)(?::\d+)?\)?$/m.exec(err.stack ?? '');
  // Frames in the engine itself (a bundle, or out/src/core/**) say nothing to the user.
  if (!frame || frame[1] === file || isEngineFile(frame[1])) return '';
  return ` (thrown in ${path.relative(path.dirname(file), frame[1]).split(path.sep).join('/')}:${frame[2]})`;
}

/** The engine's own code: the bundle (dist/*.js), or every file below out/src/core/ when run unbundled (tests). */
const ENGINE_DIR = path.basename(path.dirname(__dirname)) === 'core' ? path.dirname(__dirname) : __dirname;

function isEngineFile(file: string): boolean {
  const rel = path.relative(ENGINE_DIR, path.dirname(file));
  return rel === '' || (ENGINE_DIR !== __dirname && !rel.startsWith('..') && !path.isAbsolute(rel));
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function isTimeout(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function loadFailure(err: unknown, file: string, text: string, timeoutMs: number): Problem {
  if (isTimeout(err)) {
    return problem(file, 1, 1, 'error', 'load-error',
      `The module did not finish loading within ${seconds(timeoutMs)} (an endless loop at import?). Fix its top-level code so it ends; slow work belongs in up(knex).`);
  }
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_REQUIRE_ASYNC_MODULE' || (err instanceof SyntaxError && /\bawait\b/.test(err.message))) {
    const at = topLevelAwait(file, text) ?? { line: 1, column: 1 };
    return problem(file, at.line, at.column, 'error', 'load-error', `Loading the file failed: it uses a top-level await. ${TOP_LEVEL_AWAIT_FIX}`);
  }
  const at = locate(err, file);
  if (err instanceof ProcessExitError) return problem(file, at.line, at.column, 'error', 'load-error', `Loading the file failed: ${err.message}.`);
  // A thrown non-Error carries no stack, so there is no line to point at.
  const fix = at.found ? 'Fix the error at this line.' : 'Find the code that throws it and fix it (throw an Error, whose stack names the line).';
  return problem(file, at.line, at.column, 'error', 'load-error', `Loading the file failed: ${thrown(err)}${origin(err, file)}. ${fix}`);
}

function makeFailure(err: unknown, stage: Stage, file: string, line: number, timeoutMs: number): Problem {
  const what = {
    export: 'Reading getMigration from the module',
    call: 'getMigration()',
    construct: 'Creating the migration (its constructor)',
    check: "Reading the migration's version, description, up or down",
  }[stage];
  const fix = {
    export: 'Export getMigration as a plain function.',
    call: 'It must return the migration class at once, without failing.',
    construct: 'The constructor must not fail: move work that can fail into up(knex).',
    check: 'Make them plain properties and methods.',
  }[stage];
  const code = stage === 'check' ? 'bad-shape' : stage === 'export' ? 'load-error' : 'get-migration-threw';
  if (isTimeout(err)) return problem(file, line, 1, 'error', code, `${what} did not finish within ${seconds(timeoutMs)} (an endless loop?). ${fix}`);
  const at = locate(err, file, line);
  const verb = stage === 'call' ? 'threw' : 'failed';
  return problem(file, at.line, at.column, 'error', code, `${what} ${verb}: ${thrown(err)}${origin(err, file)}. ${fix}`);
}

/** The thrown value as text; `throw undefined` says so rather than printing a bare "undefined". */
function thrown(err: unknown): string {
  return err === undefined || err === null ? `it threw ${String(err)} instead of an Error` : describeError(err);
}

function notExported(exports: unknown, getMigration: unknown): string {
  const add = 'Add "export function getMigration() { return <YourMigrationClass>; }".';
  if (exports === null || typeof exports !== 'object') {
    return typeof exports === 'function'
      ? `The file exports a function (module.exports = …), not an object with getMigration. ${add}`
      : `The file exports ${describeValue(exports)} (module.exports = …), not an object with getMigration. ${add}`;
  }
  if (getMigration === undefined) return `No getMigration function is exported. ${add}`;
  return `getMigration is ${describeValue(getMigration)}, not a function. Export it as a function: "export function getMigration() { return <YourMigrationClass>; }".`;
}

/** A short, safe description of a value for a message (never "[object Object]"). */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** True for classes and functions `new` accepts, without calling them (arrow functions are not). */
function isConstructor(fn: unknown): boolean {
  // A class, the usual case, by its source; Reflect.construct costs ~12 µs a call (a new map per class).
  if (typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class')) return true;
  try {
    Reflect.construct(String, [], fn as new () => unknown);
    return true;
  } catch {
    return false;
  }
}
