import * as path from 'node:path';
import { stringFlag, UsageError, type CliCommand } from '../command';

const OUT = stringFlag('out', (raw) => {
  if (!raw.trim()) throw new UsageError('--out takes a file (docs/migrations.md), or - for the terminal');
  return raw;
}, { onlyWithItsCommands: 'names the file docs writes' });

export const docs: CliCommand<{ out: string }> = {
  name: 'docs',
  usage: [['docs [--out <file>]', 'write each migration, its status and schema effect, and an ER diagram as Markdown\n(default: docs/migrations.md; --out - prints it)']],
  flags: [OUT],
  cancellable: true,
  args: (_positionals, flags) => ({ out: flags.get(OUT) ?? 'docs/migrations.md' }),
  async run(engine, args, io) {
    const toTerminal = args.out === '-';
    const report = await engine.docs({ out: toTerminal ? undefined : path.resolve(engine.workspace, args.out), signal: io.signal });
    io.show(report, () => (toTerminal ? report.text : `Wrote ${path.relative(engine.workspace, report.path!)}`));
    return 0;
  },
};
