import * as path from 'node:path';
import { openShadow, type Shadow } from '../database/shadow';
import { introspect } from '../database/introspect';
import * as declared from '../database/generate/declaredSchema';
import { fillMigrationBodies, generateMigration, type GeneratedMigration } from '../database/generate/migrationCode';
import { loadSchemaModule } from '../loading/project';
import { ConfigError, describeError, InvalidMigrationsError, MigrationsError } from '../model/errors';
import type { HistorySnapshot } from '../model/history';
import { planUp } from '../model/plan';
import type { SchemaChange, SchemaModel } from '../model/schema';
import { describeChanges, diffSchemas, dumpSchema } from '../model/schemaDiff';
import type { Source } from '../model/types';
import type { LoadedStep } from '../run/runner';
import { stageMigration, type Created } from '../sources/create';
import { checkText } from '../sources/discovery';
import { replayEffects } from '../verify/effects';
import { checkPending, replayApplied, type CheckedMigration } from '../verify/verify';
import { publishFile, renderFile } from './create';
import { checkOptions, refuseUnreadable, type OpContext, type OpIO, type Operation } from './operation';
import { liveSchema } from './schemaFile';
import { markApplied } from './record';
import { appliedInOrder, everyStep, load } from './steps';

/** A column that is gone and one that is new in the same table, of the same type: renamed, or dropped and added? */
export interface RenameQuestion {
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

export interface GenerateArgs {
  readonly description: string;
  readonly source?: string;
  /** The file declaring the schema, over the project config's `schema` of the source. */
  readonly schema?: string;
  /** Write drops and narrowing; otherwise they are refused. */
  readonly allowDestructive?: boolean;
  /** Answers to RenameQuestions: `{ 'users.nick': 'users.nickname' }` renamed; `{ 'users.nick': null }` not. */
  readonly renames?: Readonly<Record<string, string | null>>;
  /** From what was changed by hand in this database (the drift) instead of a declared schema; the file is recorded as applied here. */
  readonly fromDatabase?: boolean;
  readonly js?: boolean;
}

export interface GenerateReport {
  readonly source: string;
  /** The file written; undefined when there was nothing to generate, or questions to answer first. */
  readonly created?: Created;
  /** The changes it makes, one line each (`added column users.nickname`). */
  readonly changes: readonly string[];
  /** Asked before anything is written (the CLI prompts, the editor shows a quick pick). */
  readonly questions: readonly RenameQuestion[];
  /** up → down → up of the new file on the shadow, with its lint findings. */
  readonly verify?: CheckedMigration;
  /** `--from-database`: recorded as applied in this database (its changes are there already). */
  readonly recorded: boolean;
  /** The source's schema before and after the new migration, dumped (the editor's diff). */
  readonly before: string;
  readonly after: string;
  readonly message: string;
}

/**
 * `generate`: the next migration of a folder source, written from the difference between what its
 * migrations make (replayed on a shadow) and its declared schema, or (`fromDatabase`) what was
 * changed by hand in the live database. Proved before it is reported: the new file goes
 * up → down → up on the same shadow (staged under a name discovery skips) and must reach the
 * declared schema exactly; a file that does not is never written. Nothing is written while a
 * rename question is open.
 */
export const generate: Operation<GenerateArgs, GenerateReport> = {
  name: 'generate',
  executesCode: 'Generating a migration',
  onShadow: true,
  args(raw) {
    const { signal: _s, onMigration: _o, events: _e, ...given } = raw;
    checkOptions('generate', given, ['description', 'source', 'schema', 'allowDestructive', 'renames', 'fromDatabase', 'js']);
    if (typeof raw.description !== 'string' || !raw.description.trim()) throw new ConfigError('generate: describe the migration (e.g. "add nickname to users").', {}, 'usage');
    const renames = (raw.renames ?? {}) as Record<string, unknown>;
    for (const [from, to] of Object.entries(renames)) {
      if (!/^[^.\s]+\.[^.\s]+$/.test(from) || (to !== null && (typeof to !== 'string' || !/^[^.\s]+\.[^.\s]+$/.test(to)))) {
        throw new ConfigError(`generate: a rename is "table.column=table.column" (e.g. users.nick=users.nickname), not "${from}=${String(to)}".`, {}, 'usage');
      }
    }
    return { description: raw.description, source: raw.source as string | undefined, schema: raw.schema as string | undefined, allowDestructive: raw.allowDestructive === true, renames: renames as GenerateArgs['renames'], fromDatabase: raw.fromDatabase === true, js: raw.js as boolean | undefined };
  },
  run: (ctx, args, _pre, io) => onCompared(ctx, args, io, async ({ source, shadow, before, wanted, whole }) => {
    const { target } = ctx;
    const dialect = target.dialect.generator;
    const base = { source: source.id, before: dumpSchema(before, target.dialect.name), after: dumpSchema(wanted, target.dialect.name), recorded: false };
    const changes = diffSchemas(before, wanted);
    if (changes.length === 0) return { ...base, changes: [], questions: [], message: args.fromDatabase ? 'The database matches the migrations.' : 'The schema matches the migrations.' };
    const questions = renameQuestions(changes, before, wanted).filter((q) => !Object.hasOwn(args.renames ?? {}, `${q.table}.${q.from}`));
    if (questions.length > 0) return { ...base, changes: describeChanges(changes), questions, message: `Answer ${questions.length === 1 ? 'whether a column was renamed' : `whether ${questions.length} columns were renamed`} before anything is written.` };
    const renames = Object.fromEntries(Object.entries(args.renames ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const result = generateMigration(before, wanted, { dialect, allowDestructive: args.allowDestructive, renames });
    if (!result.ok) {
      const destructiveOnly = result.refusals.every((r) => r.destructive);
      throw new ConfigError([
        `Nothing was written: ${result.refusals.length === 1 ? 'a change' : `${result.refusals.length} changes`} cannot be generated:\n${result.refusals.map((r) => `  - ${r.reason}`).join('\n')}\n`,
        ...(destructiveOnly ? ['To write them (data in them is lost), ', { do: 'override' as const, flag: 'allow-destructive' as const }, '.'] : ['Write this change by hand (migrations create).']),
      ], { source: source.id }, destructiveOnly ? 'usage' : 'config');
    }
    const rendered = renderGenerated(ctx, source, args, result);
    // Proved from a staged copy first: a refusal, a failure or a crash half-way leaves no migration file behind.
    const verify = await prove(ctx, shadow, source, rendered, whole, before, wanted);
    const created = publishFile(ctx, rendered);
    let recorded = false;
    if (args.fromDatabase) {
      recorded = (await markApplied.run(ctx, { source: source.id, version: created.version }, undefined, {})).recorded;
    }
    const destructive = result.destructive.length > 0 ? ` It drops data: ${result.destructive.join(', ')}.` : '';
    return { ...base, created, changes: describeChanges(changes), questions: [], verify, recorded, message: `Generated ${path.basename(created.path)}: ${describeChanges(changes).length} change(s), proved reversible on ${shadow.label}${recorded ? `, recorded as applied in ${target.label}` : ''}.${destructive}` };
  }),
};

export interface SchemaChangesArgs {
  readonly source?: string;
  readonly schema?: string;
  readonly fromDatabase?: boolean;
}

/** What `generate` would write, without writing: the editor's CodeLens count. */
export interface SchemaChangesReport {
  readonly source: string;
  /** One line each (`added column users.nickname`); empty when the schema matches the migrations. */
  readonly changes: readonly string[];
  /** The rename questions generate would ask, every one of them. */
  readonly questions: readonly RenameQuestion[];
  readonly before: string;
  readonly after: string;
  readonly message: string;
}

/**
 * `schemaChanges`: generate's comparison alone (the same shadow replay and declared schema, or the
 * drift), read-only: nothing is written, nothing recorded. The editor counts these on a schema file.
 */
export const schemaChanges: Operation<SchemaChangesArgs, SchemaChangesReport> = {
  name: 'schemaChanges',
  executesCode: 'Comparing the declared schema with the migrations',
  onShadow: true,
  args(raw) {
    const { signal: _s, onMigration: _o, events: _e, ...given } = raw;
    checkOptions('schemaChanges', given, ['source', 'schema', 'fromDatabase']);
    return { source: raw.source as string | undefined, schema: raw.schema as string | undefined, fromDatabase: raw.fromDatabase === true };
  },
  run: (ctx, args, _pre, io) => onCompared(ctx, args, io, async ({ source, before, wanted }) => {
    const { target } = ctx;
    const changes = diffSchemas(before, wanted);
    const lines = describeChanges(changes);
    const matches = args.fromDatabase ? 'The database matches the migrations.' : 'The schema matches the migrations.';
    return {
      source: source.id, changes: lines, questions: renameQuestions(changes, before, wanted),
      before: dumpSchema(before, target.dialect.name), after: dumpSchema(wanted, target.dialect.name),
      message: lines.length === 0 ? matches : `${lines.length} change${lines.length === 1 ? '' : 's'} not in migrations.`,
    };
  }),
};

/** The source, a shadow opened for the comparison (thrown away after `work`), and the two schemas compared on it. */
async function onCompared<T>(ctx: OpContext, args: Pick<GenerateArgs, 'source' | 'schema' | 'fromDatabase'>, io: OpIO, work: (c: { source: Source; shadow: Shadow; before: SchemaModel; wanted: SchemaModel; whole: SchemaModel }) => Promise<T>): Promise<T> {
  const { target, sources: { settings } } = ctx;
  const source = folderSource(ctx, args.source);
  const history = refuseUnreadable(await target.guard(() => target.read()), target.label);
  const shadow = await target.guard(() => openShadow(target.target, settings, target.dialect));
  try {
    return await work({ source, shadow, ...(await compared(ctx, source, args, shadow, history, io)) });
  } finally {
    await shadow.dispose();
  }
}

/**
 * The two schemas a migration is generated between: what the source's migrations make (replayed on
 * the shadow) and its declared schema; or (`fromDatabase`) the applied migrations replayed and the
 * live database.
 */
async function compared(ctx: OpContext, source: Source, args: Pick<GenerateArgs, 'schema' | 'fromDatabase'>, shadow: Shadow, history: HistorySnapshot, io: OpIO): Promise<{ before: SchemaModel; wanted: SchemaModel; whole: SchemaModel }> {
  const { target, sources: { settings } } = ctx;
  let before: SchemaModel;
  let wanted: SchemaModel;
  /** All the shadow holds (the other sources' tables too): where the new file is proved. */
  let whole: SchemaModel;
  const dialect = target.dialect.generator;
  if (args.fromDatabase) {
    const states = history.states(ctx.sources.sources(), settings.environment);
    const pending = planUp(states, {}).filter((s) => s.direction === 'up');
    if (pending.length > 0) {
      throw new ConfigError(`${target.label} has ${pending.length} pending migration(s) (${pending.slice(0, 3).map((s) => `${s.file.version} of ${s.source.id}`).join(', ')}${pending.length > 3 ? ', …' : ''}): apply them first, so that what differs is only what was changed by hand.`, {}, 'usage');
    }
    before = whole = await replayApplied(shadow, load(appliedInOrder(history.states(ctx.sources.sources(), settings.environment), history), ctx.sources.cache), { timeoutMs: settings.migrationTimeoutMs });
    wanted = await target.guard(() => liveSchema(ctx));
  } else {
    const schema = declaredSchemaOf(ctx, source, args.schema);
    wanted = declared.declaredModel(schema, dialect);
    const replayed = await replayEffects(shadow, everyStep(ctx), { timeoutMs: settings.migrationTimeoutMs, signal: io.signal });
    if (replayed.failed) {
      throw new MigrationsError(`Migration ${replayed.failed.version} (${replayed.failed.source}) failed on ${shadow.label}: ${replayed.failed.error}. generate replays every migration from an empty database; make it run there, then generate again.`, { code: 'migration-failed', facts: { source: replayed.failed.source, version: replayed.failed.version } });
    }
    // The source's tables: what its migrations touched and what it declares (the other sources' are theirs).
    const owned = new Set(wanted.tables.map((t) => t.name));
    for (const [key, changes] of replayed.changes) if (key.startsWith(`${source.id}@`)) for (const c of changes) owned.add(c.table);
    whole = replayed.schema;
    before = { tables: whole.tables.filter((t) => owned.has(t.name)) };
  }
  return { before, wanted, whole };
}

/** The one folder source a file is written into: named, or the only one. */
function folderSource(ctx: OpContext, only: string | undefined): Source {
  const folders = ctx.sources.sources(only).filter((s) => s.dir !== '');
  if (folders.length === 1) return folders[0];
  if (folders.length === 0) throw new ConfigError(only ? `"${only}" is not a folder source: generate writes files into folder sources only.` : 'There is no folder source to write the migration into: create a versions/ folder (migrations create) first.', { source: only }, 'usage');
  throw new ConfigError([`There are several sources (${folders.map((s) => s.id).join(', ')}): `, { do: 'name-source' }, '.'], {}, 'usage');
}

/** The source's declared schema: the file given, else the one its entry in the project config names. */
function declaredSchemaOf(ctx: OpContext, source: Source, given: string | undefined): declared.DeclaredSchema {
  const { workspace, project } = ctx.sources;
  const file = given ? path.resolve(workspace, given) : project?.folders.find((f) => f.id === source.id || f.dir === source.dir)?.schema;
  if (!file) {
    throw new ConfigError(`Source "${source.id}" declares no schema: add schema: 'db/schema.ts' (a file exporting defineSchema({ … })) to its entry under sources in migrations.config.ts.`, { source: source.id }, 'config');
  }
  // The file imports defineSchema from 'migration-manager': this engine's own, installed or not.
  const schema = loadSchemaModule(file, { 'migration-manager': declared });
  if (typeof schema !== 'object' || schema === null || (schema as { declaredSchema?: unknown }).declaredSchema !== true) {
    throw new ConfigError(`${file}: export the schema as its default export: export default defineSchema({ tables: { … } }).`, { file }, 'config');
  }
  return schema as declared.DeclaredSchema;
}

/**
 * Pairs drizzle-kit asks about: in one table, a column gone and a column new of the same type.
 * Each gone column is asked about once, with the first new one that fits.
 */
export function renameQuestions(changes: readonly SchemaChange[], before: SchemaModel, after: SchemaModel): RenameQuestion[] {
  const questions: RenameQuestion[] = [];
  const typeOf = (model: SchemaModel, table: string, column: string) => model.tables.find((t) => t.name === table)?.columns.find((c) => c.name === column)?.type;
  for (const gone of changes.filter((c) => c.kind === 'column-removed')) {
    const taken = new Set(questions.map((q) => `${q.table}.${q.to}`));
    const fit = changes.find((c) => c.kind === 'column-added' && c.table === gone.table && !taken.has(`${c.table}.${c.name}`) && typeOf(after, c.table, c.name!) === typeOf(before, gone.table, gone.name!));
    if (fit) questions.push({ table: gone.table, from: gone.name!, to: fit.name! });
  }
  return questions;
}

function renderGenerated(ctx: OpContext, source: Source, args: GenerateArgs, result: GeneratedMigration): Created & { readonly text: string; readonly dir: string } {
  return renderFile(ctx, {
    description: args.description, source: source.id, js: args.js,
    fill: (text) => {
      const filled = fillMigrationBodies(text, result);
      if (filled === undefined) throw new ConfigError('The migration template has no up(knex) and down(knex) bodies to write the generated code into; restore them in the template (migrations.templatesDir).', {}, 'config');
      return filled;
    },
  });
}

/**
 * The new file, staged beside its folder under a name discovery skips, on the shadow that holds
 * what came before it: up → down → up (verify's own check, lint included), then the schema it
 * leaves must be the one wanted. The staged copy is always removed; only a proved file is published.
 */
async function prove(ctx: OpContext, shadow: Shadow, source: Source, rendered: Created & { readonly text: string }, start: SchemaModel, before: SchemaModel, wanted: SchemaModel): Promise<CheckedMigration> {
  const { settings, workspace } = ctx.sources;
  const staged = stageMigration(workspace, rendered.path, rendered.text);
  try {
    const file = checkText(staged.path, rendered.version, rendered.name, rendered.text);
    let step: LoadedStep;
    try {
      [step] = load([{ source, file, direction: 'up', description: file.description ?? rendered.name }], undefined);
    } catch (err) {
      // The generated bodies are plain knex calls: a file that does not load is the template's doing.
      const problems = err instanceof InvalidMigrationsError ? err.problems.map((p) => `line ${p.line}: ${p.message}`) : [describeError(err)];
      throw new ConfigError(`The migration generated from the template (migrations.templatesDir, or the built-in one) is not a valid migration, so nothing was written: ${problems.join('; ')} Fix the template.`, { source: source.id }, 'config');
    }
    const report = await checkPending(shadow, start, [step], { reversibility: true, lint: settings.lint, timeoutMs: settings.migrationTimeoutMs }, () => {
      throw new MigrationsError('The generated migration failed on the shadow.');
    });
    const checked = report.migrations[0];
    // The source's tables, read again: what the new file left must be the declared schema exactly.
    const tables = [...new Set([...wanted.tables, ...before.tables].map((t) => t.name))];
    const differs = describeChanges(diffSchemas(wanted, await introspect(shadow.knex, shadow.catalog, { tables })));
    if (checked.outcome !== 'reversible' || differs.length > 0) {
      throw new MigrationsError(`The generated migration did not prove out on ${shadow.label}, so nothing was written: ${[...checked.problems, ...differs.map((d) => `after up() the schema differs: ${d}`)].join('; ')}. Write this change by hand (migrations create).`, { code: 'migration-failed', facts: { source: source.id, version: rendered.version } });
    }
    return { ...checked, path: rendered.path, lint: checked.lint.map((f) => ({ ...f, file: rendered.path })) };
  } finally {
    staged.remove();
  }
}
