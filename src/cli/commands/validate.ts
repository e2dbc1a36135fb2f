import { type CliCommand } from '../command';
import { ALLOW_SUM_MISMATCH, SOURCE } from '../flags';
import { formatProblems } from '../format';

export const validate: CliCommand<{ source?: string; allowSumMismatch: boolean }> = {
  name: 'validate',
  usage: [['validate', 'check every migration file (loads them)']],
  flags: [SOURCE, ALLOW_SUM_MISMATCH],
  args: (_, flags) => ({ source: flags.get(SOURCE), allowSumMismatch: flags.has(ALLOW_SUM_MISMATCH) }),
  async run(engine, args, io) {
    const problems = await engine.validate(args.source, { allowSumMismatch: args.allowSumMismatch });
    const errors = problems.filter((p) => p.severity === 'error').length;
    io.show({ ok: errors === 0, problems }, () =>
      problems.length === 0 ? 'All migration files are valid.' : [...formatProblems(problems, engine.workspace), `${errors} error(s), ${problems.length - errors} warning(s).`].join('\n'),
    );
    return errors > 0 ? 1 : 0;
  },
};
