import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire, isBuiltin } from 'node:module';

const TRY_EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '.cjs', '.json'];

/**
 * Resolves a specifier from a migration file the way Node would, plus `.ts` files.
 * `knex` falls back to the engine's own copy, so a migration can import it without
 * the workspace installing it. Returns undefined when nothing is found; never executes code.
 */
export function resolveImport(specifier: string, fromFile: string): string | undefined {
  if (isBuiltin(specifier)) return specifier;
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const base = path.resolve(path.dirname(fromFile), specifier);
    for (const candidate of [...TRY_EXTENSIONS.map((e) => base + e), ...TRY_EXTENSIONS.slice(1).map((e) => path.join(base, 'index' + e))]) {
      if (isFile(candidate)) return candidate;
    }
    return undefined;
  }
  try {
    return createRequire(fromFile).resolve(specifier);
  } catch {
    return specifier === 'knex' || specifier.startsWith('knex/') ? engineResolve(specifier) : undefined;
  }
}

function engineResolve(specifier: string): string | undefined {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
