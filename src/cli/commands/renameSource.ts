import { UsageError, type CliCommand } from '../command';

export const renameSource: CliCommand<{ from: string; to: string }> = {
  name: 'rename-source',
  usage: [['rename-source <OLD> <NEW>', 'move the history of a source whose folder moved to its new folder']],
  flags: [],
  args(positionals) {
    if (positionals.length !== 2) throw new UsageError('rename-source needs the old source id and the new folder: migrations rename-source versions db/versions');
    return { from: positionals[0], to: positionals[1] };
  },
  async run(engine, args, io) {
    const moved = await engine.renameSource(args.from, args.to);
    io.show(moved, () => `Moved the history of ${moved.from} to ${moved.to}: migration(s) ${moved.versions.join(', ')} are applied there. Nothing was run.`);
    return 0;
  },
};
