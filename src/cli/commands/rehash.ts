import * as path from 'node:path';
import { type CliCommand } from '../command';
import { SOURCE } from '../flags';

export const rehash: CliCommand<{ source?: string }> = {
  name: 'rehash',
  usage: [['rehash', "rewrite each source's migrations.sum from its migration files"]],
  flags: [SOURCE],
  args: (_, flags) => ({ source: flags.get(SOURCE) }),
  async run(engine, args, io) {
    const written = engine.rehash(args.source);
    io.show(written, () => (written.length === 0 ? 'No migration folder to hash.' : written.map((w) => `${w.changed ? 'Rewrote' : 'Unchanged:'} ${path.relative(engine.workspace, w.path)}`).join('\n')));
    return 0;
  },
};
