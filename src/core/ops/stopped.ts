import { releaseOwnLock } from '../database/lock';
import type { StoppedStep } from '../run/isolated';
import type { Operation } from './operation';

/**
 * Records a migration whose runner was ended mid-way (time-out, cancel) as failed. Its
 * transaction died with that runner; the lock it held is taken over as its holder is gone.
 * Run by the parent of the runner, or by the helper a CLI leaves when it had to end its whole
 * process (runner.ts).
 */
export const recordStopped: Operation<StoppedStep, void> = {
  name: 'recordStopped',
  args: (raw) => ({ ...(raw as unknown as StoppedStep), startedAt: new Date((raw as unknown as StoppedStep).startedAt) }),
  async run(ctx, stopped) {
    const { target } = ctx;
    await target.guard(async () => {
      // A runner thread's lock row carries this process's pid, so it looks alive; the thread is gone.
      // (A server's lock went with the thread's connection.)
      if (ctx.isolate?.thread && !target.dialect.server) await releaseOwnLock(target.lock(target.connections.write()));
      await target.underLock(async (_knex, history) => {
        const { step, info } = stopped;
        // The marker the stopped runner committed before the migration's first statement, if it had one
        // (then it is the migration's newest row): the outcome replaces it.
        const newest = (await history.rows(step.source)).filter((r) => r.version === step.version).pop();
        const marker = newest?.running && newest.direction === step.direction ? newest : undefined;
        const startedAt = marker ? new Date(marker.startedAt) : stopped.startedAt;
        const row = {
          source: step.source, version: step.version, description: step.description, checksum: info.checksum, direction: step.direction,
          startedAt: marker?.startedAt ?? startedAt.toISOString(), finishedAt: new Date().toISOString(), durationMs: Date.now() - startedAt.valueOf(),
          success: false, error: stopped.error, transactional: info.transactional, partial: stopped.partial,
        };
        await (marker ? history.finish(row) : history.append(row));
      });
    });
  },
};
