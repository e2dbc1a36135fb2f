import { SOURCE } from '../flags';
import { type CliCommand } from '../command';
import { count, formatCheck } from '../format';
import { optionalVersion } from './shared';

export const lint: CliCommand<{ source?: string; version?: number }> = {
  name: 'lint',
  usage: [['lint [V]', "check each pending migration's SQL (captured on a shadow database) for dangers"]],
  flags: [SOURCE],
  cancellable: true,
  args: (positionals, flags) => ({ source: flags.get(SOURCE), version: optionalVersion('lint', positionals) }),
  async run(engine, args, io) {
    const report = await engine.lint({ source: args.source, version: args.version, signal: io.signal });
    io.show(report, () =>
      formatCheck(report, 'lint', engine.workspace, () => {
        if (report.ok) return 'No lint errors.';
        // What was linted, and what was not and why: no "no errors" over migrations that never ran.
        const checked = report.migrations.filter((m) => m.outcome === 'checked');
        const failed = report.migrations.filter((m) => m.outcome === 'failed').length;
        const notRun = report.migrations.filter((m) => m.outcome === 'not-run').length;
        const errors = checked.flatMap((m) => m.lint).filter((f) => f.severity === 'error').length;
        const why = [failed > 0 ? `${failed} failed on the shadow` : '', notRun > 0 ? `${notRun} after a failed migration of the same source` : ''].filter(Boolean).join(', ');
        return `${errors > 0 ? count(errors, 'lint error') : 'No lint errors'} in ${count(checked.length, 'migration')}${failed + notRun > 0 ? `; ${failed + notRun} not linted (${why})` : ''}.`;
      }),
    );
    return report.ok ? 0 : 1;
  },
};
