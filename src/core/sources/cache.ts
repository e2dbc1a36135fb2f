import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Analysis } from './analyze';
import { sha256, shortHash } from '../model/checksum';
import type { MigrationFile } from '../model/types';

const FORMAT = 4;

/**
 * A file changed this close to the cache's last write may have been edited again within the same
 * mtime tick: its stored result is not trusted (git treats a "racy" index entry the same way).
 */
const RACY_MS = 2000;

/** An analysis as stored: problems without their file (the same content may live at several paths). */
type StoredAnalysis = Omit<Analysis, 'exports' | 'problems'> & { exports: string[]; problems: Omit<Analysis['problems'][number], 'file'>[] };

/**
 * A file's checked result by path, valid while its size and mtime are unchanged: a status of
 * unchanged files reads none of them. Its imports are resolved again on use (a package may have
 * been installed or removed since).
 */
export interface StoredFile {
  /** The content's key (see `ResultCache.key`): its analysis and code stay while the file is stored. */
  readonly key: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly file: MigrationFile;
  readonly imports: readonly { readonly specifier: string; readonly unresolved: boolean }[];
}

/** Content-addressed results: what parsing and transpiling a file's text gave. */
interface ResultsFile {
  format: number;
  analysis: Record<string, StoredAnalysis>;
  code: Record<string, string>;
}

/** Files by path, in a file of its own: a status of unchanged files parses only this one. */
interface IndexFile {
  format: number;
  /** When it was written (ms); see RACY_MS. */
  savedAt: number;
  files: Record<string, StoredFile>;
}

const emptyResults = (): ResultsFile => ({ format: FORMAT, analysis: {}, code: {} });
const emptyIndex = (): IndexFile => ({ format: FORMAT, savedAt: 0, files: {} });

/**
 * Content-addressed results of parsing and transpiling, kept between CLI runs (as Jest keeps
 * its transform cache): keyed by a file's SHA-256 and extension, so an edit is a miss, never a
 * stale hit. It lives in the user's cache folder, never in the workspace or the database. Only
 * entries used by this run are written back, so it never grows past the workspace's files.
 */
export class ResultCache {
  private loaded?: ResultsFile;
  private loadedIndex?: IndexFile;
  private readonly used = { ...emptyResults(), ...emptyIndex() };
  private dirty = false;
  private readonly indexFile: string;

  constructor(private readonly file: string) {
    this.indexFile = file.replace(/(\.json)?$/, '.files.json');
  }

  /** `$XDG_CACHE_HOME/migration-manager/<hash of the workspace path>.json` (and `.files.json`). */
  static forWorkspace(workspace: string, env: NodeJS.ProcessEnv = process.env): ResultCache {
    const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    return new ResultCache(path.join(base, 'migration-manager', `${shortHash(workspace)}.json`));
  }

  /** A file of this workspace's kept beside these results, for another record (`schema`: the schema snapshot's, see verify/schemaDump.ts). */
  besides(name: string): string {
    return this.file.replace(/(\.json)?$/, `.${name}.json`);
  }

  static key(fileName: string, text: string): string {
    return `${path.extname(fileName)}:${sha256(text)}`;
  }

  analysis(key: string, file: string): Analysis | undefined {
    const stored = this.used.analysis[key] ?? this.results().analysis[key];
    if (!isAnalysis(stored)) return undefined;
    this.used.analysis[key] = stored;
    return { ...stored, exports: new Set(stored.exports), problems: stored.problems.map((p) => ({ ...p, file })) };
  }

  setAnalysis(key: string, analysis: Analysis): void {
    this.used.analysis[key] = { ...analysis, exports: [...analysis.exports], problems: analysis.problems.map(({ file: _file, ...p }) => p) };
    this.dirty = true;
  }

  code(key: string): string | undefined {
    const code = this.used.code[key] ?? this.results().code[key];
    if (typeof code !== 'string') return undefined;
    this.used.code[key] = code;
    return code;
  }

  setCode(key: string, code: string): void {
    this.used.code[key] = code;
    this.dirty = true;
  }

  /** The stored result of `file` when its size and mtime still match `stat`. */
  storedFile(file: string, stat: { mtimeMs: number; size: number }): StoredFile | undefined {
    const index = this.index();
    const stored = this.used.files[file] ?? index.files[file];
    if (!isStoredFile(stored, file) || stored.mtimeMs !== stat.mtimeMs || stored.size !== stat.size || stored.mtimeMs >= index.savedAt - RACY_MS) return undefined;
    this.used.files[file] = stored;
    return stored;
  }

  /** The content key of a file this process found unchanged by its size and mtime, or checked. */
  keyOf(file: string): string | undefined {
    return this.used.files[file]?.key;
  }

  setStoredFile(file: string, stored: StoredFile): void {
    this.used.files[file] = stored;
    this.dirty = true;
  }

  /** Writes what this run used (atomically); a failure only costs the next run some time. */
  save(): void {
    const keep = (before: ResultsFile) => {
      // What belongs to a file this run saw stays: its analysis, and its code for the next `up`.
      for (const key of [...Object.keys(this.used.analysis), ...Object.values(this.used.files).map((f) => f.key)]) {
        if (isAnalysis(before.analysis[key])) this.used.analysis[key] ??= before.analysis[key];
        if (typeof before.code[key] === 'string') this.used.code[key] ??= before.code[key];
      }
    };
    const dropped = <T>(before: Record<string, T>, now: Record<string, T>) => Object.keys(before).some((k) => !(k in now));
    const index = this.index();
    // A run that looked at no file (verify's parent: its child discovers) keeps the index as it was.
    const sawFiles = Object.keys(this.used.files).length > 0;
    const indexChanged = this.dirty || (sawFiles && dropped(index.files, this.used.files));
    // The results are read only when this run needed them, or when a file is stored anew.
    if (this.loaded || this.dirty) {
      const before = this.results();
      keep(before);
      if (this.dirty || dropped(before.analysis, this.used.analysis) || dropped(before.code, this.used.code)) {
        // The runner child may have written code since this process read the file (the CLI saves last).
        keep(readJson(this.file, emptyResults, isResults));
        write(this.file, { format: FORMAT, analysis: this.used.analysis, code: this.used.code });
      }
    }
    if (indexChanged) write(this.indexFile, { format: FORMAT, savedAt: Date.now(), files: this.used.files });
  }

  private results(): ResultsFile {
    return (this.loaded ??= readJson(this.file, emptyResults, isResults));
  }

  private index(): IndexFile {
    return (this.loadedIndex ??= readJson(this.indexFile, emptyIndex, (i) => Number.isFinite(i.savedAt) && isRecord(i.files)));
  }
}

/**
 * The file's content when it has the expected outline, else an empty cache: a file cut short,
 * edited by hand or written by another version is discarded, and this run rebuilds it. Entries
 * are checked on use (isStoredFile, isAnalysis), so a bad one is a miss, not an error.
 */
function readJson<T extends { format: number }>(file: string, empty: () => T, outline: (parsed: T) => boolean): T {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    return isRecord(parsed) && parsed.format === FORMAT && outline(parsed) ? parsed : empty();
  } catch {
    return empty();
  }
}

const isResults = (r: ResultsFile): boolean => isRecord(r.analysis) && isRecord(r.code);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isStrings = (value: unknown): boolean => Array.isArray(value) && value.every((v) => typeof v === 'string');

function isProblem(p: unknown): boolean {
  return isRecord(p) && Number.isFinite(p.line) && Number.isFinite(p.column) && typeof p.severity === 'string' && typeof p.code === 'string' && typeof p.message === 'string';
}

/** A stored file entry as this version writes it, for `path`: anything else is a miss. */
function isStoredFile(value: unknown, path: string): value is StoredFile {
  if (!isRecord(value) || typeof value.key !== 'string' || !Number.isFinite(value.mtimeMs) || !Number.isFinite(value.size)) return false;
  if (!Array.isArray(value.imports) || !value.imports.every((i) => isRecord(i) && typeof i.specifier === 'string' && typeof i.unresolved === 'boolean')) return false;
  const f = value.file;
  return isRecord(f) && f.path === path && Number.isSafeInteger(f.version) && typeof f.name === 'string' && typeof f.checksum === 'string' &&
    Array.isArray(f.problems) && f.problems.every((p) => isProblem(p) && typeof (p as { file?: unknown }).file === 'string') &&
    (f.hasDown === undefined || typeof f.hasDown === 'boolean') && (f.description === undefined || typeof f.description === 'string') &&
    (f.environments === undefined || isStrings(f.environments)) && (f.tags === undefined || isStrings(f.tags));
}

function isAnalysis(value: unknown): value is StoredAnalysis {
  return isRecord(value) && isStrings(value.exports) && typeof value.opaqueExports === 'boolean' && Array.isArray(value.problems) && value.problems.every(isProblem) &&
    Array.isArray(value.imports) && value.imports.every((i) => isRecord(i) && typeof i.specifier === 'string' && Number.isFinite(i.line) && Number.isFinite(i.column));
}

/** Atomically; a read-only home or a full disk must not fail a migration run. */
function write(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value));
    fs.renameSync(tmp, file);
  } catch {
    // Only the next run's time is lost.
  }
}
