import { sqlPreviewText } from '../../core';
import { UsageError, type CliCommand } from '../command';
import { ALL, SOURCE, TO } from '../flags';

export const sql: CliCommand<{ direction: 'up' | 'down'; source?: string; to?: number; all: boolean }> = {
  name: 'sql',
  usage: [['sql up|down [--to V] [--all]', 'print the SQL a run would execute, changing nothing']],
  flags: [TO, ALL, SOURCE],
  args(positionals, flags) {
    const direction = positionals[0];
    if (direction !== 'up' && direction !== 'down') throw new UsageError('sql needs a direction: migrations sql up|down [--to V] [--all]');
    return { direction, source: flags.get(SOURCE), to: flags.get(TO), all: flags.has(ALL) };
  },
  async run(engine, args, io) {
    const report = await engine.sql(args.direction, { source: args.source, to: args.to, all: args.all });
    io.show(report, () => sqlPreviewText(report.steps));
    return 0;
  },
};
