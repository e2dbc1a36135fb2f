/**
 * File-name convention: `migration_<version>_<snake_case_description>.<ext>`.
 * Kept free of I/O so the extension can call it on every keystroke.
 */
export const MIGRATION_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'] as const;

const NAME_RE = /^migration_(\d+)_([a-z0-9]+(?:_[a-z0-9]+)*)\.(ts|mts|js|mjs|cjs)$/;
/** Anything that starts like a migration, to warn about near-misses instead of ignoring them. */
const LOOKS_LIKE_RE = /^migration[_-]/i;
const MAX_VERSION = Number.MAX_SAFE_INTEGER;

export interface ParsedName {
  readonly version: number;
  readonly name: string;
  readonly extension: string;
}

/** Parses a migration file name; undefined when it does not follow the convention. */
export function parseMigrationName(fileName: string): ParsedName | undefined {
  if (fileName.endsWith('.d.ts') || fileName.endsWith('.d.mts')) return undefined;
  const m = NAME_RE.exec(fileName);
  if (!m) return undefined;
  const version = Number(m[1]);
  if (!Number.isSafeInteger(version) || version <= 0 || version > MAX_VERSION) return undefined;
  return { version, name: m[2], extension: '.' + m[3] };
}

/** True for files that are meant to be migrations (so a bad name deserves a warning). */
export function looksLikeMigration(fileName: string): boolean {
  return LOOKS_LIKE_RE.test(fileName) && !fileName.endsWith('.d.ts') && !fileName.endsWith('.map');
}

/** Explains why a migration-like name does not match, with the name to use instead. */
/** Why a file name is not a migration's, and a name to rename it to (its own version when free, else the next free one). */
export function badNameMessage(fileName: string, taken: ReadonlySet<number> = new Set()): string {
  return (
    `"${fileName}" looks like a migration but does not match migration_<version>_<snake_case_description>.<ts|mts|js|mjs|cjs>: ` +
    `${nameProblem(fileName)}, so it is ignored. Rename it, e.g. "${suggestedName(fileName, taken)}".`
  );
}

function nameProblem(fileName: string): string {
  const ext = extensionOf(fileName);
  if (!MIGRATION_EXTENSIONS.some((e) => e === ext)) return `the extension "${ext || '(none)'}" is not one of ${MIGRATION_EXTENSIONS.join(', ')}`;
  if (!fileName.startsWith('migration_')) return 'it must start with "migration_" in lower case';
  const m = /^migration_(\d+)_./.exec(fileName);
  if (!m) return 'the version after "migration_" must be digits, then "_" and a description';
  const version = Number(m[1]);
  if (version === 0) return 'the version must be 1 or more';
  if (!Number.isSafeInteger(version)) return `the version ${m[1]} is larger than the largest supported (${MAX_VERSION})`;
  return 'the description must be lower-case letters and digits joined by "_"';
}

function suggestedName(fileName: string, taken: ReadonlySet<number>): string {
  const ext = extensionOf(fileName);
  const rest = fileName.slice(0, fileName.length - ext.length).replace(/^migration[_-]?/i, '');
  const m = /^(\d+)[_-]?(.*)$/s.exec(rest);
  const own = m ? Number(m[1]) : 0;
  const next = Math.max(0, ...taken) + 1;
  const version = own > 0 && Number.isSafeInteger(own) && !taken.has(own) ? m![1].padStart(3, '0') : formatVersion(next);
  const description = toSnakeCase(m ? m[2] : rest) || 'add_index';
  return `migration_${version}_${description}${MIGRATION_EXTENSIONS.some((e) => e === ext) ? ext : '.ts'}`;
}

function extensionOf(fileName: string): string {
  return /\.[^.]*$/.exec(fileName)?.[0] ?? '';
}

/**
 * Turns free text into a safe snake_case description: ASCII letters and digits only,
 * so the result can never hold a path separator, a dot or a reserved character.
 */
export function toSnakeCase(description: string): string {
  return description
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80)
    .replace(/_+$/, '');
}

/** Pads a version to at least three digits, the width the convention uses. */
export function formatVersion(version: number, width = 3): string {
  return String(version).padStart(width, '0');
}

export function migrationFileName(version: number, name: string, extension: string, width = 3): string {
  return `migration_${formatVersion(version, width)}_${name}${extension}`;
}

/** A count in words, as every message says it: "1 migration", "3 migrations" (`many` when the plural is not the word and an s). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
