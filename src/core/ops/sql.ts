import { MigrationsError } from '../model/errors';
import { planDown, planUp, type DownTarget } from '../model/plan';
import { captureSql, type StepReport } from '../run/runner';
import type { Operation } from './operation';
import { load, requireVersion } from './steps';

export interface SqlReport {
  readonly steps: readonly { step: StepReport; sql: string[] }[];
}

/** The SQL an apply or rollback would run, captured in a transaction that is rolled back. */
export const sql: Operation<{ direction: 'up' | 'down'; source?: string; to?: number; all?: boolean }, SqlReport> = {
  name: 'sql',
  executesCode: 'A dry run',
  args: (raw) => ({ direction: raw.direction as 'up' | 'down', source: raw.source as string | undefined, to: raw.to as number | undefined, all: raw.all as boolean | undefined }),
  async precheck(ctx) {
    if (ctx.target.dialect.noDryRun) throw new MigrationsError(ctx.target.dialect.noDryRun);
    return undefined;
  },
  async run(ctx, opts) {
    const { target } = ctx;
    const sources = ctx.sources.sources(opts.source);
    return target.guard(async () => {
      const history = await target.read();
      const states = history.states(sources, ctx.sources.settings.environment);
      if (opts.to !== undefined) requireVersion(states, 'A dry run to a version', opts.to || undefined);
      const down: DownTarget = opts.to !== undefined ? { to: opts.to } : opts.all ? { all: true } : { last: true };
      const steps = opts.direction === 'up' ? planUp(states, { to: opts.to }) : planDown(states, down, (s) => history.appliedOrder(s));
      if (steps.length === 0) return { steps: [] };
      const loaded = load(steps, ctx.sources.cache);
      // Its work would not be rolled back: previewing it would apply it (or the part that ran).
      const outside = loaded.find((s) => s.migration.transaction === false);
      if (outside) {
        throw new MigrationsError(`Migration ${outside.file.version} (${outside.source.id}) sets transaction = false, so a dry run would really apply it: it cannot be previewed. Preview the migrations before it (--to ${outside.file.version - 1}), or read its code.`, { facts: { source: outside.source.id, version: outside.file.version } });
      }
      // Its own connection: no file created (a missing SQLite file becomes an empty
      // in-memory database) and no journal-mode switch, so a dry run leaves no trace.
      const dry = target.connections.dryRun();
      try {
        return { steps: await captureSql(loaded, dry.knex) };
      } finally {
        await dry.done();
      }
    });
  },
};
