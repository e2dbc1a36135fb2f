import { MigrationsError } from './errors';
import type { HistorySnapshot } from './history';
import type { Source } from './types';

// Sources the history holds applied migrations of, which nothing here can load: migrations an
// app registered in code (its rows carry no checksum), or a folder that is gone. They are listed
// (from the history alone) so a status is never silent about them, and rollbacks never reach past them.

/** Why a source of the history cannot be loaded here. */
export type Elsewhere = 'code' | 'folder';

/** Each source with applied history that none of `held` is, as an empty source and why it is absent. */
export function elsewhereSources(held: readonly Source[], history: HistorySnapshot): { source: Source; why: Elsewhere }[] {
  const ids = new Set(held.map((s) => s.id));
  const found = new Map<string, Elsewhere>();
  for (const a of history.applied.values()) {
    if (!a.up || ids.has(a.up.source)) continue;
    // One row from a file (a checksum) makes it a folder that is gone.
    if (a.up.checksum || found.get(a.up.source) !== 'folder') found.set(a.up.source, a.up.checksum ? 'folder' : 'code');
  }
  return [...found].sort(([a], [b]) => a.localeCompare(b)).map(([id, why]) => ({ source: { id, dir: '', migrations: [], problems: [] }, why }));
}

/** How a status and the tree say it. */
export function elsewhereLabel(why: Elsewhere): string {
  return why === 'code' ? 'registered by the app in code; not loadable here' : 'no folder here holds it (moved, renamed or deleted)';
}

/**
 * A rollback of "the last" or of "all" across sources goes in reverse apply order: when the next
 * migration to undo belongs to a source that cannot be loaded here, nothing is rolled back.
 */
export function refuseRollbackPastElsewhere(target: { last?: true; all?: true }, held: readonly Source[], history: HistorySnapshot): void {
  const elsewhere = elsewhereSources(held, history);
  if (elsewhere.length === 0) return;
  const ids = new Set(elsewhere.map((e) => e.source.id));
  const applied = [...history.applied.values()].filter((a) => a.up).map((a) => a.up!);
  const newest = applied.sort((a, b) => b.id - a.id)[0];
  const blocking = target.all ? applied.find((r) => ids.has(r.source)) : newest && ids.has(newest.source) ? newest : undefined;
  if (!blocking) return;
  const why = elsewhere.find((e) => e.source.id === blocking.source)!.why;
  throw new MigrationsError(
    `Nothing was rolled back: ${target.all ? 'rolling back everything would undo' : 'the last migration applied is'} migration ${blocking.version} of "${blocking.source}", which is ${why === 'code' ? 'registered by the app in code' : 'in a folder no longer here'} and cannot be loaded here. ` +
      (why === 'code' ? 'Roll it back from the app (migrator.down())' : 'Restore its folder (or move its history with rename-source)') +
      `, or roll back one source only (--source ${held[0]?.id ?? '<source>'}).`,
    { code: 'usage', facts: { source: blocking.source, version: blocking.version } },
  );
}
