import type { MigrationEngine } from '../core';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** A command-line flag: how it is typed, what it is for, and how its value is checked. */
export interface Flag<T = unknown> {
  /** As typed after `--`. */
  readonly name: string;
  readonly short?: string;
  readonly type: 'boolean' | 'string';
  /** Repeatable: its values arrive as a list. */
  readonly multiple?: boolean;
  /** Its entry under Options in `--help`: the flag as typed, then what it does (a further line after '\n'). Without one it shows in its commands' lines only. */
  readonly help?: readonly [flag: string, summary: string];
  /**
   * With a command that does not take it, refused rather than ignored; a string says what it is for
   * ("selects what up runs"). Its help line is led by the commands that take it. Flags without it
   * are ignored where they mean nothing, as they always were.
   */
  readonly onlyWithItsCommands?: true | string;
  /** Another flag it cannot be given with. */
  readonly notWith?: string;
  /** The value given, checked (a UsageError if it is none) and made what the command wants. */
  value(raw: string | boolean | string[], cwd: string): T;
}

/** A flag that is on or off. */
export function booleanFlag(name: string, more: Partial<Pick<Flag, 'short' | 'help' | 'onlyWithItsCommands' | 'notWith'>> = {}): Flag<boolean> {
  return { name, type: 'boolean', ...more, value: (raw) => raw === true };
}

/** A flag with a value, `check`ed into what the command wants. */
export function stringFlag<T = string>(name: string, check: (raw: string, cwd: string) => T, more: Partial<Pick<Flag, 'help' | 'onlyWithItsCommands' | 'notWith'>> = {}): Flag<T> {
  return { name, type: 'string', ...more, value: (raw, cwd) => check(raw as string, cwd) };
}

/** A repeatable flag with a value, its values `check`ed together. */
export function stringsFlag<T>(name: string, check: (raw: string[]) => T, more: Partial<Pick<Flag, 'help' | 'onlyWithItsCommands' | 'notWith'>> = {}): Flag<T> {
  return { name, type: 'string', multiple: true, ...more, value: (raw) => check(raw as string[]) };
}

/** The flags given on the command line, each checked by its Flag. */
export class GivenFlags {
  constructor(private readonly values: ReadonlyMap<string, unknown>) {}

  get<T>(flag: Flag<T>): T | undefined {
    return this.values.get(flag.name) as T | undefined;
  }

  has(flag: Flag<boolean>): boolean {
    return this.values.get(flag.name) === true;
  }
}

/** Where a command writes, and what it was started with besides its own arguments. */
export interface CommandIo {
  /** `--json`: one JSON value on stdout instead of text. */
  readonly json: boolean;
  /** Prints `value` as JSON with `--json`, else `text()`. */
  show(value: unknown, text: () => string): void;
  /** The terminal's stderr, for progress. */
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Ctrl-C, for the commands that are cancellable. */
  readonly signal?: AbortSignal;
  /** Asks the person at the terminal; unset when nobody can answer (a pipe, CI, `--json`). */
  readonly ask?: (question: string) => Promise<string>;
}

/** One CLI command, in a file of its own under commands/ and registered in their index. */
export interface CliCommand<A = unknown> {
  readonly name: string;
  /** Its lines in `migrations --help`: how it is typed, then what it does (a further line after '\n'). */
  readonly usage: readonly (readonly [synopsis: string, summary: string])[];
  /** The flags it takes, besides the global ones (--dir, --db, --env, --json). */
  readonly flags: readonly Flag[];
  /** Ctrl-C stops it cleanly (its work rolled back, the lock freed) rather than killing it. */
  readonly cancellable?: boolean;
  /** Its arguments from the command line, checked before anything runs: a UsageError when they are wrong. */
  args(positionals: readonly string[], flags: GivenFlags): A;
  /** Runs it; the exit code (0 ok, 1 failed). */
  run(engine: MigrationEngine, args: A, io: CommandIo): Promise<number>;
}

/** The flags the commands take, each once, in the order they first appear. */
export function commandFlags(commands: readonly CliCommand[]): Flag[] {
  return [...new Set(commands.flatMap((c) => c.flags))];
}

/** `value` as a whole number of at least `min`, else a usage error naming `what` was given. */
export function wholeNumber(flag: string, value: string, min: 0 | 1, what = ''): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`${flag} takes ${what}a whole number${min > 0 ? ` of ${min} or more` : ''} (got "${value}").`);
  }
  return Number(value);
}
