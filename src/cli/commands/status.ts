import { elsewhereLabel, needsRepair, SUM_CODES, type StatusReport } from '../../core';
import { type CliCommand } from '../command';
import { SOURCE } from '../flags';
import { formatProblems, table } from '../format';
import { CLI_TERMS } from '../terms';

export const status: CliCommand<{ source?: string }> = {
  name: 'status',
  usage: [['status', 'list every migration with its status']],
  flags: [SOURCE],
  args: (_, flags) => ({ source: flags.get(SOURCE) }),
  async run(engine, args, io) {
    const report = await engine.status(args.source);
    io.show(report, () => formatStatus(report, engine.workspace));
    // A file that cannot run, or files that differ from their migrations.sum (which block up), fail the status.
    const sumProblem = (p: { code: string }) => SUM_CODES.includes(p.code as never);
    return report.sources.some((s) => s.problems.some(sumProblem) || s.migrations.some((m) => m.status === 'invalid' || m.problems.some(sumProblem))) ? 1 : 0;
  },
};

function formatStatus(report: StatusReport, workspace: string): string {
  const lines = [`Database: ${report.database}`];
  if (report.lock?.stale) lines.push(`Stale lock left by ${report.lock.holder} (pid ${report.lock.pid} on ${report.lock.host}, gone): the next run takes it over, or run "migrations unlock".`);
  else if (report.lock) lines.push(`Locked by ${report.lock.holder} (pid ${report.lock.pid} on ${report.lock.host}) since ${report.lock.acquiredAt}`);
  if (report.sources.length === 0) lines.push('No migrations found (no versions/ folder with migration_<version>_<name>.ts files).');
  for (const source of report.sources) {
    lines.push('', `Source ${source.id}${source.elsewhere ? ` (${elsewhereLabel(source.elsewhere)})` : ''}`);
    const rows = source.migrations.map((m) => [String(m.version).padStart(3, '0'), m.status, m.description, m.appliedAt ?? '']);
    lines.push(...table(['VERSION', 'STATUS', 'DESCRIPTION', 'APPLIED AT'], rows).map((l) => '  ' + l));
    // Its error says what ran, what was not rolled back and how to record the repair.
    const halfDone = source.migrations.filter(needsRepair);
    for (const m of halfDone) {
      lines.push('', `  ${(m.lastError ?? `Migration ${m.version} failed part-way.`).split('\n')[0]}`);
      lines.push(`  Once repaired, ${CLI_TERMS({ do: 'mark-applied', source: source.id, version: m.version })} (its change is in place) or ${CLI_TERMS({ do: 'forget', source: source.id, version: m.version }).replace(/^run /, '')} (it is undone).`);
    }
    const problems = [...source.problems, ...source.migrations.flatMap((m) => m.problems)];
    if (problems.length > 0) lines.push('', ...formatProblems(problems, workspace).map((l) => '  ' + l));
  }
  return lines.join('\n');
}
