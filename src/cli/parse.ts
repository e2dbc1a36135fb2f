import { parseArgs } from 'node:util';
import { commandFlags, GivenFlags, UsageError, type CliCommand, type Flag } from './command';
import { COMMANDS } from './commands';
import { DB, DIR, ENV, JSON_OUTPUT, OUTPUT_FLAGS, SETTING_FLAGS } from './flags';

/** A command line understood: the command, its checked arguments, and the global flags. */
export interface Invocation {
  readonly command: CliCommand;
  readonly args: unknown;
  /** The workspace (`--dir`, else the current folder). */
  readonly dir: string;
  readonly db?: string;
  readonly env?: string;
  readonly json: boolean;
}

/** Reads a command line; 'help' for `--help`, `help` or nothing. A UsageError when it is wrong. */
export function parseCli(argv: readonly string[], cwd: string, commands: readonly CliCommand[] = COMMANDS): Invocation | 'help' {
  // Every command's flags are known to every command: one it does not take is ignored, unless the flag says otherwise.
  const flags: Flag[] = [...new Set([...SETTING_FLAGS, ...OUTPUT_FLAGS, ...commandFlags(commands)])];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(flags.map((f) => [f.name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }])),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  if (values.help || positionals.length === 0 || positionals[0] === 'help') return 'help';
  const [name, ...rest] = positionals;
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`Unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}.`);
  const given = flags.filter((f) => values[f.name] !== undefined);
  for (const flag of given) {
    if (flag.notWith !== undefined && values[flag.notWith] !== undefined) throw new UsageError(`--${flag.notWith} and --${flag.name} cannot be used together.`);
    if (flag.onlyWithItsCommands && !command.flags.includes(flag)) {
      const takers = commands.filter((c) => c.flags.includes(flag)).map((c) => c.name);
      const purpose = typeof flag.onlyWithItsCommands === 'string' ? ` ${flag.onlyWithItsCommands}; it` : '';
      throw new UsageError(`--${flag.name}${purpose} goes with ${takers.slice(0, -1).join(', ')}${takers.length > 1 ? ' and ' : ''}${takers.at(-1)} only.`);
    }
  }
  const checked = new GivenFlags(new Map(given.map((f) => [f.name, f.value(values[f.name]!, cwd)])));
  return { command, args: command.args(rest, checked), dir: checked.get(DIR) ?? cwd, db: checked.get(DB), env: checked.get(ENV), json: checked.has(JSON_OUTPUT) };
}
