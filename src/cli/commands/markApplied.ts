import { UsageError, type CliCommand } from '../command';
import { SOURCE, TO } from '../flags';
import { versionArgument } from './shared';

/** One version, or (`--to V` alone) every pending one up to V: a baseline. */
type Args = { source?: string } & ({ version: number } | { to: number });

export const markApplied: CliCommand<Args> = {
  name: 'mark-applied',
  usage: [
    ['mark-applied <V>', 'record V as applied without running it (after a repair by hand)'],
    ['mark-applied --to <V>', 'record every pending migration up to V as applied, running none (a baseline)'],
  ],
  flags: [SOURCE, TO],
  args(positionals, flags) {
    const source = flags.get(SOURCE);
    const to = flags.get(TO);
    if (to !== undefined && positionals.length === 0) return { source, to };
    if (positionals.length !== 1) throw new UsageError('mark-applied needs one version: migrations mark-applied 3 [--source versions] (or --to 3 for every pending one up to 3)');
    if (to !== undefined) throw new UsageError('mark-applied takes a version or --to, not both: migrations mark-applied 3, or migrations mark-applied --to 3');
    return { source, version: versionArgument('mark-applied', positionals[0]) };
  },
  async run(engine, args, io) {
    if ('to' in args) {
      const marked = await engine.markAppliedUpTo({ source: args.source, to: args.to });
      const many = marked.versions.length > 1;
      io.show(marked, () =>
        marked.versions.length === 0
          ? `Every migration up to ${marked.to} in ${marked.source} is already applied; nothing was recorded.`
          : `Migration${many ? 's' : ''} ${marked.versions.join(', ')} (${marked.source}) ${many ? 'are' : 'is'} now recorded as applied. Nothing was run.`,
      );
      return 0;
    }
    const result = await engine.markApplied({ source: args.source, version: args.version });
    const which = `Migration ${result.version} (${result.source})`;
    io.show(result, () => (result.recorded ? `${which} is now recorded as applied (status ${result.status}). Nothing was run.` : `${which} is already applied (status ${result.status}); nothing was recorded.`));
    return 0;
  },
};
