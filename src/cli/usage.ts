import { commandFlags, type CliCommand, type Flag } from './command';
import { COMMANDS } from './commands';
import { OUTPUT_FLAGS, SETTING_FLAGS } from './flags';

/** `migrations --help`: every registered command's lines, then the flags that have a help line. */
export function usage(commands: readonly CliCommand[] = COMMANDS): string {
  const takers = (flag: Flag) => commands.filter((c) => c.flags.includes(flag)).map((c) => c.name);
  const options = [...SETTING_FLAGS, ...commandFlags(commands), ...OUTPUT_FLAGS].flatMap((flag) => {
    if (!flag.help) return [];
    // A flag refused elsewhere says where it goes.
    return entry(flag.help[0], `${flag.onlyWithItsCommands ? `${takers(flag).join(', ')}: ` : ''}${flag.help[1]}`);
  });
  return [
    'Usage: migrations <command> [options]',
    '',
    'Commands:',
    ...commands.flatMap((c) => c.usage.flatMap(([synopsis, summary]) => entry(synopsis, summary))),
    '',
    'Options:',
    ...options,
    '',
    'Exit codes: 0 success, 1 failed operation or invalid migration file, 2 usage error.',
  ].join('\n');
}

/** What it is typed as, then what it does from column 26; a long one pushes its text along, the text's further lines start at column 26. */
function entry(label: string, summary: string): string[] {
  const [first, ...more] = summary.split('\n');
  return [`  ${label.length <= 21 ? label.padEnd(23) : `${label}   `}${first}`, ...more.map((line) => `${' '.repeat(25)}${line}`)];
}
