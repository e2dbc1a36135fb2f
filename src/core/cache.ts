import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { Analysis } from './analyze';

const FORMAT = 2;

/** An analysis as stored: problems without their file (the same content may live at several paths). */
type StoredAnalysis = Omit<Analysis, 'exports' | 'problems'> & { exports: string[]; problems: Omit<Analysis['problems'][number], 'file'>[] };

interface CacheFile {
  format: number;
  analysis: Record<string, StoredAnalysis>;
  code: Record<string, string>;
}

/**
 * Content-addressed results of parsing and transpiling, kept between CLI runs (as Jest keeps
 * its transform cache): keyed by a file's SHA-256 and extension, so an edit is a miss, never a
 * stale hit. It lives in the user's cache folder, never in the workspace or the database. Only
 * entries used by this run are written back, so it never grows past the workspace's files.
 */
export class ResultCache {
  private loaded?: CacheFile;
  private readonly used: CacheFile = { format: FORMAT, analysis: {}, code: {} };
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

  /** Writes what this run used (atomically); a failure only costs the next run some time. */
  save(): void {
    const before = this.loaded ?? { format: FORMAT, analysis: {}, code: {} };
    // Keep the code of files this run only analysed: the next `up` will want it.
    for (const [key, code] of Object.entries(before.code)) if (key in this.used.analysis) this.used.code[key] ??= code;
    const pruned = Object.keys(before.analysis).some((k) => !(k in this.used.analysis)) || Object.keys(before.code).some((k) => !(k in this.used.code));
    if (!this.dirty && !pruned) return;
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
    if (!this.loaded) {
      try {
        const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as CacheFile;
        this.loaded = parsed.format === FORMAT ? parsed : { format: FORMAT, analysis: {}, code: {} };
      } catch {
        this.loaded = { format: FORMAT, analysis: {}, code: {} };
      }
    }
    return this.loaded;
  }
}
