import { isStale } from '../database/lock';
import { HistorySnapshot } from '../model/history';
import { movedMatches, movedProblem } from '../model/repair';
import { elsewhereSources, type Elsewhere } from '../model/elsewhere';
import { checkSum } from '../sources/integrity';
import type { SourceState } from '../model/plan';
import type { LockHolder, Problem } from '../model/types';
import type { Operation } from './operation';

export interface StatusReport {
  readonly database: string;
  readonly sources: readonly {
    id: string;
    dir: string;
    migrations: SourceState['states'];
    problems: readonly Problem[];
    /** The version applied last (by apply order): what Redo and Roll Back Last act on in this source. */
    lastApplied?: number;
    /** A source no folder holds any more whose applied history these files match: the folder moved (see renameSource). */
    movedFrom?: string;
    /** Set for a source of the history that nothing here can load (its migrations are listed from the history): why. */
    elsewhere?: Elsewhere;
  }[];
  /** `stale`: its holder is gone (a killed run); the next run takes it over, `unlock` releases it. */
  readonly lock?: LockHolder & { readonly stale: boolean };
}

/** Files joined with history. Opens SQLite read-only: no table or file is created. */
export const status: Operation<{ source?: string }, StatusReport> = {
  name: 'status',
  args: (raw) => ({ source: raw.source as string | undefined }),
  async run(ctx, { source: only }) {
    const { target, sources: { settings } } = ctx;
    const all = ctx.sources.sources();
    const sources = only === undefined ? all : ctx.sources.sources(only);
    return target.guard(async () => {
      const { rows, unreadable, lock } = await target.snapshot({ lock: true });
      const history = new HistorySnapshot(rows, unreadable);
      const moved = movedMatches(sources, all, history);
      // Every source of the history is listed, those nothing here can load from the history alone;
      // one whose whole history a folder here matches is said on that folder (moved-source) instead.
      const elsewhere = only === undefined ? elsewhereSources(all, history).filter((e) => !moved.some((m) => m.complete && m.from === e.source.id)) : [];
      return {
        database: target.label,
        sources: [...history.states(sources, settings.environment).map(({ source: s, states }) => {
          const mine = moved.filter((m) => m.to === s);
          // Offered as a rename (the editor's Move History) only when the whole history would move.
          const movedFrom = mine.find((m) => m.complete)?.from;
          // migrations.sum: a file added or edited behind its back is that file's problem, the rest the source's.
          const sum = s.dir ? checkSum(s.dir, s.migrations) : [];
          const migrations = sum.length === 0 ? states : states.map((m) => {
            const own = sum.filter((p) => p.file === m.path);
            return own.length > 0 ? { ...m, problems: [...m.problems, ...own] } : m;
          });
          const onFiles = new Set(states.map((m) => m.path));
          const problems = [...s.problems, ...history.problemsOf(s), ...mine.map(movedProblem), ...sum.filter((p) => !onFiles.has(p.file))];
          return { id: s.id, dir: s.dir, migrations, problems, lastApplied: history.lastApplied(migrations), movedFrom };
        }), ...elsewhere.map(({ source, why }) => {
          // Registered in code, a migration has no file to miss: it is applied, only not loadable here.
          const migrations = history.states([source])[0].states.map((m) => (why === 'code' ? { ...m, status: 'applied' as const } : m));
          return { id: source.id, dir: '', migrations, problems: [], lastApplied: history.lastApplied(migrations), elsewhere: why };
        })],
        lock: lock && {
          holder: lock.holder, host: lock.host, pid: lock.pid, acquiredAt: lock.acquiredAt, heartbeat: lock.heartbeat, stale: isStale(lock, settings.staleLockMs),
        },
      };
    });
  },
};
