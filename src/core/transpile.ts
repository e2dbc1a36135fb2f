import { transform } from 'sucrase';
import { MigrationsError } from './errors';

/**
 * TypeScript / ES module source to CommonJS for loading, in memory. sucrase keeps every
 * line where it was, so stack traces point at the user's lines without source maps.
 */
export function transpileForLoad(file: string, text: string): string {
  const ext = file.slice(file.lastIndexOf('.'));
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (isCommonJs(file, source)) return source;
  const isTs = ext === '.ts' || ext === '.mts';
  try {
    return transform(source, { transforms: isTs ? ['typescript', 'imports'] : ['imports'], filePath: file, disableESTransforms: true }).code;
  } catch (err) {
    throw new MigrationsError(String((err as Error).message).replace(/^Error transforming /, ''), { cause: err });
  }
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w*{'"]|export\s)/m;

/** `.cjs`, or a `.js` file with no import/export statement: loaded as it is. */
export function isCommonJs(file: string, text: string): boolean {
  return file.endsWith('.cjs') || (file.endsWith('.js') && !ESM_SYNTAX.test(text));
}
