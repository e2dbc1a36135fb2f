import { transform } from 'sucrase';
import { parse as parseCjs, initSync } from 'cjs-module-lexer';
import type { Problem, ProblemCode, Severity } from './types';

initSync();

/** The result of reading one migration file without executing it. */
export interface Analysis {
  /** Transpiled CommonJS, line for line with the source; undefined when it does not parse. */
  readonly code?: string;
  readonly exports: ReadonlySet<string>;
  /** `module.exports = <something opaque>`: exports can only be known by loading. */
  readonly opaqueExports: boolean;
  readonly problems: Problem[];
  /** Bare and relative specifiers the module requires at run time, with their lines. */
  readonly imports: readonly { specifier: string; line: number; column: number }[];
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w*{'"]|export\s)/m;

export function problem(file: string, line: number, column: number, severity: Severity, code: ProblemCode, message: string): Problem {
  return { file, line: Math.max(1, line), column: Math.max(1, column), severity, code, message };
}

/**
 * Transpiles (TypeScript, ES modules) to CommonJS in memory with sucrase, which keeps
 * every line where it was, so load-time stack lines point into the user's file.
 */
export function analyzeSource(file: string, text: string): Analysis {
  const ext = file.slice(file.lastIndexOf('.'));
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const isTs = ext === '.ts' || ext === '.mts';
  let code: string;
  try {
    const esm = isTs || ext === '.mjs' || (ext === '.js' && ESM_SYNTAX.test(source));
    code = transform(source, {
      transforms: isTs ? ['typescript', 'imports'] : esm ? ['imports'] : [],
      filePath: file,
      disableESTransforms: true,
    }).code;
  } catch (err) {
    const loc = (err as { loc?: { line: number; column: number } }).loc;
    const reason = String((err as Error).message).replace(/^Error transforming [^:]+: /, '').replace(/\s*\(\d+:\d+\)$/, '');
    return {
      exports: new Set(),
      opaqueExports: false,
      imports: [],
      problems: [problem(file, loc?.line ?? 1, (loc?.column ?? 0) + 1, 'error', 'syntax-error',
        `Syntax error: ${reason}. Fix the code at this line; the migration cannot run until it parses.`)],
    };
  }
  const { exports, opaque } = exportsOf(code);
  return { code, exports, opaqueExports: opaque, problems: [], imports: importsOf(code) };
}

function exportsOf(code: string): { exports: Set<string>; opaque: boolean } {
  try {
    const parsed = parseCjs(code);
    const exports = new Set(parsed.exports);
    // `module.exports = require('./impl')` or a computed object: only loading can tell.
    const opaque = parsed.reexports.length > 0 || (/\bmodule\.exports\s*=/.test(code) && exports.size === 0);
    return { exports, opaque };
  } catch {
    return { exports: new Set(), opaque: true };
  }
}

const REQUIRE_RE = /\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g;

function importsOf(code: string): { specifier: string; line: number; column: number }[] {
  const found: { specifier: string; line: number; column: number }[] = [];
  for (const m of code.matchAll(REQUIRE_RE)) {
    const before = code.slice(0, m.index);
    const line = before.split('\n').length;
    found.push({ specifier: m[2], line, column: m.index! - before.lastIndexOf('\n') });
  }
  return found;
}
