import * as path from 'node:path';
import { isDatabaseUrl } from '../core';
import { booleanFlag, stringFlag, UsageError, wholeNumber } from './command';

// An empty value is a mistake (an unset shell variable), never the default it would fall back to.
const nonEmpty = (flag: string, example: string) => (raw: string) => {
  if (!raw.trim()) throw new UsageError(`--${flag} takes ${example}`);
  return raw;
};

/** Which workspace, database and environment: every command takes these. */
export const DIR = stringFlag('dir', (raw, cwd) => path.resolve(cwd, nonEmpty('dir', 'a folder: --dir path/to/workspace')(raw)), {
  help: ['--dir <workspace>', 'workspace folder (default: current folder)'],
});
export const DB = stringFlag('db', (raw, cwd) => dbArgument(nonEmpty('db', 'a SQLite file or a database URL: --db data/app.sqlite3')(raw), cwd), {
  help: ['--db <file or URL>', "SQLite file, or postgres://, postgresql://, mysql://, mariadb://, sqlite: URL\n(default: the settings' database; else DATABASE_URL; else .migrations/dev.sqlite3)"],
});
export const ENV = stringFlag('env', nonEmpty('env', 'an environment name: --env production'), {
  help: ['--env <name>', 'the environment to run for (default: migrations.environment, else development);\nmigrations declaring other environments are skipped and recorded as skipped'],
});
export const SETTING_FLAGS = [DIR, DB, ENV];

/** How the output is given: every command takes these. */
export const JSON_OUTPUT = booleanFlag('json', { help: ['--json', 'machine-readable output'] });
export const HELP = booleanFlag('help', { short: 'h', help: ['-h, --help', 'this help'] });
export const OUTPUT_FLAGS = [JSON_OUTPUT, HELP];

/** Flags several commands take. */
export const SOURCE = stringFlag('source', nonEmpty('source', 'a source: --source versions'), {
  help: ['--source <source>', 'only this source: its id, or its folder relative to the workspace'],
});
// 0 is a target for down (everything rolled back); the engine refuses it for up.
export const TO = stringFlag('to', (raw) => wholeNumber('--to', raw, 0));
export const ALL = booleanFlag('all', { notWith: 'to' });
// Its help line is led by the commands that take it, as every flag refused elsewhere is.
export const ALLOW_SUM_MISMATCH = booleanFlag('allow-sum-mismatch', {
  onlyWithItsCommands: true,
  help: ['--allow-sum-mismatch', 'run (pass) although files differ from their migrations.sum\n(refused by default: a file edited or added behind its back, a merge left unresolved)'],
});

/** A file path relative to the current folder (as a sqlite:/file: URL's path), a server URL as given (the engine checks it). */
function dbArgument(value: string, cwd: string): string {
  const file = /^(sqlite|file):(?:\/\/)?(.+)$/i.exec(value)?.[2];
  if (file !== undefined) return file.includes('?') ? value : path.resolve(cwd, file);
  return isDatabaseUrl(value) ? value : path.resolve(cwd, value);
}
