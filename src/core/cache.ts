import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Analysis } from './analyze';
import type { MigrationFile } from './types';

const FORMAT = 3;

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

interface CacheFile {
  format: number;
  /** When it was written (ms); see RACY_MS. */
  savedAt: number;
  analysis: Record<string, StoredAnalysis>;
  code: Record<string, string>;
  files: Record<string, StoredFile>;
}

const empty = (): CacheFile => ({ format: FORMAT, savedAt: 0, analysis: {}, code: {}, files: {} });

/**
 * Content-addressed results of parsing and transpiling, kept between CLI runs (as Jest keeps
 * its transform cache): keyed by a file's SHA-256 and extension, so an edit is a miss, never a
 * stale hit. It lives in the user's cache folder, never in the workspace or the database. Only
 * entries used by this run are written back, so it never grows past the workspace's files.
 */
export class ResultCache {
  private loaded?: CacheFile;
  private readonly used: CacheFile = empty();
  private dirty = false;

  constructor(private readonly file: string) {}

  /** `$XDG_CACHE_HOME/migration-manager/<hash of the workspace path>.json`. */
  static forWorkspace(workspace: string, env: NodeJS.ProcessEnv = process.env): ResultCache {
    const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    const name = createHash('sha1').update(workspace).digest('hex').slice(0, 16);
    return new ResultCache(path.join(base, 'migration-manager', `${name}.json`));
  }

  static key(fileName: string, text: string): string {
    return `${path.extname(fileName)}:${createHash('sha256').update(text).digest('hex')}`;
  }

  analysis(key: string, file: string): Analysis | undefined {
    const stored = this.used.analysis[key] ?? this.read().analysis[key];
    if (!stored) return undefined;
    this.used.analysis[key] = stored;
    return { ...stored, exports: new Set(stored.exports), problems: stored.problems.map((p) => ({ ...p, file })) };
  }

  setAnalysis(key: string, analysis: Analysis): void {
    this.used.analysis[key] = { ...analysis, exports: [...analysis.exports], problems: analysis.problems.map(({ file: _file, ...p }) => p) };
    this.dirty = true;
  }

  code(key: string): string | undefined {
    const code = this.used.code[key] ?? this.read().code[key];
    if (code !== undefined) this.used.code[key] = code;
    return code;
  }

  setCode(key: string, code: string): void {
    this.used.code[key] = code;
    this.dirty = true;
  }

  /** The stored result of `file` when its size and mtime still match `stat`. */
  storedFile(file: string, stat: { mtimeMs: number; size: number }): StoredFile | undefined {
    const stored = this.used.files[file] ?? this.read().files[file];
    if (!stored || stored.mtimeMs !== stat.mtimeMs || stored.size !== stat.size || stored.mtimeMs >= this.read().savedAt - RACY_MS) return undefined;
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
    const keep = (before: CacheFile) => {
      // What belongs to a file this run saw stays: its analysis, and its code for the next `up`.
      for (const key of [...Object.keys(this.used.analysis), ...Object.values(this.used.files).map((f) => f.key)]) {
        if (before.analysis[key]) this.used.analysis[key] ??= before.analysis[key];
        if (before.code[key] !== undefined) this.used.code[key] ??= before.code[key];
      }
    };
    const before = this.loaded ?? empty();
    keep(before);
    const pruned = (['analysis', 'code', 'files'] as const).some((part) => Object.keys(before[part]).some((k) => !(k in this.used[part])));
    if (!this.dirty && !pruned) return;
    // The runner child may have written code since this process read the file (the CLI saves last).
    keep(readCache(this.file));
    this.used.savedAt = Date.now();
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.used));
      fs.renameSync(tmp, this.file);
    } catch {
      // A read-only home or a full disk must not fail a migration run.
    }
  }

  private read(): CacheFile {
    return (this.loaded ??= readCache(this.file));
  }
}

function readCache(file: string): CacheFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
    return parsed.format === FORMAT ? parsed : empty();
  } catch {
    return empty();
  }
}
