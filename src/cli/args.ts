import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { isDatabaseUrl } from '../core';

export const COMMANDS = ['status', 'up', 'down', 'redo', 'create', 'history', 'validate', 'sql', 'unlock', 'mark-applied', 'forget', 'rename-source', 'verify', 'lint', 'drift', 'schema', 'rehash', 'shadows'] as const;
export type Command = (typeof COMMANDS)[number];

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

export interface CliArgs {
  readonly command: Command;
  readonly positionals: readonly string[];
  readonly dir: string;
  readonly db?: string;
  readonly json: boolean;
  readonly to?: number;
  readonly all: boolean;
  readonly source?: string;
  readonly js: boolean;
  readonly force: boolean;
  /** `shadows --drop`: drop the leftover temporary shadow databases. */
  readonly drop: boolean;
  readonly outOfOrder: boolean;
  /** `--not-moved`: up applies files that match the history of a source whose folder is gone (see UpTarget.notMoved). */
  readonly notMoved: boolean;
  /** `--allow-sum-mismatch`: up runs, and validate passes, although files differ from migrations.sum. */
  readonly allowSumMismatch: boolean;
  /** `--env`: the environment runs and statuses are for. */
  readonly env?: string;
  /** `--tag` (repeatable, or comma-separated): of the tagged migrations, only those with one of these run. */
  readonly tags?: readonly string[];
  readonly limit?: number;
  /** The version `mark-applied` and `forget` act on. */
  readonly version?: number;
}

export const USAGE = `Usage: migrations <command> [options]

Commands:
  status                 list every migration with its status
  up [--to V]            apply pending migrations (up to version V)
  down [--to V | --all]  roll back the last migration (down to V, which stays applied; or all)
  redo                   roll back the last migration and apply it again
  create "<description>" [--source <source>] [--js]
  history [--limit N]    show the run history
  validate               check every migration file (loads them)
  sql up|down [--to V] [--all]   print the SQL a run would execute, changing nothing
  unlock [--force]       release a stale lock (--force: any lock)
  mark-applied <V>       record V as applied without running it (after a repair by hand)
  mark-applied --to <V>  record every pending migration up to V as applied, running none (a baseline)
  forget <V>             record V as not applied without running it (it is pending again)
  rename-source <OLD> <NEW>   move the history of a source whose folder moved to its new folder
  verify [V]             prove each pending migration (or V) reversible on a shadow database: up, down, up
  lint [V]               check each pending migration's SQL (captured on a shadow database) for dangers
  drift                  compare the database's schema with the applied migrations replayed on a shadow
  schema                 write the database's schema to schema.sql (migrations.schemaFile) and print it
  rehash                 rewrite each source's migrations.sum from its migration files
  shadows [--drop]       list the temporary shadow databases that stopped checks left on the server
                         (--drop: drop those not in use by a check running on this machine)

Options:
  --dir <workspace>      workspace folder (default: current folder)
  --db <file or URL>     SQLite file, or postgres://, postgresql://, mysql://, mariadb://, sqlite: URL
                         (default: the settings' database; else DATABASE_URL; else .migrations/dev.sqlite3)
  --source <source>      only this source: its id, or its folder relative to the workspace
  --out-of-order         also apply migrations older than the newest applied one
  --not-moved            up: apply files that match the applied history of a folder no longer here
                         (refused by default: a moved folder's migrations would run twice)
  --allow-sum-mismatch   up, validate: run (pass) although files differ from their migrations.sum
                         (refused by default: a file edited or added behind its back, a merge left unresolved)
  --env <name>           the environment to run for (default: migrations.environment, else development);
                         migrations declaring other environments are skipped and recorded as skipped
  --tag <tag>            up: of the tagged migrations, only those with this tag (repeatable); untagged ones
                         always run, other tagged ones are recorded as skipped
  --json                 machine-readable output
  -h, --help             this help

Exit codes: 0 success, 1 failed operation or invalid migration file, 2 usage error.`;

export function parseCli(argv: readonly string[], cwd: string): CliArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        db: { type: 'string' },
        json: { type: 'boolean', default: false },
        to: { type: 'string' },
        all: { type: 'boolean', default: false },
        source: { type: 'string' },
        js: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        drop: { type: 'boolean', default: false },
        'out-of-order': { type: 'boolean', default: false },
        'not-moved': { type: 'boolean', default: false },
        'allow-sum-mismatch': { type: 'boolean', default: false },
        env: { type: 'string' },
        tag: { type: 'string', multiple: true },
        limit: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return 'help';
  const [command, ...rest] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`Unknown command "${command}". Commands: ${COMMANDS.join(', ')}.`);
  if (values.to !== undefined && values.all) throw new UsageError('--to and --all cannot be used together.');
  // `mark-applied --to V` marks every pending migration up to V instead of one.
  const takesVersion = (command === 'mark-applied' && !(values.to !== undefined && rest.length === 0)) || command === 'forget';
  const mayTakeVersion = command === 'verify' || command === 'lint';
  if (mayTakeVersion && rest.length > 1) throw new UsageError(`${command} takes at most one version: migrations ${command} [3] [--source versions]`);
  if (takesVersion && rest.length !== 1) throw new UsageError(`${command} needs one version: migrations ${command} 3 [--source versions]${command === 'mark-applied' ? ' (or --to 3 for every pending one up to 3)' : ''}`);
  if (takesVersion && values.to !== undefined) throw new UsageError(`${command} takes a version or --to, not both: migrations ${command} 3${command === 'mark-applied' ? ', or migrations mark-applied --to 3' : ''}`);
  const tags = values.tag?.flatMap((t) => t.split(',')).map((t) => t.trim());
  if (tags?.some((t) => t === '')) throw new UsageError('--tag takes a tag name: --tag seed');
  if (tags && command !== 'up') throw new UsageError('--tag selects what up runs; it goes with up only.');
  if (values['not-moved'] && command !== 'up') throw new UsageError('--not-moved says what up may apply; it goes with up only.');
  if (values['allow-sum-mismatch'] && command !== 'up' && command !== 'validate') throw new UsageError('--allow-sum-mismatch goes with up and validate only.');
  if (values.env !== undefined && !values.env.trim()) throw new UsageError('--env takes an environment name: --env production');
  if (values.drop && command !== 'shadows') throw new UsageError('--drop goes with shadows only: migrations shadows --drop');
  if (command === 'shadows' && rest.length > 0) throw new UsageError('shadows takes no arguments: migrations shadows [--drop]');
  // An empty value is a mistake (an unset shell variable), never the default it would fall back to.
  if (values.dir !== undefined && !values.dir.trim()) throw new UsageError('--dir takes a folder: --dir path/to/workspace');
  if (values.db !== undefined && !values.db.trim()) throw new UsageError('--db takes a SQLite file or a database URL: --db data/app.sqlite3');
  if (values.source !== undefined && !values.source.trim()) throw new UsageError('--source takes a source: --source versions');
  if (command === 'rename-source' && rest.length !== 2) throw new UsageError('rename-source needs the old source id and the new folder: migrations rename-source versions db/versions');
  return {
    command: command as Command,
    positionals: rest,
    dir: values.dir !== undefined ? path.resolve(cwd, values.dir) : cwd,
    db: values.db ? dbArgument(values.db, cwd) : undefined,
    json: values.json,
    // 0 is a target for down (everything rolled back); the engine refuses it for up.
    to: values.to === undefined ? undefined : wholeNumber('--to', values.to, 0),
    all: values.all,
    source: values.source,
    js: values.js,
    force: values.force,
    drop: values.drop,
    outOfOrder: values['out-of-order'],
    notMoved: values['not-moved'],
    allowSumMismatch: values['allow-sum-mismatch'],
    env: values.env,
    tags,
    limit: values.limit === undefined ? undefined : wholeNumber('--limit', values.limit, 1),
    version: takesVersion || (mayTakeVersion && rest.length === 1) ? wholeNumber(command, rest[0], 1, 'a version, ') : undefined,
  };
}

/** A file path relative to the current folder (as a sqlite:/file: URL's path), a server URL as given (the engine checks it). */
function dbArgument(value: string, cwd: string): string {
  const file = /^(sqlite|file):(?:\/\/)?(.+)$/i.exec(value)?.[2];
  if (file !== undefined) return file.includes('?') ? value : path.resolve(cwd, file);
  return isDatabaseUrl(value) ? value : path.resolve(cwd, value);
}

function wholeNumber(flag: string, value: string, min: 0 | 1, what = ''): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`${flag} takes ${what}a whole number${min > 0 ? ` of ${min} or more` : ''} (got "${value}").`);
  }
  return Number(value);
}
