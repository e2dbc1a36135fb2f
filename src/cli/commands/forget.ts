import { UsageError, type CliCommand } from '../command';
import { SOURCE, TO } from '../flags';
import { versionArgument } from './shared';

export const forget: CliCommand<{ source?: string; version: number }> = {
  name: 'forget',
  usage: [['forget <V>', 'record V as not applied without running it (it is pending again)']],
  flags: [SOURCE],
  args(positionals, flags) {
    if (positionals.length !== 1) throw new UsageError('forget needs one version: migrations forget 3 [--source versions]');
    // --to is mark-applied's; here it would read as "forget up to", which there is not.
    if (flags.get(TO) !== undefined) throw new UsageError('forget takes a version or --to, not both: migrations forget 3');
    return { source: flags.get(SOURCE), version: versionArgument('forget', positionals[0]) };
  },
  async run(engine, args, io) {
    const result = await engine.forget({ source: args.source, version: args.version });
    const which = `Migration ${result.version} (${result.source})`;
    io.show(result, () => (result.recorded ? `${which} is now recorded as not applied (status ${result.status}). Nothing was run.` : `${which} is already not applied (status ${result.status}); nothing was recorded.`));
    return 0;
  },
};
