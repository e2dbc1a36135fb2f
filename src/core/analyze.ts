import { parse as parseCjs, initSync } from 'cjs-module-lexer';
import type { Problem, ProblemCode, Severity } from './types';

type Oxc = typeof import('oxc-parser', { with: { 'resolution-mode': 'import' } });
let oxc: Oxc | undefined;

/**
 * oxc-parser and the CJS lexer, loaded on the first file that is not in the result cache:
 * a run whose files are all cached skips the native parser's load (time and memory).
 */
function parseSync(...args: Parameters<Oxc['parseSync']>): ReturnType<Oxc['parseSync']> {
  if (!oxc) {
    initSync();
    // oxc-parser is ESM-only; esbuild bundles this require, and the type comes from the package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    oxc = require('oxc-parser') as Oxc;
  }
  return oxc.parseSync(...args);
}

/** What a migration file says about itself, read without executing it. */
export interface Analysis {
  readonly exports: ReadonlySet<string>;
  /** `export * from …` or `module.exports = <opaque>`: exports can only be known by loading. */
  readonly opaqueExports: boolean;
  readonly problems: Problem[];
  /** Specifiers needed at run time (type-only imports excluded), with their positions. */
  readonly imports: readonly { specifier: string; line: number; column: number }[];
}

export function problem(file: string, line: number, column: number, severity: Severity, code: ProblemCode, message: string): Problem {
  return { file, line: Math.max(1, line), column: Math.max(1, column), severity, code, message };
}

/**
 * Parses with oxc (native, about 50 µs a file) for syntax errors, imports and ES exports;
 * CommonJS exports come from cjs-module-lexer, the detector Node itself uses.
 */
export function analyzeSource(file: string, text: string): Analysis {
  const ext = file.slice(file.lastIndexOf('.'));
  const isTs = ext === '.ts' || ext === '.mts';
  const sourceType = ext === '.cjs' ? 'commonjs' : ext === '.js' ? 'unambiguous' : 'module';
  const result = parseSync(file, text, { lang: isTs ? 'ts' : 'js', sourceType });
  const lines = lineStarts(text);
  const at = (offset: number) => position(lines, offset);
  if (result.errors.length > 0) return syntaxError(file, result.errors[0], at);
  const { module } = result;
  // A .js file that is a module only because of a top-level await is CommonJS with an
  // await the loader cannot run: report that await, not a missing ES export.
  if (sourceType === 'unambiguous' && module.hasModuleSyntax && module.staticImports.length === 0 && module.staticExports.length === 0 && module.importMetas.length === 0) {
    const asScript = parseSync(file, text, { lang: 'js', sourceType: 'commonjs' });
    if (asScript.errors.length > 0) return syntaxError(file, asScript.errors[0], at);
  }
  const imports = module.staticImports
    .filter((i) => i.entries.length === 0 || i.entries.some((e) => !e.isType))
    .map((i) => ({ specifier: i.moduleRequest.value, ...at(i.moduleRequest.start) }));
  if (!module.hasModuleSyntax) {
    const cjs = commonJsExports(text);
    return { ...cjs, problems: [], imports: [...imports, ...requiresOf(text, at)] };
  }
  const exports = new Set<string>();
  let opaque = false;
  for (const entry of module.staticExports.flatMap((e) => e.entries)) {
    if (entry.exportName.kind === 'Name' && entry.exportName.name) exports.add(entry.exportName.name);
    else if (entry.exportName.kind === 'Default') exports.add('default');
    else if (entry.moduleRequest) opaque = true;
  }
  return { exports, opaqueExports: opaque, problems: [], imports };
}

type OxcError = ReturnType<typeof parseSync>['errors'][number];

function syntaxError(file: string, error: OxcError, at: (offset: number) => { line: number; column: number }): Analysis {
  const { line, column } = at(error.labels[0]?.start ?? 0);
  const detail = error.labels[0]?.message && error.labels[0].message !== error.message ? ` (${error.labels[0].message})` : '';
  const fix = /\bawait\b/.test(error.message) ? TOP_LEVEL_AWAIT_FIX : 'Fix the code at this line; the migration cannot run until it parses.';
  return {
    exports: new Set(),
    opaqueExports: false,
    imports: [],
    problems: [problem(file, line, column, 'error', 'syntax-error', `Syntax error: ${error.message}${detail}. ${fix}`)],
  };
}

export const TOP_LEVEL_AWAIT_FIX = 'Migration files are loaded as CommonJS, where a top-level await cannot run: move the awaited code into up(knex).';

/**
 * Where the first top-level `await` of a module is, found by parsing it as a script
 * (where such an await is an error). Only called after loading failed, so it costs nothing otherwise.
 */
export function topLevelAwait(file: string, text: string): { line: number; column: number } | undefined {
  const isTs = /\.m?ts$/.test(file);
  const result = parseSync(file, text, { lang: isTs ? 'ts' : 'js', sourceType: 'commonjs' });
  const error = result.errors.find((e) => /\bawait\b/.test(e.message));
  return error ? position(lineStarts(text), error.labels[0]?.start ?? 0) : undefined;
}

/** Offsets of `import.meta` expressions, which a module loaded as CommonJS cannot evaluate. */
export function importMetaSpans(file: string, text: string): { start: number; end: number }[] {
  const isTs = /\.m?ts$/.test(file);
  const result = parseSync(file, text, { lang: isTs ? 'ts' : 'js', sourceType: 'module' });
  return result.errors.length > 0 ? [] : result.module.importMetas.map((m) => ({ start: m.start, end: m.end }));
}

function commonJsExports(text: string): { exports: Set<string>; opaqueExports: boolean } {
  try {
    const parsed = parseCjs(text);
    const exports = new Set(parsed.exports);
    // `module.exports = require('./impl')` or a computed object: only loading can tell.
    return { exports, opaqueExports: parsed.reexports.length > 0 || (/\bmodule\.exports\s*=/.test(text) && exports.size === 0) };
  } catch {
    return { exports: new Set(), opaqueExports: true };
  }
}

const REQUIRE_RE = /\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g;

function requiresOf(text: string, at: (offset: number) => { line: number; column: number }) {
  return [...text.matchAll(REQUIRE_RE)].map((m) => ({ specifier: m[2], ...at(m.index!) }));
}

/** Offsets where lines start; \r\n, \r, \n, U+2028 and U+2029 all end a line, as in V8's stack traces. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(/\r\n?|[\n\u2028\u2029]/g)) starts.push(m.index! + m[0].length);
  return starts;
}

/** 1-based line of a UTF-16 offset, counting line terminators as V8 does. */
export function lineAt(text: string, offset: number): number {
  return position(lineStarts(text.slice(0, offset)), offset).line;
}

/** 1-based line and column of a UTF-16 offset (oxc's JS API reports UTF-16 offsets). */
function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}
