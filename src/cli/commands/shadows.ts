import { type ShadowsReport, type TemporaryShadow } from '../../core';
import { booleanFlag, UsageError, type CliCommand } from '../command';

const DROP = booleanFlag('drop', { onlyWithItsCommands: true });

export const shadows: CliCommand<{ drop: boolean }> = {
  name: 'shadows',
  usage: [['shadows [--drop]', 'list the temporary shadow databases that stopped checks left on the server\n(--drop: drop those not in use by a check running on this machine)']],
  flags: [DROP],
  args(positionals, flags) {
    if (positionals.length > 0) throw new UsageError('shadows takes no arguments: migrations shadows [--drop]');
    return { drop: flags.has(DROP) };
  },
  async run(engine, args, io) {
    const report = await engine.shadows({ drop: args.drop });
    io.show(report, () => formatShadows(report, args.drop));
    // A shadow kept because it is in use or not ours is no failure; one that could not be dropped is.
    return report.shadows.some((s) => s.failed) ? 1 : 0;
  },
};

/** One line per temporary shadow database; with `--drop`, what became of each. */
function formatShadows(report: ShadowsReport, drop: boolean): string {
  if (!report.server) return 'SQLite checks use a database in memory: there are no shadow databases to list.';
  if (report.shadows.length === 0) return `No temporary shadow databases on ${report.database}.`;
  if (drop) return report.shadows.map((s) => (s.dropped ? `Dropped ${s.name}.` : `Kept ${s.name}: ${s.kept}.`)).join('\n');
  const lines = report.shadows.map((s) => `  ${s.name}: ${madeBy(s)}; ${RUN[s.run]}.`);
  const droppable = report.shadows.filter((s) => s.run !== 'running').length;
  return [`Temporary shadow databases on ${report.database}:`, ...lines, ...(droppable > 0 ? [`"migrations shadows --drop" drops the ${droppable} not in use by a check running on this machine.`] : [])].join('\n');
}

function madeBy(s: TemporaryShadow): string {
  const where = s.host === 'this' ? 'on this machine' : s.host === 'other' ? 'on another machine' : '(named by an earlier version, without its machine)';
  return `made by pid ${s.pid} ${where}${s.createdAt ? ` at ${s.createdAt}` : ''}`;
}

const RUN: Record<TemporaryShadow['run'], string> = {
  running: 'that check is still running',
  gone: 'that run is gone',
  unknown: 'whether that run is still going cannot be told from here',
};
