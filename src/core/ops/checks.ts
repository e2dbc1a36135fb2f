import { dropTemporaryShadows, listTemporaryShadows, type TemporaryShadow } from '../database/shadow';
import { ConfigError, describeError } from '../model/errors';
import { planUp } from '../model/plan';
import { runsIn } from '../model/status';
import { dumpSchema } from '../model/schemaDiff';
import type { SchemaModel } from '../model/schema';
import type { LoadedStep } from '../run/runner';
import { writeSnapshot } from '../verify/schemaFile';
import { checkOnShadow, driftOf, type DriftReport, type VerifyReport } from '../verify/verify';
import { checkOptions, refuseUnreadable, type OpContext, type OpIO, type Operation } from './operation';
import { liveSchema, schemaFile, snapshotName } from './schemaFile';
import { appliedInOrder, load } from './steps';

/** The temporary shadow databases on the server (`shadows`); none on SQLite, whose shadows are in memory. */
export interface ShadowsReport {
  readonly database: string;
  /** False on SQLite: there is nothing to list. */
  readonly server: boolean;
  readonly shadows: readonly TemporaryShadow[];
}

type Check = { source?: string; version?: number; reversibility: boolean };

/**
 * Verify (each pending migration proved reversible on a shadow database: the applied ones replayed
 * from empty, then up → down → up, comparing schemas) or lint (each one's SQL, captured on a
 * shadow, checked by the safety-lint rules). Never on this database.
 */
function check(name: 'verify' | 'lint', reversibility: boolean): Operation<Check, VerifyReport> {
  return {
    name,
    executesCode: reversibility ? 'Verify' : 'Lint',
    onShadow: true,
    args(raw) {
      const { signal: _signal, onMigration: _onMigration, ...opts } = raw;
      checkOptions(name, { ...opts, reversibility }, ['source', 'version', 'reversibility']);
      return { source: raw.source as string | undefined, version: raw.version as number | undefined, reversibility };
    },
    async run(ctx, opts, _pre, io) {
      const { target, sources: { settings } } = ctx;
      const wanted = new Set(ctx.sources.sources(opts.source).map((s) => s.id));
      const steps = await checkSteps(ctx);
      const { applied } = steps;
      // One source asked about is checked as `up --source` would apply it: the other sources' pending
      // migrations are not its concern, and one of them failing must not stand in for its result.
      const pending = opts.source === undefined ? steps.pending : steps.pending.filter((s) => wanted.has(s.source.id));
      const only = (step: LoadedStep) => wanted.has(step.source.id) && (opts.version === undefined || step.file.version === opts.version);
      if (opts.version !== undefined && !pending.some(only)) {
        const sources = ctx.sources.sources(opts.source);
        if (!sources.some((s) => s.migrations.some((m) => m.version === opts.version))) {
          throw new ConfigError(`There is no migration ${opts.version} in ${sources.map((s) => s.id).join(', ') || 'this workspace'}; check the version.`, { version: opts.version }, 'usage');
        }
        throw new ConfigError(`Migration ${opts.version} is not pending${opts.source ? ` in ${opts.source}` : ''}: only pending migrations are checked (roll it back first to check it again).`, {}, 'usage');
      }
      // Nothing after the last one asked about needs to run.
      const last = pending.map(only).lastIndexOf(true);
      await sweepShadows(ctx);
      return target.guard(() => checkOnShadow(target.target, settings, applied, pending.slice(0, last + 1), { reversibility: opts.reversibility, lint: settings.lint, only, signal: io.signal, ...shadowLimits(ctx, io.onMigration) }));
    },
  };
}

export const verify = check('verify', true);
export const lint = check('lint', false);

/** The live schema against the applied migrations replayed on a shadow: what changed outside migrations. */
export const drift: Operation<Record<string, never>, DriftReport> = {
  name: 'drift',
  executesCode: 'Checking drift',
  onShadow: true,
  args: () => ({}),
  async run(ctx, _args, _pre, io) {
    const { applied } = await checkSteps(ctx);
    await sweepShadows(ctx);
    return ctx.target.guard(async () => driftOf(ctx.target.target, ctx.sources.settings, applied, await liveSchema(ctx), shadowLimits(ctx, io.onMigration)));
  },
};

/**
 * The live database's schema, dumped deterministically; `write` also saves it to the schema file,
 * refusing (SchemaOfAnotherDatabase) a file that holds another database's snapshot unless `replace`.
 */
export const schema: Operation<{ write?: boolean; replace?: boolean }, { model: SchemaModel; text: string; path?: string; written: boolean; database: string }> = {
  name: 'schema',
  args: (raw) => ({ write: raw.write as boolean | undefined, replace: raw.replace as boolean | undefined }),
  async run(ctx, opts) {
    return ctx.target.guard(async () => {
      const model = await liveSchema(ctx);
      const database = snapshotName(ctx);
      const text = dumpSchema(model, ctx.target.dialect.name, database);
      const file = opts.write ? schemaFile(ctx, true) : undefined;
      return { model, text, path: file, written: file !== undefined && writeSnapshot(ctx.sources.workspace, file, text, database, opts.replace), database };
    });
  },
};

/**
 * The temporary shadow databases on the server (PostgreSQL, MySQL) that checks left: a run killed
 * before it could drop its own. `drop`: drops each one not in use by a check running on this
 * machine, and made by this tool (marked, or empty); `kept` says why one was not.
 */
export const shadows: Operation<{ drop?: boolean }, ShadowsReport> = {
  name: 'shadows',
  args: (raw) => ({ drop: raw.drop as boolean | undefined }),
  async run({ target }, opts) {
    if (!target.dialect.server) return { database: target.label, server: false, shadows: [] };
    const shadows = await target.guard(() => (opts.drop ? dropTemporaryShadows(target.target, 'not-running') : listTemporaryShadows(target.target)));
    return { database: target.label, server: true, shadows };
  },
};

/**
 * Before each check: the temporary shadows of runs that are gone (a killed CLI, a crashed editor)
 * are dropped, so none outlives the next check. A failure here never fails the check.
 */
async function sweepShadows(ctx: OpContext): Promise<void> {
  const { target } = ctx;
  if (!target.dialect.server) return;
  try {
    const dropped = (await target.guard(() => dropTemporaryShadows(target.target, 'gone'))).filter((s) => s.dropped).map((s) => s.name);
    if (dropped.length > 0) ctx.logger.info(`Dropped the temporary shadow database(s) that checks which are gone left: ${dropped.join(', ')}.`);
  } catch (err) {
    ctx.logger.warn(`Could not drop the temporary shadow databases that stopped checks left: ${describeError(err)}.`);
  }
}

/** migrationTimeoutMs for each try on a shadow, and the progress a parent process watches to enforce it. */
function shadowLimits(ctx: OpContext, onMigration: OpIO['onMigration']): { timeoutMs: number; around?: { before(step: LoadedStep): void; after(): void } } {
  return {
    timeoutMs: ctx.sources.settings.migrationTimeoutMs,
    around: onMigration && { before: (step) => onMigration({ source: step.source.id, version: step.file.version }), after: () => onMigration(undefined) },
  };
}

/** The applied migrations in the order they were applied, and the pending ones this environment runs, loaded. */
async function checkSteps(ctx: OpContext): Promise<{ applied: LoadedStep[]; pending: LoadedStep[] }> {
  const { target, sources: { settings } } = ctx;
  const sources = ctx.sources.sources();
  const history = refuseUnreadable(await target.guard(() => target.read()), target.label);
  const states = history.states(sources, settings.environment);
  const applied = appliedInOrder(states, history);
  const pending = planUp(states, {});
  const loaded = load([...applied, ...pending], ctx.sources.cache);
  const selection = { environment: settings.environment };
  return { applied: loaded.slice(0, applied.length), pending: loaded.slice(applied.length).filter((s) => runsIn(s.migration, selection)) };
}
