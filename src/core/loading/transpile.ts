import { importMetaSpans } from '../sources/analyze';
import { MigrationsError } from '../model/errors';

/**
 * TypeScript / ES module source to CommonJS for loading, in memory. sucrase keeps every
 * line where it was, so stack traces point at the user's lines without source maps.
 */
export function transpileForLoad(file: string, text: string): string {
  const ext = file.slice(file.lastIndexOf('.'));
  const source = withCommonJsImportMeta(file, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (isCommonJs(file, source)) return source;
  const isTs = ext === '.ts' || ext === '.mts';
  try {
    // Loaded on first use: a status or a fully cached run never transpiles.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { transform } = require('sucrase') as typeof import('sucrase');
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

const IMPORT_META = /\bimport\s*\.\s*meta\b/;
const IMPORT_META_CJS = '({ url: require("node:url").pathToFileURL(__filename).href, filename: __filename, dirname: __dirname })';

/**
 * `import.meta` only exists in ES modules, and a file holding it would be run as one (where
 * `exports` is undefined); its url, filename and dirname have CommonJS equivalents. Lines are kept.
 */
function withCommonJsImportMeta(file: string, text: string): string {
  if (!IMPORT_META.test(text)) return text;
  let out = text;
  for (const span of importMetaSpans(file, text).reverse()) out = out.slice(0, span.start) + IMPORT_META_CJS + out.slice(span.end);
  return out;
}
