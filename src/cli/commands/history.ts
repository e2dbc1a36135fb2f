import { historyOutcome, type HistoryRow } from '../../core';
import { stringFlag, wholeNumber, type CliCommand } from '../command';
import { SOURCE } from '../flags';
import { table } from '../format';

const LIMIT = stringFlag('limit', (raw) => wholeNumber('--limit', raw, 1));

export const history: CliCommand<{ source?: string; limit?: number }> = {
  name: 'history',
  usage: [['history [--limit N]', 'show the run history']],
  flags: [SOURCE, LIMIT],
  args: (_, flags) => ({ source: flags.get(SOURCE), limit: flags.get(LIMIT) }),
  async run(engine, args, io) {
    const rows = await engine.history({ source: args.source, limit: args.limit });
    io.show(rows, () => formatHistory(rows));
    return 0;
  },
};

function formatHistory(rows: readonly HistoryRow[]): string {
  if (rows.length === 0) return 'No history yet.';
  return table(
    ['ID', 'STARTED AT', 'SOURCE', 'VERSION', 'DIR', 'MS', 'RESULT', 'ERROR'],
    rows.map((r) => [String(r.id), r.startedAt, r.source, String(r.version), r.direction, String(r.durationMs), historyOutcome(r), (r.error ?? '').split('\n')[0]]),
  ).join('\n');
}
