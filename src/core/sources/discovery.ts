import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeSource, lineAt, problem, type Analysis } from './analyze';
import { ResultCache, type StoredFile } from './cache';
import { checksumOf } from '../model/checksum';
import { badNameMessage, looksLikeMigration, MIGRATION_EXTENSIONS, parseMigrationName } from '../model/naming';
import { resolveImport } from './resolve';
import { leadsOut } from '../config/workspaceFiles';
import { PROJECT_CONFIG_FILES } from '../config/project';
import type { MigrationFile, Problem, Source } from '../model/types';

const SKIP_DIRS = new Set(['node_modules', '.git', '.migrations', 'out', 'dist']);
const MAX_DEPTH = 8;

interface CacheEntry {
  readonly mtimeMs: number;
  readonly size: number;
  readonly file: MigrationFile;
}

/**
 * Finds migration sources and checks their files statically: nothing here executes
 * workspace code, so it is safe in an untrusted workspace. Results are cached by
 * mtime and size, so a refresh after one edit re-reads one file.
 */
export class Discovery {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly workspace: string,
    private readonly versionsDir: readonly string[] = [],
    private readonly results?: ResultCache,
  ) {}

  /** Every source, in id order. */
  discover(): Source[] {
    const pass = newPass();
    return this.dirs(pass).map((dir) => this.readSource(dir, pass)).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The folders `discover` reads (the sources' `dir`s), without reading their files. */
  dirs(pass: Pass = newPass()): string[] {
    return this.versionsDir.length > 0
      ? this.versionsDir.map((d) => path.resolve(this.workspace, d)).filter(isDirectory)
      : findVersionsDirs(this.workspace, pass.list);
  }

  /** Forgets cached results (all, or one file), e.g. when the editor reports a change. */
  invalidate(file?: string): void {
    if (file === undefined) this.cache.clear();
    else this.cache.delete(file);
  }

  readSource(dir: string, pass: Pass = newPass()): Source {
    // A folder reached through a link out of the workspace is not the project's: nothing in it is read, run or written.
    const out = leadsOut(this.workspace, dir);
    if (out) {
      return { id: sourceId(this.workspace, dir), dir, migrations: [], problems: [problem(out.link, 1, 1, 'error', 'outside-workspace',
        `${out.link} links to ${out.target}, outside the workspace; migrations are only read from folders inside it. Move the folder into the workspace, or remove the link.`)] };
    }
    const problems: Problem[] = [];
    const migrations: MigrationFile[] = [];
    const badNames: { full: string; name: string; kind: EntryKind }[] = [];
    for (const entry of pass.list(dir)) {
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith('.')) continue;
      const parsed = parseMigrationName(entry.name);
      const link = entry.isSymbolicLink() ? this.linkTarget(full) : undefined;
      const kind = link?.kind ?? kindOf(entry);
      if (parsed && link?.outside) {
        migrations.push(invalidFile(full, parsed.version, parsed.name,
          `This file links to ${link.target}, outside the workspace; migrations are only loaded from inside it. Copy the file into this folder instead.`));
      } else if (parsed && kind === 'file') {
        migrations.push(this.checkFile(full, parsed.version, parsed.name, pass));
      } else if (parsed && kind === 'broken-link') {
        migrations.push(invalidFile(full, parsed.version, parsed.name,
          'This file is a link whose target does not exist (or links that form a loop). Restore the target, or remove the link.'));
      } else if (parsed || looksLikeMigration(entry.name) || (kind === 'file' && hasMigrationExtension(entry.name))) {
        badNames.push({ full, name: entry.name, kind });
      }
    }
    // Named after the folder's migrations are known: the rename suggested takes a free version.
    const taken = new Set(migrations.map((m) => m.version));
    for (const bad of badNames) problems.push(problem(bad.full, 1, 1, 'warning', 'bad-file-name', bad.kind === 'file' ? badNameMessage(bad.name, taken) : notAFileMessage(bad.name, bad.kind)));
    migrations.sort((a, b) => a.version - b.version || a.path.localeCompare(b.path));
    return { id: sourceId(this.workspace, dir), dir, migrations: markDuplicates(migrations), problems };
  }

  private linkTarget(file: string): { target: string; outside: boolean; kind: EntryKind } {
    try {
      const target = fs.realpathSync(file);
      const outside = path.relative(fs.realpathSync(this.workspace), target).startsWith('..');
      return { target, outside, kind: kindOf(fs.statSync(target)) };
    } catch {
      return { target: file, outside: false, kind: 'broken-link' };
    }
  }

  private checkFile(file: string, version: number, name: string, pass: Pass): MigrationFile {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (err) {
      return unreadable(file, version, name, err);
    }
    // Replaced by a pipe since the folder was listed: reading it would block forever.
    if (!stat.isFile()) return unreadable(file, version, name, new Error('not a regular file any more'));
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.file;
    const stored = this.results?.storedFile(file, stat);
    if (stored && stored.imports.every((i) => (pass.resolve(i.specifier, file) === undefined) === i.unresolved)) {
      this.cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, file: stored.file });
      return stored.file;
    }
    let entry: CacheEntry;
    try {
      const text = decodeUtf8(fs.readFileSync(file));
      const checked = checkTextForCache(file, version, name, text, this.results);
      entry = { mtimeMs: stat.mtimeMs, size: stat.size, file: checked.file };
      this.results?.setStoredFile(file, { key: checked.key!, mtimeMs: stat.mtimeMs, size: stat.size, file: checked.file, imports: checked.imports });
    } catch (err) {
      entry = { mtimeMs: stat.mtimeMs, size: stat.size, file: unreadable(file, version, name, err) };
    }
    this.cache.set(file, entry);
    return entry.file;
  }
}

/**
 * What one reading of the folders shares: each folder listed once (finding the sources and reading
 * them list the same folders), and each import resolved once per folder (a specifier resolves
 * from a file's folder alone; 1000 files importing knex would otherwise resolve it 1000 times,
 * a thrown MODULE_NOT_FOUND each in a workspace without node_modules). Never kept between
 * readings: a package installed or a file added since is seen by the next one.
 */
interface Pass {
  list(dir: string): fs.Dirent[];
  resolve(specifier: string, fromFile: string): string | undefined;
}

function newPass(): Pass {
  const listed = new Map<string, fs.Dirent[]>();
  const resolved = new Map<string, string | undefined>();
  return {
    list: (dir) => {
      let entries = listed.get(dir);
      if (!entries) listed.set(dir, (entries = safeReadDir(dir)));
      return entries;
    },
    resolve: (specifier, fromFile) => {
      const key = `${path.dirname(fromFile)}\0${specifier}`;
      if (!resolved.has(key)) resolved.set(key, resolveImport(specifier, fromFile));
      return resolved.get(key);
    },
  };
}

/** Static checks on one file's text (also used by the editor on unsaved text). */
export function checkText(file: string, version: number, name: string, text: string, results?: ResultCache): MigrationFile {
  return checkTextForCache(file, version, name, text, results).file;
}

/** checkText, plus what the result cache stores with it: the content key and whether each import resolved. */
function checkTextForCache(file: string, version: number, name: string, text: string, results?: ResultCache): { file: MigrationFile; key?: string; imports: StoredFile['imports'] } {
  const key = results && ResultCache.key(file, text);
  let analysis = key ? results!.analysis(key, file) : undefined;
  if (!analysis) {
    analysis = analyzeSource(file, text);
    if (key) results!.setAnalysis(key, analysis);
  }
  const parsed = analysis.problems.length === 0;
  const problems = [...analysis.problems];
  if (parsed) problems.push(...contractProblems(file, version, text, analysis));
  const hasDown = /\bdown\s*(?:\(|=|:)/.test(text);
  // A file that cannot run has one thing to fix first; a missing down() is not it.
  if (parsed && !hasDown && !problems.some((p) => p.severity === 'error')) {
    problems.push(problem(file, lineOf(text, /\bup\s*(?:\(|=|:)/), 1, 'warning', 'missing-down',
      'This migration has no down(): rolling back past it will be refused. Add a down(knex) that undoes up().'));
  }
  const unresolved = new Set(problems.filter((p) => p.code === 'unresolved-import').map((p) => `${p.line}:${p.column}`));
  const imports = analysis.imports.map((i) => ({ specifier: i.specifier, unresolved: unresolved.has(`${i.line}:${i.column}`) }));
  const environments = staticList(text, 'environments');
  const tags = staticList(text, 'tags');
  return {
    file: { version, name, path: file, checksum: checksumOf(text), problems, hasDown, description: staticDescription(text), ...(environments && { environments }), ...(tags && { tags }) },
    key, imports,
  };
}

function contractProblems(file: string, version: number, text: string, analysis: Analysis): Problem[] {
  const problems: Problem[] = [];
  if (!analysis.opaqueExports && !analysis.exports.has('getMigration')) {
    const near = [...analysis.exports].find((e) => e !== 'getMigration' && editDistance(e.toLowerCase().replace(/[_-]/g, ''), 'getmigration') <= 2);
    const hint = near
      ? `It exports "${near}": rename it to "getMigration".`
      : analysis.exports.has('default')
        ? 'It has only a default export: add "export function getMigration() { return <YourMigrationClass>; }".'
        : 'Add "export function getMigration() { return <YourMigrationClass>; }".';
    const at = near ? new RegExp(`\\b${near.replace(/[$]/g, '\\$')}\\b`) : /\bclass\s|getMigration|export\s+default/;
    problems.push(problem(file, lineOf(text, at), 1, 'error', 'missing-get-migration',
      `No getMigration export, so this migration can never run. ${hint}`));
  }
  for (const imp of analysis.imports) {
    if (resolveImport(imp.specifier, file) === undefined) {
      problems.push(problem(file, imp.line, imp.column, 'error', 'unresolved-import',
        `Cannot find module "${imp.specifier}" from ${path.basename(file)}. Install it or fix the path.`));
    }
  }
  const declared = staticVersion(text);
  if (declared !== undefined && declared.value !== version) {
    problems.push(problem(file, declared.line, 1, 'error', 'version-mismatch',
      `The migration declares version ${declared.value} but the file name says ${version}. Make them equal (rename the file or change the version).`));
  }
  return problems;
}

/** A literal `description = '…'` / `description: "…"`, when the file declares exactly one. */
function staticDescription(text: string): string | undefined {
  const matches = [...text.matchAll(/\bdescription\s*(?::\s*string\s*)?[=:]\s*(['"])((?:(?!\1)[^\\\n]|\\.)*)\1/g)];
  const values = new Set(matches.map((m) => m[2]));
  return values.size === 1 ? matches[0][2].replace(/\\(.)/g, '$1') : undefined;
}

/** A literal list of strings (`environments = ['production']`, `tags: ["seed"]`), when the file declares exactly one. */
const LISTS = {
  environments: /\benvironments\s*(?::[^=\n]*)?[=:]\s*\[([^\]]*)\]/g,
  tags: /\btags\s*(?::[^=\n]*)?[=:]\s*\[([^\]]*)\]/g,
};

function staticList(text: string, key: 'environments' | 'tags'): string[] | undefined {
  // Most files declare neither: a plain search first spares the regular expression.
  if (!text.includes(key)) return undefined;
  const matches = [...text.matchAll(LISTS[key])];
  if (matches.length !== 1) return undefined;
  const items = matches[0][1].split(',').map((i) => i.trim()).filter(Boolean);
  const values = items.map((i) => /^(['"])([^'"\\]*)\1$/.exec(i)?.[2]);
  return values.every((v): v is string => v !== undefined) ? values : undefined;
}

/** A literal `version = 3` / `version: 3`, when the file declares exactly one. */
function staticVersion(text: string): { value: number; line: number } | undefined {
  // Only a literal that ends the initializer: `version = 2 + 1` is not version 2.
  const matches = [...text.matchAll(/\bversion\s*(?::\s*number\s*)?[=:]\s*(\d+)[ \t]*(?=[;,})\r\n]|\/[/*]|$)/g)];
  const values = new Set(matches.map((m) => Number(m[1])));
  if (values.size !== 1) return undefined;
  return { value: Number(matches[0][1]), line: lineAt(text, matches[0].index!) };
}

function markDuplicates(migrations: MigrationFile[]): MigrationFile[] {
  const byVersion = new Map<number, MigrationFile[]>();
  for (const m of migrations) byVersion.set(m.version, [...(byVersion.get(m.version) ?? []), m]);
  return migrations.map((m) => {
    const same = byVersion.get(m.version)!;
    if (same.length < 2) return m;
    const others = same.filter((o) => o !== m).map((o) => path.basename(o.path)).join(', ');
    return {
      ...m,
      problems: [...m.problems, problem(m.path, 1, 1, 'error', 'duplicate-version',
        `Version ${m.version} is also used by ${others}. Rename one of them to a new version; nothing in this folder can be applied until then.`)],
    };
  });
}

function unreadable(file: string, version: number, name: string, err: unknown): MigrationFile {
  const code = (err as NodeJS.ErrnoException).code;
  const message = code === 'EACCES' || code === 'EPERM'
    ? 'Cannot read this file (permission denied). Fix its permissions so you can read it (e.g. chmod 644).'
    : err instanceof EncodingError
      ? `Cannot read this file: ${err.message}. Save it as UTF-8 text.`
      : `Cannot read this file (${(err as Error).message}). Fix the file, or remove it from this folder.`;
  return invalidFile(file, version, name, message);
}

function invalidFile(file: string, version: number, name: string, message: string): MigrationFile {
  return { version, name, path: file, checksum: '', problems: [problem(file, 1, 1, 'error', 'unreadable', message)] };
}

class EncodingError extends Error {}

function decodeUtf8(bytes: Buffer): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw new EncodingError('it is UTF-16 text, not UTF-8');
  if (bytes.includes(0)) throw new EncodingError('it holds binary data (NUL bytes), not UTF-8 text');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new EncodingError('it is not valid UTF-8 text (another encoding, such as Latin-1?)');
  }
}

type EntryKind = 'file' | 'folder' | 'broken-link' | 'special';

function kindOf(entry: fs.Dirent | fs.Stats): EntryKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'folder';
  return entry.isSymbolicLink() ? 'broken-link' : 'special';
}

function notAFileMessage(name: string, kind: EntryKind): string {
  if (kind === 'folder') return `"${name}" is a folder, not a migration file, so it is ignored; rename or move it.`;
  if (kind === 'broken-link') return `"${name}" is a link whose target does not exist, so it is ignored; restore the target or remove the link.`;
  return `"${name}" is not a regular file (a pipe, socket or device), so it is ignored; remove it or replace it with a migration file.`;
}

/** Levenshtein distance, to recognise a misspelled `getMigration` export. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

function lineOf(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? lineAt(text, m.index) : 1;
}

function hasMigrationExtension(fileName: string): boolean {
  return MIGRATION_EXTENSIONS.some((e) => fileName.endsWith(e)) && !fileName.endsWith('.d.ts');
}

/** A folder source's id: its path relative to the workspace, with `/` (`.` for the workspace itself). */
export function sourceId(workspace: string, dir: string): string {
  return path.relative(workspace, dir).split(path.sep).join('/') || '.';
}

/**
 * Every folder named `versions` below the workspace that holds migration-like files. Another
 * project inside (its own git repository, or its own migrations.config.*) is not entered: its
 * migrations are for its own database (versionsDir or the config may still name them).
 */
export function findVersionsDirs(workspace: string, list: (dir: string) => fs.Dirent[] = safeReadDir): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    const entries = list(dir);
    if (depth > 0 && entries.some((e) => e.name === '.git' || (PROJECT_CONFIG_FILES as readonly string[]).includes(e.name))) return;
    for (const entry of entries) {
      // Joined only for what may be a source or a folder to walk: a versions folder's 1000 files are neither.
      const full = () => path.join(dir, entry.name);
      // A `versions` link out of the workspace is listed, to be reported (readSource); links are not walked.
      if (entry.isSymbolicLink() && entry.name === 'versions' && leadsOut(workspace, full()) && hasMigrations(list(full()))) found.push(full());
      if (!entry.isDirectory() || entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
      if (entry.name === 'versions' && hasMigrations(list(full()))) found.push(full());
      if (depth < MAX_DEPTH) walk(full(), depth + 1);
    }
  };
  walk(workspace, 0);
  return found;
}

function hasMigrations(entries: readonly fs.Dirent[]): boolean {
  return entries.some((e) => (e.isFile() || e.isSymbolicLink()) && looksLikeMigration(e.name));
}

function safeReadDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
