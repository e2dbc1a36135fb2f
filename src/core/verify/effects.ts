import { describeError } from '../model/errors';
import type { SchemaChange, SchemaModel } from '../model/schema';
import { diffSchemas } from '../model/schemaDiff';
import type { Shadow } from '../database/shadow';
import type { LoadedStep } from '../run/runner';
import { tryOn } from '../run/runner';
import { snapshotAfter } from './snapshot';

/** What replaying migrations one by one on an empty shadow showed: each one's effect on the schema. */
export interface ReplayedEffects {
  /** Per migration that ran (key `source@version`), what it changed. */
  readonly changes: ReadonlyMap<string, readonly SchemaChange[]>;
  /** The schema after the last migration that ran. */
  readonly schema: SchemaModel;
  /** The first migration that failed: nothing after it was replayed. */
  readonly failed?: { readonly source: string; readonly version: number; readonly error: string };
}

export const effectKey = (source: string, version: number): string => `${source}@${version}`;

/**
 * Runs `steps` in order on the shadow (empty, or holding `start`), reading after each only the
 * tables its statements touched, so documenting 1000 migrations costs about as much as running them.
 */
export async function replayEffects(shadow: Shadow, steps: readonly LoadedStep[], opts: { start?: SchemaModel; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ReplayedEffects> {
  const changes = new Map<string, readonly SchemaChange[]>();
  let schema = opts.start ?? { tables: [] };
  for (const step of steps) {
    opts.signal?.throwIfAborted();
    const up = await tryOn(shadow.knex, step.migration, 'up', opts.timeoutMs);
    if (up.error) return { changes, schema, failed: { source: step.source.id, version: step.file.version, error: describeError(up.error) } };
    const after = await snapshotAfter(shadow.knex, shadow.catalog, schema, up.sql);
    changes.set(effectKey(step.source.id, step.file.version), diffSchemas(schema, after));
    schema = after;
  }
  return { changes, schema };
}
