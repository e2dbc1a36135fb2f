import * as fs from 'node:fs';
import * as path from 'node:path';
import { readIfExists, writeInWorkspace } from '../config/workspaceFiles';
import { checksumOf, crypto } from '../model/checksum';
import { parseMigrationName } from '../model/naming';
import { problem } from '../model/problems';
import { InvalidMigrationsError } from '../model/errors';
import type { Problem, ProblemCode, Source } from '../model/types';

/**
 * `migrations.sum`, one per source folder, after Atlas's `atlas.sum`:
 *
 *     h1:<base64 sha256 of the lines below, joined with \n>
 *     migration_001_create_users.ts h1:<base64 sha256 of the file, CRLF folded to LF>
 *
 * It shows a migration added, edited or removed behind the tool's back, and its first line
 * changes with every added migration, so two branches that each add one conflict in git on it
 * and the second to merge has to look at the other's migration. Reads files; runs nothing.
 */
export const SUM_FILE = 'migrations.sum';

const HASH = '[A-Za-z0-9+/]{43}=';
const HEAD_RE = new RegExp(`^h1:(${HASH})$`);
const LINE_RE = new RegExp(`^(\\S+) h1:(${HASH})$`);
/** What git leaves in a file it could not merge (diff3 style adds `|||||||`). */
const MARKER_RE = /^(<{7}|={7}|>{7}|\|{7})( |$)/;
const REHASH = 'run `migrations rehash`';

interface Entry {
  readonly name: string;
  readonly version: number;
  readonly path: string;
  /** Undefined when the file cannot be read (discovery reports that on its own): neither added nor edited nor removed. */
  readonly hash?: string;
}

/** The full text of `dir`'s sum for these files; paths resolve against `dir`, files not named like migrations are left out. */
export function computeSum(dir: string, files: readonly { path: string }[]): string {
  return render(entries(dir, files, true));
}

/**
 * Writes `dir`'s sum; leaves the file alone (changed: false) when it already says the same, CRLF
 * checkouts included. Never through a link out of `workspace` (see writeInWorkspace).
 */
export function writeSum(dir: string, files: readonly { path: string }[], workspace = dir): { path: string; changed: boolean } {
  const file = path.join(dir, SUM_FILE);
  const text = computeSum(dir, files);
  return { path: file, changed: writeInWorkspace(workspace, file, text, { unless: (current) => current.replace(/\r\n/g, '\n') === text }) };
}

/** What differs between `dir`'s sum and its migration files. No sum file: nothing (the sum is opt-in). */
export function checkSum(dir: string, files: readonly { path: string; checksum?: string }[]): Problem[] {
  const sumPath = path.join(dir, SUM_FILE);
  let text: string | undefined;
  try {
    text = readIfExists(sumPath);
  } catch (err) {
    return [problem(sumPath, 1, 1, 'error', 'sum-invalid', `${SUM_FILE} cannot be read (${(err as Error).message}). Fix its permissions, or delete it and ${REHASH}.`)];
  }
  if (text === undefined) return [];
  const sum = parseSum(text);
  if ('error' in sum) return [problem(sumPath, sum.line, 1, 'error', 'sum-invalid', sum.error)];

  const problems: Problem[] = [];
  if (sum.head !== hashLines(sum.lines.map(lineOf))) {
    problems.push(problem(sumPath, 1, 1, 'error', 'sum-tampered',
      `${SUM_FILE} was edited by hand: its first line, the hash over the lines below it, does not match them. ` +
      `After a merge, take either side of ${SUM_FILE} rather than combining lines, then ${REHASH} to rewrite it from the migration files.`));
  }
  const listed = new Map(sum.lines.map((l) => [l.name, l]));
  const present = new Set<string>();
  for (const e of entries(dir, files, false)) {
    present.add(e.name);
    const line = listed.get(e.name);
    if (e.hash === undefined) continue;
    if (!line) {
      problems.push(problem(e.path, 1, 1, 'error', 'sum-added',
        `${e.name} is not listed in ${SUM_FILE}: it was added without the sum being updated (by hand, or brought in by a merge). ` +
        `If it belongs here, check its version still sorts after the migrations it builds on (renumber yours if a merge brought in another branch's), then ${REHASH}.`));
    } else if (line.hash !== e.hash) {
      problems.push(problem(e.path, 1, 1, 'error', 'sum-edited',
        `${e.name} was edited after ${SUM_FILE} was written. If the change is meant, ${REHASH}; an applied migration should not change — add a new one instead.`));
    }
  }
  for (const line of sum.lines) {
    if (present.has(line.name)) continue;
    problems.push(problem(sumPath, line.line, 1, 'error', 'sum-removed',
      `${line.name} is listed in ${SUM_FILE} but the file is gone. If it was removed on purpose (it was never applied anywhere), ${REHASH}; ` +
      `if it was applied, restore it from version control — rolling it back needs it.`));
  }
  return problems;
}

/** The problems checkSum reports: each one blocks a run (like Atlas), unless the caller says otherwise. */
export const SUM_CODES: readonly ProblemCode[] = ['sum-added', 'sum-edited', 'sum-removed', 'sum-tampered', 'sum-invalid'];

/**
 * The refusal of a run whose sources' files differ from their migrations.sum (a merge left it
 * unresolved, a file was edited or added behind its back): undefined when every sum matches.
 */
export function sumMismatch(sources: readonly Source[]): InvalidMigrationsError | undefined {
  const problems = [...new Set(sources)].filter((s) => s.dir !== '').flatMap((s) => checkSum(s.dir, s.migrations));
  if (problems.length === 0) return undefined;
  return new InvalidMigrationsError(problems, {
    lead: `${SUM_FILE} does not match the migration files, so nothing was run:`,
    advice: ['Fix the sum (', { do: 'rehash' }, ' once the files are as they should be), or ', { do: 'override', flag: 'allow-sum-mismatch' }, ' to run anyway.'],
  });
}

/** Sum problems as warnings: the caller said to run anyway (`allowSumMismatch`). */
export function allowingSumMismatch(problems: readonly Problem[]): Problem[] {
  return problems.map((p) => (SUM_CODES.includes(p.code) ? { ...p, severity: 'warning' as const } : p));
}

/** Strict (writing a sum): an unreadable file throws, so no sum silently leaves it out. Else a file gone is left out, one unreadable has no hash. */
function entries(dir: string, files: readonly { path: string; checksum?: string }[], strict: boolean): Entry[] {
  const folder = path.resolve(dir);
  const byName = new Map<string, Entry>();
  for (const f of files) {
    const full = path.resolve(folder, f.path);
    const name = path.basename(full);
    const parsed = parseMigrationName(name);
    // Only this folder's migrations: code-registered ones have no path, other sources keep their own sum.
    if (!parsed || path.dirname(full) !== folder || byName.has(name)) continue;
    // Discovery's checksum is the same hash of the same text: a status re-reads no file.
    if (f.checksum) {
      byName.set(name, { name, version: parsed.version, path: full, hash: Buffer.from(f.checksum, 'hex').toString('base64') });
      continue;
    }
    let text: string | undefined;
    try {
      text = fs.readFileSync(full, 'utf8');
    } catch (err) {
      if (strict) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
    }
    byName.set(name, { name, version: parsed.version, path: full, hash: text === undefined ? undefined : fileHash(text) });
  }
  // Code-unit order, not localeCompare: the text must be byte-identical on every machine.
  return [...byName.values()].sort((a, b) => a.version - b.version || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function render(list: readonly Entry[]): string {
  const lines = list.map((e) => lineOf({ name: e.name, hash: e.hash! }));
  return [`h1:${hashLines(lines)}`, ...lines].join('\n') + '\n';
}

function lineOf(l: { name: string; hash: string }): string {
  return `${l.name} h1:${l.hash}`;
}

/** The project's checksum (hex, line endings folded), in the sum's base64 form. */
function fileHash(text: string): string {
  return Buffer.from(checksumOf(text), 'hex').toString('base64');
}

function hashLines(lines: readonly string[]): string {
  return crypto().createHash('sha256').update(lines.join('\n')).digest('base64');
}

interface SumLine {
  readonly name: string;
  readonly hash: string;
  readonly line: number;
}

function parseSum(text: string): { head: string; lines: SumLine[] } | { error: string; line: number } {
  // A Windows checkout (core.autocrlf) may hand us CRLF; the trailing newline is optional.
  const rows = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const marker = rows.findIndex((r) => MARKER_RE.test(r));
  if (marker >= 0) {
    return { line: marker + 1, error: `${SUM_FILE} line ${marker + 1} is a git conflict marker ("${rows[marker]}"): a merge left it unresolved. ` +
      `Resolve the merge by taking either side of ${SUM_FILE}, then ${REHASH} to rewrite it from the migration files.` };
  }
  const invalid = (i: number, expected: string) => ({ line: i + 1, error: `${SUM_FILE} line ${i + 1} is not valid ("${rows[i].slice(0, 80)}"): ` +
    `expected ${expected}. Resolve any merge of ${SUM_FILE} by taking either side, then ${REHASH} to rewrite it from the migration files.` });
  const head = HEAD_RE.exec(rows[0]);
  if (!head) return invalid(0, '`h1:<hash>`, the hash over the lines below');
  const lines: SumLine[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < rows.length; i++) {
    const m = LINE_RE.exec(rows[i]);
    if (!m || !parseMigrationName(m[1]) || seen.has(m[1])) return invalid(i, m && seen.has(m[1]) ? `each file listed once (${m[1]} is listed twice)` : '`<migration file name> h1:<hash>`');
    seen.add(m[1]);
    lines.push({ name: m[1], hash: m[2], line: i + 1 });
  }
  return { head: head[1], lines };
}
