import { parse as parseCjs, initSync } from 'cjs-module-lexer';
import { problem } from '../model/problems';
import type { Problem } from '../model/types';

type Babel = typeof import('@babel/parser', { with: { 'resolution-mode': 'import' } });
type BabelError = import('@babel/parser', { with: { 'resolution-mode': 'import' } }).ParseError;
type Program = ReturnType<Babel['parse']>['program'];
type Statement = Program['body'][number];
type AstNode = { type: string; start?: number | null; end?: number | null };
type SourceType = 'module' | 'commonjs' | 'unambiguous';
let babel: Babel | undefined;

/**
 * @babel/parser and the CJS lexer, loaded on the first file that is not in the result cache:
 * a run whose files are all cached skips the parser's load and its warm-up.
 */
function babelParser(): Babel {
  if (!babel) {
    initSync();
    // @babel/parser is ESM-only (and plain JavaScript, so nothing native ships): esbuild bundles
    // this require, and outside a bundle Node 22 loads it with require(esm); the type comes from the package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    babel = require('@babel/parser') as Babel;
  }
  return babel;
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

export { problem };

/**
 * Parses with @babel/parser for syntax errors, imports and ES exports: plain JavaScript, so it
 * ships no native binary, at about 0.1 ms a file once warm and 0.25 ms while it warms up (oxc's
 * native parser took 0.1 ms). CommonJS exports come from cjs-module-lexer, the detector Node itself uses.
 */
export function analyzeSource(file: string, text: string): Analysis {
  const ext = file.slice(file.lastIndexOf('.'));
  const isTs = ext === '.ts' || ext === '.mts';
  const sourceType = ext === '.cjs' ? 'commonjs' : ext === '.js' ? 'unambiguous' : 'module';
  const parsed = parse(text, isTs, sourceType);
  // Line starts are only needed for a problem or an import: most files have neither.
  let lines: number[] | undefined;
  const at = (offset: number) => position((lines ??= lineStarts(text)), offset);
  if (parsed.failure) return syntaxError(file, parsed.failure, at);
  const body = parsed.program.body;
  const declarations = body.filter(isModuleDeclaration);
  // Import and export declarations (TypeScript's `export =` and `export as namespace` too, not
  // `import x = require()`) and import.meta make a module; in a .js file babel also counts a top-level await.
  const hasModuleSyntax = declarations.length > 0 || (sourceType === 'unambiguous' ? parsed.program.sourceType === 'module' : importMetas(parsed.program, text).length > 0);
  // A .js file that is a module only because of a top-level await is CommonJS with an
  // await the loader cannot run: report that await, not a missing ES export.
  if (sourceType === 'unambiguous' && hasModuleSyntax && declarations.length === 0 && importMetas(parsed.program, text).length === 0) {
    const asScript = parse(text, false, 'commonjs');
    if (asScript.failure) return syntaxError(file, asScript.failure, at);
  }
  const imports = declarations
    .filter((d): d is Extract<Statement, { type: 'ImportDeclaration' }> => d.type === 'ImportDeclaration')
    .filter((d) => d.specifiers.length === 0 || (d.importKind !== 'type' && d.specifiers.some((s) => s.type !== 'ImportSpecifier' || s.importKind !== 'type')))
    .map((d) => ({ specifier: d.source.value, ...at(d.source.start ?? 0) }));
  if (!hasModuleSyntax) {
    const cjs = commonJsExports(text);
    return { ...cjs, problems: [], imports: [...imports, ...requiresOf(text, at)] };
  }
  const exports = new Set<string>();
  let opaque = false;
  for (const d of declarations) {
    if (d.type === 'ExportDefaultDeclaration') exports.add('default');
    else if (d.type === 'ExportAllDeclaration') opaque = true;
    else if (d.type === 'ExportNamedDeclaration') {
      for (const s of d.specifiers) exports.add(s.exported.type === 'Identifier' ? s.exported.name : s.exported.value);
      if (d.declaration) for (const name of declaredNames(d.declaration)) exports.add(name);
    }
  }
  return { exports, opaqueExports: opaque, problems: [], imports };
}

const MODULE_DECLARATIONS = new Set(['ImportDeclaration', 'ExportNamedDeclaration', 'ExportDefaultDeclaration', 'ExportAllDeclaration', 'TSExportAssignment', 'TSNamespaceExportDeclaration']);

function isModuleDeclaration(s: Statement): boolean {
  return MODULE_DECLARATIONS.has(s.type);
}

/** Names bound by an exported declaration: `export const { a, b: [c] } = …` exports a and c; types count too. */
function declaredNames(declaration: AstNode & { declarations?: { id: AstNode }[]; id?: AstNode | null }): string[] {
  if (declaration.declarations) return declaration.declarations.flatMap((d) => boundNames(d.id));
  // `export namespace A.B {}` exports A.
  let id = declaration.id as (AstNode & { name?: string; left?: AstNode }) | null | undefined;
  while (id?.type === 'TSQualifiedName') id = id.left;
  return id?.type === 'Identifier' && id.name ? [id.name] : [];
}

function boundNames(pattern: AstNode | null | undefined): string[] {
  if (!pattern) return [];
  const p = pattern as AstNode & { name?: string; properties?: AstNode[]; elements?: (AstNode | null)[]; left?: AstNode; argument?: AstNode; value?: AstNode };
  switch (p.type) {
    case 'Identifier': return [p.name!];
    case 'ObjectPattern': return p.properties!.flatMap((q) => boundNames(q.type === 'RestElement' ? (q as typeof p).argument : (q as typeof p).value));
    case 'ArrayPattern': return p.elements!.flatMap(boundNames);
    case 'AssignmentPattern': return boundNames(p.left);
    case 'RestElement': return boundNames(p.argument);
    default: return [];
  }
}

/** `import.meta` expressions, in source order; only walks the tree when the text can hold one. */
function importMetas(program: Program, text: string): AstNode[] {
  const found: AstNode[] = [];
  if (!MAYBE_META.test(text)) return found;
  const stack: unknown[] = [program];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...value);
    } else if (value !== null && typeof value === 'object' && typeof (value as AstNode).type === 'string') {
      const node = value as AstNode & { meta?: { name: string }; property?: { name: string } };
      if (node.type === 'MetaProperty' && node.meta?.name === 'import' && node.property?.name === 'meta') found.push(node);
      else for (const key of Object.keys(node)) if (key !== 'extra') stack.push((node as Record<string, unknown>)[key]);
    }
  }
  return found.sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
}

/** `import.meta` cannot be written without the word `meta` (escapes are not allowed in it). */
const MAYBE_META = /\bmeta\b/;

/** Where the parser gave up, with its message as it will be shown. */
interface ParseFailure {
  readonly message: string;
  readonly detail?: string;
  readonly start: number;
}

type Parsed = { readonly program: Program; readonly failure?: undefined } | { readonly program?: undefined; readonly failure: ParseFailure };

/**
 * One parse. Without error recovery babel throws at the first error it meets, which is the one
 * to report; it also keeps its own strategy for .js files: parsed as a module, and if that fails,
 * as a script. Comments are not attached and nodes carry no line objects: nothing here reads them,
 * and they cost time on every file.
 */
function parse(text: string, isTs: boolean, sourceType: SourceType): Parsed {
  try {
    return { program: babelParser().parse(text, options(isTs, sourceType, false)).program };
  } catch (err) {
    if (!isParseError(err)) throw err;
    if (!UNCHECKED.has(err.reasonCode)) return { failure: describe(err, text, isTs, sourceType) };
    return parsePastScopeErrors(text, isTs, sourceType);
  }
}

/**
 * Scope checks that oxc (syntax only) never made: a name declared twice, an export repeated.
 * Loaded as CommonJS, a repeated function or export runs, so they are no syntax error here
 * (a repeated `let` still fails when the file loads, which reports it).
 */
const UNCHECKED = new Set<string>(['VarRedeclaration', 'DuplicateExport', 'DuplicateDefaultExport']);

/** The error path only: parses again, recovering, and reports the first error that is not a scope check. */
function parsePastScopeErrors(text: string, isTs: boolean, sourceType: SourceType): Parsed {
  try {
    let result = babelParser().parse(text, options(isTs, sourceType, true));
    // Recovering, babel keeps a .js file's module parse even when it is a script: parse it as one.
    if (sourceType === 'unambiguous' && result.program.sourceType === 'script') result = babelParser().parse(text, options(isTs, 'script', true));
    const first = result.errors.find((e) => !UNCHECKED.has(e.reasonCode));
    return first ? { failure: describe(first, text, isTs, sourceType) } : { program: result.program };
  } catch (err) {
    if (!isParseError(err)) throw err;
    return { failure: describe(err, text, isTs, sourceType) };
  }
}

// Undeclared exports are left to loading, as with oxc.
const OPTIONS = { attachComment: false, locations: false, allowUndeclaredExports: true } as const;
// TypeScript's decorators (on parameters too) in .ts, the standard ones in .js, as oxc read them.
const TS_PLUGINS: ['typescript', 'decorators-legacy'] = ['typescript', 'decorators-legacy'];
const JS_PLUGINS: ['decorators'] = ['decorators'];

function options(isTs: boolean, sourceType: SourceType | 'script', errorRecovery: boolean) {
  return { ...OPTIONS, sourceType, errorRecovery, plugins: isTs ? TS_PLUGINS : JS_PLUGINS };
}

function isParseError(err: unknown): err is BabelError {
  return err instanceof SyntaxError && typeof (err as Partial<BabelError>).pos === 'number';
}

function syntaxError(file: string, failure: ParseFailure, at: (offset: number) => { line: number; column: number }): Analysis {
  const { line, column } = at(failure.start);
  const detail = failure.detail ? ` (${failure.detail})` : '';
  const fix = /\bawait\b/.test(failure.message) ? TOP_LEVEL_AWAIT_FIX : 'Fix the code at this line; the migration cannot run until it parses.';
  return {
    exports: new Set(),
    opaqueExports: false,
    imports: [],
    problems: [problem(file, line, column, 'error', 'syntax-error', `Syntax error: ${failure.message}${detail}. ${fix}`)],
  };
}

/** A merge conflict left in: git's markers at the start of a line (diff3's base marker too). */
const CONFLICT_MARKER = /^(?:<{7}|={7}|>{7}|\|{7})(?![<=>|])/;

/**
 * Babel's message without its "(line:col)" suffix, with tokens quoted as code. Two cases babel
 * words poorly get a message of their own: a merge conflict marker (babel sees stray operators)
 * and a file that ends inside a block, call or array (babel says only "Unexpected token").
 */
function describe(err: BabelError, text: string, isTs: boolean, sourceType: SourceType): ParseFailure {
  const at = Math.min(err.loc?.index ?? err.pos, text.length);
  // Babel points just inside an unterminated template or regular expression: point at its opening.
  const start = err.reasonCode === 'UnterminatedTemplate' || err.reasonCode === 'UnterminatedRegExp' ? Math.max(0, at - 1) : at;
  const lineStart = Math.max(text.lastIndexOf('\n', start - 1), text.lastIndexOf('\r', start - 1)) + 1;
  const marker = CONFLICT_MARKER.exec(text.slice(lineStart, lineStart + 8));
  if (marker) return { message: `Encountered diff marker \`${marker[0]}\``, detail: 'a merge conflict left unresolved', start: lineStart };
  if (err.reasonCode === 'UnexpectedToken' && text.slice(start).trim() === '') {
    const closer = missingCloser(text, isTs, sourceType);
    if (closer) return { message: `Expected \`${closer}\` but found the end of the file`, detail: `\`${closer}\` expected`, start };
  }
  // "requires enabling the jsx plugin" is babel's advice to its users, not ours (JSX or Flow in a .js file).
  if (err.missingPlugin) return { message: 'Unexpected token', detail: `${[err.missingPlugin].flat().join(' or ')} syntax, which this file cannot use`, start };
  return { message: err.message.replace(/ \(\d+:\d+\)$/, '').replace(/\.$/, '').replace(/expected "([^"]+)"/g, 'expected `$1`'), start };
}

/** The bracket a file that ends too early still needs: the first one babel accepts at its end. */
function missingCloser(text: string, isTs: boolean, sourceType: SourceType): string | undefined {
  for (const closer of ['}', ')', ']']) {
    const probe = `${text}\n${closer}`;
    try {
      babelParser().parse(probe, options(isTs, sourceType, false));
      return closer;
    } catch (err) {
      if (isParseError(err) && (err.loc?.index ?? err.pos) > text.length + 1) return closer;
    }
  }
  return undefined;
}

export const TOP_LEVEL_AWAIT_FIX = 'Migration files are loaded as CommonJS, where a top-level await cannot run: move the awaited code into up(knex).';

/**
 * Where the first top-level `await` of a module is (`for await` and `await using` too): found in
 * the module's tree, or, when it does not parse as a module, among the errors of parsing it as a
 * script (where such an await is one). Only called after loading failed, so it costs nothing otherwise.
 */
export function topLevelAwait(file: string, text: string): { line: number; column: number } | undefined {
  const isTs = /\.m?ts$/.test(file);
  const parsed = parse(text, isTs, 'module');
  let offset = parsed.program ? firstTopLevelAwait(parsed.program, text) : undefined;
  if (offset === undefined) {
    let errors: BabelError[];
    try {
      // Recovering, so an import (also an error in a script) does not hide the await after it.
      errors = babelParser().parse(text, options(isTs, 'commonjs', true)).errors;
    } catch (err) {
      if (!isParseError(err)) throw err;
      errors = [err];
    }
    const error = errors.find((e) => /\bawait\b/.test(e.message));
    offset = error && (error.loc?.index ?? error.pos);
  }
  return offset === undefined ? undefined : position(lineStarts(text), offset);
}

/** Functions (and class bodies, where an await is no top-level await) end the search for one. */
const OWN_SCOPE = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassBody', 'TSModuleDeclaration']);

function firstTopLevelAwait(program: Program, text: string): number | undefined {
  let first: number | undefined;
  const stack: unknown[] = [program.body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...value);
    } else if (value !== null && typeof value === 'object' && typeof (value as AstNode).type === 'string') {
      const node = value as AstNode & { await?: boolean; kind?: string };
      if (OWN_SCOPE.has(node.type)) continue;
      const start = node.start ?? 0;
      if (node.type === 'AwaitExpression' || (node.type === 'VariableDeclaration' && node.kind === 'await using')) first = Math.min(first ?? Infinity, start);
      // `for await (…)`: at the await, not the for.
      else if (node.type === 'ForOfStatement' && node.await) first = Math.min(first ?? Infinity, Math.max(start, text.indexOf('await', start)));
      for (const key of Object.keys(node)) if (key !== 'extra') stack.push((node as Record<string, unknown>)[key]);
    }
  }
  return first;
}

/** Offsets of `import.meta` expressions, which a module loaded as CommonJS cannot evaluate. */
export function importMetaSpans(file: string, text: string): { start: number; end: number }[] {
  const isTs = /\.m?ts$/.test(file);
  const parsed = parse(text, isTs, 'module');
  if (!parsed.program) return [];
  return importMetas(parsed.program, text).map((m) => ({ start: m.start ?? 0, end: m.end ?? 0 }));
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

/** 1-based line and column of a UTF-16 offset (babel's offsets are UTF-16 too). */
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
