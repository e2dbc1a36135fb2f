import { type CliCommand } from '../command';
import { SOURCE } from '../flags';
import { finishRun, runOptions } from './shared';

export const redo: CliCommand<{ source?: string }> = {
  name: 'redo',
  usage: [['redo', 'roll back the last migration and apply it again']],
  flags: [SOURCE],
  cancellable: true,
  args: (_, flags) => ({ source: flags.get(SOURCE) }),
  run: async (engine, args, io) => finishRun(await engine.redo(runOptions(args.source, io)), 'redo', io),
};
