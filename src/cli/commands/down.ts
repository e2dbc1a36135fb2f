import { type CliCommand } from '../command';
import { ALL, SOURCE, TO } from '../flags';
import { finishRun, runOptions } from './shared';

export const down: CliCommand<{ source?: string; to?: number; all: boolean }> = {
  name: 'down',
  usage: [['down [--to V | --all]', 'roll back the last migration (down to V, which stays applied; or all)']],
  flags: [TO, ALL, SOURCE],
  cancellable: true,
  args: (_, flags) => ({ source: flags.get(SOURCE), to: flags.get(TO), all: flags.has(ALL) }),
  async run(engine, args, io) {
    const target = args.to !== undefined ? { to: args.to } : args.all ? { all: true as const } : { last: true as const };
    return finishRun(await engine.down({ ...runOptions(args.source, io), ...target }), 'roll back', io);
  },
};
