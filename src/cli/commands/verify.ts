import { SOURCE } from '../flags';
import { type CliCommand } from '../command';
import { count, formatCheck } from '../format';
import { optionalVersion } from './shared';

export const verify: CliCommand<{ source?: string; version?: number }> = {
  name: 'verify',
  usage: [['verify [V]', 'prove each pending migration (or V) reversible on a shadow database: up, down, up']],
  flags: [SOURCE],
  cancellable: true,
  args: (positionals, flags) => ({ source: flags.get(SOURCE), version: optionalVersion('verify', positionals) }),
  async run(engine, args, io) {
    const report = await engine.verify({ source: args.source, version: args.version, signal: io.signal });
    io.show(report, () =>
      formatCheck(report, 'verify', engine.workspace, () => {
        if (report.ok) return 'Every migration is reversible.';
        const reversible = report.migrations.filter((m) => m.outcome === 'reversible').length;
        const notRun = report.migrations.filter((m) => m.outcome === 'not-run').length;
        return `${reversible} of ${count(report.migrations.length - notRun, 'migration')} reversible${notRun > 0 ? `; ${notRun} not verified (after a failed migration of the same source)` : ''}.`;
      }),
    );
    return report.ok ? 0 : 1;
  },
};
