import { ConfigError } from '../model/errors';
import { HistorySnapshot } from '../model/history';
import { requireOneSource } from '../model/plan';
import { baselineRows, manualRow, renameRows } from '../model/repair';
import type { Direction, MigrationStatus, NewHistoryRow } from '../model/types';
import { checkOptions, refuseUnreadable, type OpContext, type Operation } from './operation';

/** What `markApplied` or `forget` did. */
export interface RecordReport {
  readonly source: string;
  readonly version: number;
  /** False when the history already said so: nothing was written. */
  readonly recorded: boolean;
  /** The migration's status afterwards. */
  readonly status: MigrationStatus;
}

type One = { source?: string; version: number };

/** Appends a hand-made history row (mark-applied: up, forget: down) under the lock; nothing is run. */
function record(name: string, direction: Direction): Operation<One, RecordReport> {
  return {
    name,
    args: (raw) => ({ source: raw.source as string | undefined, version: raw.version as number }),
    async run(ctx, opts) {
      const { target } = ctx;
      const sources = ctx.sources.sources(opts.source);
      return target.guard(async () => {
        // Decided on a read first, so that a request with nothing to do creates no database.
        const first = manualRow(direction, sources, refuseUnreadable(await target.read(), target.label), opts.version);
        if (!first.row) return { source: first.source.id, version: opts.version, recorded: false, status: first.state.status };
        return target.underLock(async (_knex, history) => {
          const { source, row } = manualRow(direction, sources, refuseUnreadable(await target.read(), target.label), opts.version);
          if (row) {
            await history.append(row);
            // Info, not a warning: the caller says it once (a warning would print it again in the terminal).
            ctx.logger.info(`${direction === 'up' ? 'Marked' : 'Forgot'} migration ${opts.version} (${source.id}) ${direction === 'up' ? 'as applied' : '(now not applied)'} by hand; nothing was run.`);
          }
          // A forgotten migration whose file is gone drops out of the list: it is as good as never applied.
          const state = new HistorySnapshot(await history.rows()).states([source])[0].states.find((m) => m.version === opts.version);
          return { source: source.id, version: opts.version, recorded: row !== undefined, status: state?.status ?? 'pending' };
        });
      });
    },
  };
}

/**
 * Records `version` as applied without running it: a baseline for a database whose schema
 * already has it, or the end of a repair by hand. The checksum of the file as it is now is kept.
 */
export const markApplied = record('markApplied', 'up');

/** Records `version` as not applied without running it (after undoing it by hand): it is pending again. */
export const forget = record('forget', 'down');

/**
 * Every migration of the source up to `to` that is not applied, recorded as applied without
 * running any, in one step (Flyway's baseline).
 */
export const markAppliedUpTo: Operation<{ source?: string; to: number }, { source: string; to: number; versions: number[] }> = {
  name: 'markAppliedUpTo',
  args(raw) {
    checkOptions('markAppliedUpTo', raw, ['source', 'to']);
    const to = raw.to as number;
    if (!Number.isSafeInteger(to) || to < 1) throw new ConfigError(`markAppliedUpTo: to must be a version (a whole number of 1 or more), not ${JSON.stringify(to)}.`, {}, 'usage');
    return { source: raw.source as string | undefined, to };
  },
  async run(ctx, opts) {
    const sources = ctx.sources.sources(opts.source);
    requireOneSource(sources.map((source) => ({ source, states: [] })), 'Marking migrations applied up to a version');
    const [source] = sources;
    const { environment } = ctx.sources.settings;
    // All or nothing: a baseline half recorded would leave the rest out of order.
    const versions = (await appendByHand(ctx, (history) => baselineRows(source, history, opts.to, environment))).map((r) => r.version);
    if (versions.length > 0) ctx.logger.info(`Marked migration(s) ${versions.join(', ')} (${source.id}) as applied by hand; nothing was run.`);
    return { source: source.id, to: opts.to, versions };
  },
};

/**
 * Moves the applied history of source `from` (a folder moved or renamed) to the folder source
 * `to`, whose files must match it by version and checksum: rows recorded by hand, nothing run.
 */
export const renameSource: Operation<{ from: string; to: string }, { from: string; to: string; versions: number[] }> = {
  name: 'renameSource',
  args: (raw) => ({ from: raw.from as string, to: raw.to as string }),
  async run(ctx, { from, to }) {
    const [target] = ctx.sources.sources(to);
    if (target.dir === '') throw new ConfigError(`"${to}" is not a folder source.`, { source: to }, 'usage');
    if (ctx.sources.sources().some((s) => s.id === from)) throw new ConfigError(`"${from}" is still a folder here; only the history of a source no folder holds any more can move.`, { source: from }, 'usage');
    // All or nothing: a history half moved would show some migrations pending in both places.
    const rows = await appendByHand(ctx, (history) => renameRows(from, target, history));
    const versions = rows.filter((r) => r.direction === 'up').map((r) => r.version);
    ctx.logger.info(`Moved the history of ${from} to ${target.id} (migrations ${versions.join(', ')}); nothing was run.`);
    return { from, to: target.id, versions };
  },
};

/**
 * Rows recorded by hand, nothing run (a baseline, a moved history): decided on a read first, so
 * that a refused request or one with nothing to record creates no database, then again under the
 * lock, and appended all or nothing. Refused while the history holds rows we did not write.
 */
async function appendByHand(ctx: OpContext, rowsOf: (history: HistorySnapshot) => NewHistoryRow[]): Promise<NewHistoryRow[]> {
  const { target } = ctx;
  return target.guard(async () => {
    if (rowsOf(refuseUnreadable(await target.read(), target.label)).length === 0) return [];
    return target.underLock(async (knex, history) => {
      const rows = rowsOf(refuseUnreadable(await target.read(), target.label));
      await knex.transaction(async (trx) => {
        for (const row of rows) await history.append(row, trx);
      });
      return rows;
    });
  });
}
