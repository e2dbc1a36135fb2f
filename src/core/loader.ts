import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { problem } from './analyze';
import { transpileForLoad } from './transpile';
import { ResultCache } from './cache';
import { describeError } from './errors';
import { resolveImport } from './resolve';
import type { Migration, MigrationFile, Problem } from './types';

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

/**
 * Executes a migration file (only in a trusted workspace) and checks what
 * `getMigration()` returns. A fresh module every call, so an edited file is reloaded.
 */
export function loadMigration(file: MigrationFile, results?: ResultCache): LoadResult {
  const errors = file.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { problems: errors };
  if (file.instance) return checkShape(file, file.instance);
  let exports: Record<string, unknown>;
  let text = '';
  try {
    text = fs.readFileSync(file.path, 'utf8');
    exports = compileModule(file.path, new Map(), results, text) as Record<string, unknown>;
  } catch (err) {
    const at = locate(err, file.path);
    return { problems: [problem(file.path, at.line, at.column, 'error', 'load-error',
      `Loading the file failed: ${describeError(err)}. Fix the error at this line.`)] };
  }
  const getMigration = exports?.getMigration;
  const at = text.indexOf('getMigration');
  const line = at < 0 ? 1 : text.slice(0, at).split('\n').length;
  if (typeof getMigration !== 'function') {
    return { problems: [problem(file.path, line, 1, 'error', 'missing-get-migration',
      'No getMigration function is exported. Add "export function getMigration() { return <YourMigrationClass>; }".')] };
  }
  let made: unknown;
  try {
    made = getMigration();
    if (typeof made === 'function') made = new (made as new () => unknown)();
  } catch (err) {
    const at = locate(err, file.path, line);
    return { problems: [problem(file.path, at.line, at.column, 'error', 'get-migration-threw',
      `getMigration() threw: ${describeError(err)}. It must return the migration class without failing.`)] };
  }
  return checkShape(file, made, line);
}

/** Validates what `getMigration()` produced against the contract. */
export function checkShape(file: MigrationFile, made: unknown, line = 1): LoadResult {
  const bad = (what: string): LoadResult => ({
    problems: [problem(file.path, line, 1, 'error', 'bad-shape', `getMigration() ${what}`)],
  });
  if (made === null || (typeof made !== 'object' && typeof made !== 'function')) {
    return bad(`returned ${made === null ? 'null' : typeof made === 'undefined' ? 'undefined' : `a ${typeof made}`}; return the migration class (or an instance) with version, description, up and down.`);
  }
  if (typeof (made as { then?: unknown }).then === 'function') {
    return bad('returned a Promise; make getMigration synchronous (not async) and return the class itself.');
  }
  const m = made as Partial<Migration>;
  const missing = (['version', 'description', 'up'] as const).filter((k) => m[k] === undefined);
  if (missing.length > 0) return bad(`returned an object without ${missing.join(', ')}; a migration needs version, description, up(knex) and down(knex).`);
  if (typeof m.version !== 'number' || !Number.isSafeInteger(m.version)) return bad(`returned a version that is not an integer (${String(m.version)}).`);
  if (typeof m.description !== 'string') return bad('returned a description that is not a string.');
  if (typeof m.up !== 'function') return bad('returned an up that is not a function; write up(knex) { … }.');
  const problems: Problem[] = [];
  if (m.version !== file.version) {
    return { problems: [problem(file.path, line, 1, 'error', 'version-mismatch',
      `The migration's version is ${m.version} but the file name says ${file.version}. Make them equal.`)] };
  }
  if (typeof m.down !== 'function') {
    problems.push(problem(file.path, line, 1, 'warning', 'missing-down',
      'This migration has no down(): rolling back past it will be refused. Add a down(knex) that undoes up().'));
  }
  return { migration: m as Migration, problems };
}

function compileModule(filename: string, seen: Map<string, NodeModule>, results?: ResultCache, text?: string): unknown {
  const existing = seen.get(filename);
  if (existing) return existing.exports;
  const source = transpiled(filename, text ?? fs.readFileSync(filename, 'utf8'), results);
  const mod = new ModuleCtor(filename);
  mod.filename = filename;
  mod.paths = ModuleCtor._nodeModulePaths(path.dirname(filename));
  seen.set(filename, mod);
  const nodeRequire = mod.require.bind(mod);
  // Relative TypeScript helpers are transpiled the same way; everything else is Node's own require.
  mod.require = (id: string) => {
    const resolved = resolveImport(id, filename);
    if (resolved && /\.m?ts$/.test(resolved)) return compileModule(resolved, seen, results);
    if (resolved && path.isAbsolute(resolved) && (id === 'knex' || id.startsWith('knex/'))) return nodeRequire(resolved);
    return nodeRequire(id);
  };
  mod._compile(source, filename);
  mod.loaded = true;
  return mod.exports;
}


function transpiled(filename: string, text: string, results?: ResultCache): string {
  if (!results) return transpileForLoad(filename, text);
  const key = ResultCache.key(filename, text);
  const cached = results.code(key);
  if (cached !== undefined) return cached;
  const code = transpileForLoad(filename, text);
  results.setCode(key, code);
  return code;
}

/** The first stack frame inside the file; sucrase keeps lines, so the line is the user's. */
function locate(err: unknown, file: string, fallbackLine = 1): { line: number; column: number } {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2] ?? 1) } : { line: fallbackLine, column: 1 };
}

