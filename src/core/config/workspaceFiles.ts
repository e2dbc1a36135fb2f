import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../model/errors';

/**
 * The one rule for every file this tool writes into a project (migrations.sum, schema.sql, a
 * created migration): it lands inside the workspace. A committed file or folder that is a link
 * to somewhere else would otherwise have us overwrite a file outside it, wherever a clone of a
 * hostile repository points.
 */

/** Where `file` really is: every link on the way followed, also a dangling one; parts not made yet stay as named. */
export function realPathOf(file: string, hops = 0): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Some part does not exist (yet), or a link dangles: resolve what exists, by hand.
  }
  const parent = path.dirname(file);
  if (parent === file) return file;
  const dir = realPathOf(parent, hops);
  const here = path.join(dir, path.basename(file));
  // A loop of links (or one we may not read): what writing would meet is an error, not a place; the link is where it is.
  const target = hops < 40 ? linkText(here) : undefined;
  return target === undefined ? here : realPathOf(path.resolve(dir, target), hops + 1);
}

/** What a link says; undefined when `file` is no link (or cannot be read). */
function linkText(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** `rel` (a relative path) climbs out of its folder (`..foo` is a name, not a way out). */
export function climbsOut(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

/** True when `file` (a real path) is `dir` (a real path) or below it. */
function isWithin(dir: string, file: string): boolean {
  return !climbsOut(path.relative(dir, file));
}

/**
 * Why `file` is not inside `workspace` once links are followed: the link that leads out (the
 * first one on the way from the workspace) and where it points; undefined when it is inside.
 */
export function leadsOut(workspace: string, file: string): { link: string; target: string } | undefined {
  const root = realPathOf(workspace);
  const full = path.resolve(workspace, file);
  const target = realPathOf(full);
  if (isWithin(root, target)) return undefined;
  const rel = path.relative(workspace, full);
  // Named outside the workspace in the first place (`../schema.sql`): that path is the culprit.
  if (climbsOut(rel)) return { link: full, target };
  let at = workspace;
  for (const part of rel.split(path.sep)) {
    at = path.join(at, part);
    if (linkText(at) !== undefined && !isWithin(root, realPathOf(at))) return { link: at, target: realPathOf(at) };
  }
  return { link: full, target };
}

/** A file to be written, checked: its real path, or a ConfigError naming the link (or path) that leads out of the workspace. */
export function insideWorkspace(workspace: string, file: string): string {
  const out = leadsOut(workspace, file);
  if (!out) return realPathOf(path.resolve(workspace, file));
  const full = path.resolve(workspace, file);
  throw new ConfigError(out.link === full && out.target === full
    ? `${full} is outside the workspace ${workspace}; Migration Manager writes files only inside it. Choose a path inside the workspace.`
    : `${out.link} is a link to ${out.target}, outside the workspace ${workspace}; Migration Manager writes files only inside it. ` +
      `Replace the link with a real ${out.link === full ? 'file' : 'folder'}, or remove it.`, { file: out.link });
}

/**
 * Writes `text` to `file` inside the workspace (see insideWorkspace), creating its folder.
 * `unless`: the file's current text makes the write unneeded (false returned, nothing touched);
 * `exclusive`: an existing file is not replaced (EEXIST thrown).
 */
export function writeInWorkspace(workspace: string, file: string, text: string, opts: { unless?: (current: string) => boolean; exclusive?: boolean } = {}): boolean {
  const real = insideWorkspace(workspace, file);
  if (opts.unless) {
    const current = readIfExists(real);
    if (current !== undefined && opts.unless(current)) return false;
  }
  fs.mkdirSync(path.dirname(real), { recursive: true });
  // No following a link made since the check (O_NOFOLLOW, where the platform has it).
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | (opts.exclusive ? fs.constants.O_EXCL : fs.constants.O_TRUNC) | (fs.constants.O_NOFOLLOW ?? 0);
  const fd = fs.openSync(real, flags, 0o666);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** A file's text, or undefined when it does not exist (any other failure is thrown). */
export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The workspace every relative setting resolves from: an absolute path to a folder that exists. */
export function requireWorkspace(workspace: string): void {
  if (!path.isAbsolute(workspace)) throw new ConfigError(`The workspace must be an absolute path (got "${workspace}").`);
  if (!fs.statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError([`The workspace folder ${workspace} does not exist; `, { do: 'choose-workspace' }, '.']);
  }
}
