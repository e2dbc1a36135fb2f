import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSY_TIMEOUT_MS } from './database';
import { DatabaseError, describeError, MigrationsError, type Advice, type ErrorText } from '../model/errors';

// Failures of the database itself, turned from driver codes into what to do about them.

/**
 * A clear error for a failure of the database itself (a SQLite file that cannot be opened, is
 * locked, read-only or not a database; a folder that cannot be made; a server that does not
 * answer); undefined for anything else. `filename` is the SQLite file, `label` names a server.
 */
export function databaseError(err: unknown, label: string, filename?: string, server?: ServerHints): DatabaseError | undefined {
  if (err instanceof MigrationsError) return undefined;
  const raw = describeError(err);
  const serverFailure = serverError(err, raw, label, server);
  if (serverFailure) return serverFailure;
  const errCode = (err as { code?: unknown } | null)?.code;
  const code = typeof errCode === 'string' && errCode ? errCode : /\b(SQLITE_[A-Z_]+)\b/.exec(raw)?.[1];
  // knex prefixes the SQL ("insert into … - SQLITE_BUSY: …"); the driver's own words are what matter.
  const detail = raw.replace(/^[\s\S]* - (?=SQLITE_)/, '');
  const file = filename ?? label;
  const make = (text: string | ErrorText) => new DatabaseError(text, code, err);
  const fixPath: Advice = { do: 'choose-database' };
  switch (code) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return make(`The database file ${file} is locked by another connection (${code}): another program, such as a database browser or a sqlite3 shell, holds a transaction open, and did not release it while this run waited (${BUSY_TIMEOUT_MS / 1000} s). Close that program or end its transaction, then run again.`);
    case 'SQLITE_READONLY':
      return make([`The database file ${file} is read-only (${code}): SQLite must write to it, and to ${path.basename(file)}-wal and -shm files next to it (even to read a database in WAL mode). Make the file and its folder writable, or `, fixPath, '.']);
    case 'SQLITE_NOTADB':
      return make([`${file} is not a SQLite database (${code}); it was left untouched. Move that file away, or `, fixPath, '.']);
    case 'SQLITE_CORRUPT':
      return make([`The database file ${file} is damaged (${code}: ${detail}); it was left untouched. Restore it from a backup, or `, fixPath, '.']);
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_IOERR':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH': {
      const why = whyCannotOpen(filename);
      if (why || code === 'SQLITE_CANTOPEN') return make([`Cannot open the database file ${file} (${code}${why ?? ''}). To fix the path, `, fixPath, ' (a SQLite file, in a folder you can write to).']);
      return make(`The database file ${file} cannot be read or written (${detail}). Check its permissions and the disk, then run again.`);
    }
    case 'SQLITE_FULL':
      return make([`The disk holding ${file} is full (${code}). Free some space and run again (`, { do: 'see-status' }, ').']);
  }
  if (code && ['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENOSPC'].includes(code) && typeof (err as { path?: unknown }).path === 'string') {
    const blocker = fileInTheWay(path.dirname(file));
    const why = blocker ? `${blocker} is a file, not a folder` : detail;
    return make([`Cannot create the folder for the database file ${file}: ${why}. To fix the path, `, fixPath, ' (a path whose folders can be created).']);
  }
  if (code && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'].includes(code)) {
    return make(`Cannot connect to ${label} (${code}: ${detail}). Check that the server is running and that migrations.connection names it.`);
  }
  return undefined;
}

/** What a server's errors name: the settings a user changes (never the password itself). */
export interface ServerHints {
  /** `migrations.passwordEnv`: the variable the password is read from. */
  readonly passwordEnv: string;
  /** Where the password came from: the database URL, that variable, the front end's own store (the editor's secret storage), or nowhere. */
  readonly passwordFrom: 'url' | 'env' | 'store' | 'none';
  readonly user?: string;
  readonly database?: string;
}

/**
 * A failure of a database server or of the connection to it (PostgreSQL SQLSTATE, MySQL/MariaDB
 * error codes), as the error to show; undefined for an error in the SQL itself.
 */
function serverError(err: unknown, raw: string, label: string, hints?: ServerHints): DatabaseError | undefined {
  const e = (err ?? {}) as { code?: unknown; errno?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  // knex prefixes the SQL ("select … - Connection was killed"): the driver's words are what matter.
  const detail = raw.replace(/^[\s\S]* - (?=[^-]+$)/, '').trim();
  const make = (text: string) => new DatabaseError(text, code, err);
  const setting = hints ? 'migrations.connection' : 'the connection config';
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
    const who = hints?.user ? `the login of ${hints.user}` : 'the login';
    const password = !hints ? 'the password'
      : hints.passwordFrom === 'url' ? 'the password in the database URL (--db or DATABASE_URL)'
      : hints.passwordFrom === 'store' ? `the stored password (or set the environment variable ${hints.passwordEnv}, named by migrations.passwordEnv)`
      : `the password in the environment variable ${hints.passwordEnv} (migrations.passwordEnv${hints.passwordFrom === 'env' ? '' : '; it is not set'})`;
    return make(`The server ${label} refused ${who} (${code}: ${detail}). Check the user in ${setting} and ${password}, then run again.`);
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
    return make(`The database ${hints?.database ? `${hints.database} ` : ''}does not exist on the server ${label} (${code}). Create it, or name an existing one as "database" in ${setting}.`);
  }
  const lost = ['57P01', '57P02', '57P03', 'PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ECONNRESET', 'EPIPE', 'ER_SERVER_SHUTDOWN'];
  if ((code && lost.includes(code)) || e.errno === 1927 || /Connection terminated( unexpectedly)?|Connection lost|server closed the connection|Connection was killed|connection is in closed state/i.test(raw)) {
    return make(`The connection to ${label} was lost (${code ?? 'closed'}: ${detail}): the server ended it (it restarted, or an administrator ended the session). Nothing of the interrupted statement was kept; run again once the server answers.`);
  }
  if (code === '25006' || code === 'ER_OPTION_PREVENTS_STATEMENT' || code === 'ER_READ_ONLY_MODE' || code === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION') {
    return make(`The database ${label} is read-only (${code}: ${detail}). Point ${setting} at a server that accepts writes (the primary, not a replica), then run again.`);
  }
  if (code === '53100' || code === 'ER_RECORD_FILE_FULL' || code === 'ER_DISK_FULL' || (code === 'ENOSPC' && typeof (err as { path?: unknown }).path !== 'string' && hints)) {
    return make(`The disk of ${label} is full (${code}: ${detail}). Free some space on the server, then run again.`);
  }
  return undefined;
}

function whyCannotOpen(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  try {
    const stat = fs.statSync(filename, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return ': it is a folder, not a file';
    if (!stat && !fs.statSync(path.dirname(filename), { throwIfNoEntry: false })?.isDirectory()) return ': its folder does not exist';
  } catch (err) {
    return `: ${describeError(err)}`;
  }
  return undefined;
}

/** The nearest existing ancestor of `dir` when it is not a folder (so `dir` can never be made). */
function fileInTheWay(dir: string): string | undefined {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const stat = fs.statSync(d, { throwIfNoEntry: false });
    if (stat) return stat.isDirectory() ? undefined : d;
  }
  return undefined;
}
