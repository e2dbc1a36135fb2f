import { booleanFlag, type CliCommand } from '../command';

const FORCE = booleanFlag('force');

export const unlock: CliCommand<{ force: boolean }> = {
  name: 'unlock',
  usage: [['unlock [--force]', 'release a stale lock (--force: any lock)']],
  flags: [FORCE],
  args: (_, flags) => ({ force: flags.has(FORCE) }),
  async run(engine, args, io) {
    const released = await engine.unlock(args.force);
    io.show({ released: released ?? null }, () => (released ? `Released the lock held by ${released.holder} (pid ${released.pid} on ${released.host}).` : 'The database is not locked.'));
    return 0;
  },
};
