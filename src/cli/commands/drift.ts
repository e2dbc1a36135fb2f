import { type CliCommand } from '../command';

export const drift: CliCommand<undefined> = {
  name: 'drift',
  usage: [['drift', "compare the database's schema with the applied migrations replayed on a shadow"]],
  flags: [],
  cancellable: true,
  args: () => undefined,
  async run(engine, _, io) {
    const report = await engine.drift({ signal: io.signal });
    io.show(report, () =>
      report.drifted
        ? [`The database differs from its applied migrations (replayed on ${report.shadow}):`, ...report.changes.map((c) => `  ${c.summary}`)].join('\n')
        : `No drift: the database's schema is what its applied migrations make (replayed on ${report.shadow}).`,
    );
    return report.drifted ? 1 : 0;
  },
};
