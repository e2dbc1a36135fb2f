import type { Knex } from 'knex';
import { declaredModel, schemaVersion, type DeclaredSchema } from '../database/generate/declaredSchema';
import { generateMigration, type GenerateRefusal } from '../database/generate/migrationCode';
import { compileGenerated, runGenerated, type RanStatements } from '../database/generate/runCode';
import { introspect } from '../database/introspect';
import { ConfigError, corruptHistory, describeError, MigrationsError } from '../model/errors';
import { lintMigration, withSettings, type LintFinding } from '../model/lint';
import { plural } from '../model/naming';
import type { SchemaChange, SchemaModel } from '../model/schema';
import { describeChanges, diffSchemas } from '../model/schemaDiff';
import type { NewHistoryRow } from '../model/types';
import { checkOptions, done, type OpContext, type Operation } from './operation';

/** A plugin's declared schema, as `registerPluginSchema` holds it. */
export interface PluginSchemaRequest {
  /** The plugin's name: the source its history rows are recorded under. */
  readonly plugin: string;
  readonly schema: DeclaredSchema;
  /** Drop tables and columns, narrow types (and lint's drop rules are warnings, unless the `lint` setting names them). */
  readonly allowDestructive?: boolean;
}

/** Where a plugin's declared tables stand against the database, and what bringing them there did. */
export interface PluginSchemaReport {
  readonly plugin: string;
  /** The declared schema's version (schemaVersion): what the history row records. */
  readonly version: number;
  /** What differed from the declared tables before (`added column search_docs.lang`); empty: nothing to do. */
  readonly changes: readonly string[];
  /** The change was made and recorded. */
  readonly applied: boolean;
  /** What it ran, as knex sent it. */
  readonly statements: readonly string[];
  /** Lint's findings below error (errors stop it: PluginSchemaError). */
  readonly lint: readonly LintFinding[];
  readonly durationMs: number;
}

/**
 * A plugin schema that was not applied, and why: the generator refused a step (each refusal's
 * reason), lint called a change an error (each finding), or a statement failed.
 */
export class PluginSchemaError extends MigrationsError {
  constructor(
    readonly plugin: string,
    readonly version: number,
    message: string,
    readonly refusals: readonly GenerateRefusal[] = [],
    readonly findings: readonly LintFinding[] = [],
    cause?: unknown,
  ) {
    super(message, { code: cause === undefined ? 'error' : 'migration-failed', facts: { source: plugin, version }, cause });
  }
}

function requestOf(call: string, raw: Record<string, unknown>): PluginSchemaRequest {
  checkOptions(call, raw, ['plugin', 'schema', 'allowDestructive']);
  const { plugin, schema, allowDestructive } = raw as Partial<PluginSchemaRequest>;
  if (typeof plugin !== 'string' || plugin.trim() === '') throw new ConfigError(`${call}: the plugin's name must be a non-empty string, not ${JSON.stringify(plugin)}.`, {}, 'usage');
  if (!schema || (schema as { declaredSchema?: unknown }).declaredSchema !== true) throw new ConfigError(`${call}("${plugin}"): the schema must be made with defineSchema({ tables: … }).`, { source: plugin }, 'usage');
  return { plugin, schema, allowDestructive: allowDestructive === true };
}

/** The declared model on this database, its version, and the live schema of its tables (tables not declared are left alone). */
async function standing(ctx: OpContext, req: PluginSchemaRequest, knex: Knex | undefined): Promise<{ model: SchemaModel; version: number; live: SchemaModel; changes: SchemaChange[] }> {
  const { dialect } = ctx.target;
  const model = declaredModel(req.schema, dialect.generator);
  const live = knex ? await introspect(knex, dialect.catalog, { tables: model.tables.map((t) => t.name) }) : { tables: [] };
  return { model, version: schemaVersion(req.schema), live, changes: diffSchemas(live, model) };
}

const report = (req: PluginSchemaRequest, version: number, changes: readonly SchemaChange[], rest: Partial<PluginSchemaReport> = {}): PluginSchemaReport =>
  ({ plugin: req.plugin, version, changes: describeChanges(changes), applied: false, statements: [], lint: [], durationMs: 0, ...rest });

/** How a plugin's declared tables differ from the database's; reads only (a SQLite file not made yet: every table is missing). */
export const pluginSchema: Operation<PluginSchemaRequest, PluginSchemaReport> = {
  name: 'pluginSchema',
  args: (raw) => requestOf('pluginSchema', raw),
  async run(ctx, req) {
    return ctx.target.guard(async () => {
      const { version, changes } = await standing(ctx, req, ctx.target.connections.read());
      return report(req, version, changes);
    });
  },
};

/**
 * Brings a plugin's declared tables to the declared state: the change generated from the live
 * tables, refused when the generator refuses a step (destructive ones unless allowed), linted
 * before anything runs (an error stops it), then run under the lock, in one transaction with its
 * history row where the database has transactional DDL, and checked against the declared model.
 */
export const applyPluginSchema: Operation<PluginSchemaRequest, PluginSchemaReport, undefined> = {
  name: 'applyPluginSchema',
  args: (raw) => requestOf('applyPluginSchema', raw),
  async precheck(ctx, req) {
    // Nothing to do is decided on a read: no lock, no writer, no database file made.
    return ctx.target.guard(async () => {
      const { version, changes } = await standing(ctx, req, ctx.target.connections.read());
      return changes.length === 0 ? done(report(req, version, changes)) : undefined;
    });
  },
  async run(ctx, req) {
    const { target } = ctx;
    return target.guard(() => target.underLock(async (knex, history) => {
      const started = Date.now();
      // Again under the lock: another process may have brought the tables there meanwhile.
      const { model, version, live, changes } = await standing(ctx, req, knex);
      if (changes.length === 0) return report(req, version, changes);
      const what = `The schema of plugin "${req.plugin}" (version ${version})`;
      const generated = generateMigration(live, model, { dialect: target.dialect.generator, allowDestructive: req.allowDestructive });
      if (!generated.ok) {
        const reasons = generated.refusals.map((r) => `  - ${r.reason}`).join('\n');
        const hint = generated.refusals.some((r) => r.destructive) ? ' Destructive steps are taken only when the plugin allows them (registerPluginSchema(name, schema, { allowDestructive: true })).' : '';
        throw new PluginSchemaError(req.plugin, version, `${what} was not applied: nothing was changed.${hint}\n${reasons}`, generated.refusals);
      }
      // Linted before anything runs, from the plan (the schema before and the declared one after)
      // and the SQL knex compiles: nothing is changed when it says no, on every database alike.
      const findings = withSettings(lintMigration({
        concurrentIndexes: target.dialect.concurrentIndexes, before: live, after: model, changes: generated.changes,
        sql: await compileGenerated(knex, generated.up), transactional: target.dialect.transactionalDdl, hasDown: true,
      }), lintSettings(ctx, req));
      const errors = findings.filter((f) => f.severity === 'error');
      if (errors.length > 0) {
        throw new PluginSchemaError(req.plugin, version, `${what} was not applied: lint calls ${plural(errors.length, 'change')} an error; nothing was changed.\n${errors.map((f) => `  - ${f.code}: ${f.message}`).join('\n')}`, [], errors);
      }
      const read = await target.read();
      const bad = read.unreadable.filter((u) => u.source === req.plugin);
      if (bad.length > 0) throw corruptHistory(target.label, bad);
      for (const f of findings) ctx.logger.warn(`Plugin ${req.plugin}: ${f.code}: ${f.message}`);
      await history.ensureStatements?.();
      const statements: RanStatements = { ran: [], unanswered: [] };
      const startedAt = new Date(started).toISOString();
      const row: RowOf = (success, error, ran, partial = false) => ({
        source: req.plugin, version, description: describe(changes), checksum: null, direction: 'up', startedAt, finishedAt: new Date().toISOString(),
        durationMs: Date.now() - started, success, error, transactional: target.dialect.transactionalDdl, partial, ...(ran.length > 0 ? { statements: listed(ran) } : {}),
      });
      // The states the plugin's history has in effect are superseded: one version is in effect at a time
      // (and a schema declared again after another is applied again, not "applied twice").
      const superseded = [...read.applied.values()].flatMap((a) => (a.up?.source === req.plugin ? [a.up] : [])).map((up): NewHistoryRow => ({
        source: req.plugin, version: up.version, description: `superseded by version ${version}: nothing was run`, checksum: null, direction: 'down',
        startedAt, finishedAt: startedAt, durationMs: 0, success: true, error: null, transactional: true, manual: true,
      }));
      const apply = async (db: Knex | Knex.Transaction) => {
        await runGenerated(db, generated.up, statements);
        // What the generated code made must read back as the declared tables (the generator's round trip proves it; this holds it).
        const left = describeChanges(diffSchemas(await introspect(db, target.dialect.catalog, { tables: model.tables.map((t) => t.name) }), model));
        if (left.length > 0) throw new MigrationsError(`the tables read back differently from the declared ones: ${left.join('; ')}`);
      };
      try {
        if (target.dialect.transactionalDdl) {
          await knex.transaction(async (trx) => {
            await apply(trx);
            for (const r of [...superseded, row(true, null, statements.ran)]) await history.append(r, trx);
          });
        } else {
          await apply(knex);
          await knex.transaction(async (trx) => {
            for (const r of [...superseded, row(true, null, statements.ran)]) await history.append(r, trx);
          });
        }
      } catch (err) {
        throw await failed(ctx, req, version, what, err, statements, row);
      }
      ctx.logger.info(`${what}: applied ${plural(changes.length, 'change')} (${plural(statements.ran.length, 'statement')}).`);
      return report(req, version, changes, { applied: true, statements: statements.ran, lint: findings, durationMs: Date.now() - started });
    }));
  },
};

/** The plugin's history row: `ran` listed in it. */
type RowOf = (success: boolean, error: string | null, ran: readonly string[], partial?: boolean) => NewHistoryRow;

/** The `lint` setting; a plugin that allows destructive changes has said yes to drops, so they warn unless the setting names them. */
function lintSettings(ctx: OpContext, req: PluginSchemaRequest): Readonly<Record<string, 'off' | 'warning' | 'error'>> {
  const lint = ctx.sources.settings.lint;
  return req.allowDestructive ? { 'drop-table': 'warning', 'drop-column': 'warning', ...lint } : lint;
}

/**
 * A failed change, recorded as it is: rolled back with its transaction (nothing applied), or on
 * MySQL/MariaDB, which commits DDL at once, with the statements that ran listed (partial). The
 * next start-up plans again from the tables as they are then.
 */
async function failed(ctx: OpContext, req: PluginSchemaRequest, version: number, what: string, err: unknown, statements: RanStatements, row: RowOf): Promise<PluginSchemaError> {
  const { target } = ctx;
  const cause = target.failure(err) ?? err;
  const partial = !target.dialect.transactionalDdl && statements.ran.length + statements.unanswered.length > 0;
  const ran = [...statements.ran, ...statements.unanswered.map((q) => `${q} -- sent, not answered when it failed`)];
  const message = partial
    ? `${what} failed after changing the tables: ${describeError(cause).replace(/\.$/, '')}. ${target.dialect.name} commits schema changes at once, so these were NOT rolled back (the next start-up plans again from the tables as they are):\n${ran.map((q) => `  ${q};`).join('\n')}`
    : `${what} failed: ${describeError(cause).replace(/\.$/, '')}. Its changes were rolled back; nothing was changed.`;
  try {
    // Rolled back, the statements did not happen: the row lists them only when they stay.
    await target.history.append(row(false, message, partial ? ran : [], partial));
  } catch (recordErr) {
    ctx.logger.error(`The failure of ${what} could not be recorded in the history: ${describeError(recordErr)}`);
  }
  return new PluginSchemaError(req.plugin, version, message, [], [], cause);
}

/** A history row's description: what the change did, within the column's 1024 characters. */
function describe(changes: readonly SchemaChange[]): string {
  const text = `plugin schema: ${describeChanges(changes).join(', ')}`;
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}

/** The statements as a history row lists them: one a line, each ending in `;`. */
function listed(statements: readonly string[]): string {
  return statements.map((q) => `${q};`).join('\n');
}
