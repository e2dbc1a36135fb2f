import { ConfigError, CorruptHistoryError } from '../model/errors';
import type { HistoryRow, LockHolder } from '../model/types';
import type { Operation } from './operation';

/** The history's rows in run order (the last `limit`). */
export const history: Operation<{ source?: string; limit?: number }, HistoryRow[]> = {
  name: 'history',
  args(raw) {
    const limit = raw.limit as number | undefined;
    // 0 would list everything: a limit is a count of rows, 1 or more.
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new ConfigError(`history: limit must be a whole number of 1 or more, not ${JSON.stringify(limit)}.`, {}, 'usage');
    return { source: raw.source as string | undefined, limit };
  },
  async run({ target }, opts) {
    return target.guard(async () => {
      const { rows, unreadable } = await target.snapshot({ source: opts.source });
      // A listing that left rows out would lie about the history.
      if (unreadable.length > 0) throw new CorruptHistoryError(target.label, unreadable.map((u) => u.text));
      return opts.limit !== undefined ? rows.slice(-opts.limit) : rows;
    });
  },
};

/** Who holds the migration lock, if anyone. */
export const lockHolder: Operation<Record<string, never>, LockHolder | undefined> = {
  name: 'lockHolder',
  args: () => ({}),
  async run({ target }) {
    return target.guard(async () => (await target.snapshot({ lock: true })).lock);
  },
};

/** Releases a stale lock, or any lock with `force`. */
export const unlock: Operation<{ force: boolean }, LockHolder | undefined> = {
  name: 'unlock',
  args: (raw) => ({ force: raw.force === true }),
  async run({ target, logger }, { force }) {
    return target.guard(async () => {
      if (!target.connections.read()) return undefined;
      const released = await target.lock(target.connections.write()).unlock(force);
      if (released) logger.info(`Released the migration lock held by ${released.holder} (pid ${released.pid}).`);
      return released;
    });
  },
};
