import * as fs from 'node:fs';
import { introspect } from '../database/introspect';
import { openShadow, type Shadow } from '../database/shadow';
import type { DatabaseTarget } from '../database/database';
import { dialectOf } from '../database/dialect';
import type { Settings } from '../config/settings';
import { describeError, MigrationsError } from '../model/errors';
import { plural } from '../model/naming';
import { disabledAt, lintMigration, withSettings, type LintFinding } from '../model/lint';
import type { SchemaChange, SchemaModel } from '../model/schema';
import { describeChanges, diffSchemas } from '../model/schemaDiff';
import type { LoadedStep } from '../run/runner';
import { tryOn } from '../run/runner';
import { snapshotAfter } from './snapshot';

/** What checking one pending migration on the shadow found. */
export interface CheckedMigration {
  readonly source: string;
  readonly version: number;
  readonly description: string;
  readonly path: string | null;
  /**
   * `reversible`: down() restored the schema exactly and up() ran again the same; `irreversible`:
   * see `problems`; `no-down`; `failed`: up() or down() threw on the shadow; `checked`: linted only;
   * `not-run`: after a failure (it builds on what failed).
   */
  readonly outcome: 'reversible' | 'irreversible' | 'no-down' | 'failed' | 'checked' | 'not-run';
  /** "down() leaves column chat_users.is_spammer", "up() failed on the shadow: …". */
  readonly problems: readonly string[];
  /** Safety-lint findings, each on the line of the migration's up() (1 when unknown). */
  readonly lint: readonly (LintFinding & { readonly file: string | null; readonly line: number })[];
}

export interface VerifyReport {
  /** Verify: every migration reversible. Lint: no finding of error severity, and up() ran everywhere. */
  readonly ok: boolean;
  /** Where it was tried (never the user's database). */
  readonly shadow: string;
  readonly migrations: readonly CheckedMigration[];
}

export interface CheckOptions {
  /** up → down → up on each (verify); false: up only, for lint. */
  readonly reversibility: boolean;
  /** The `lint` setting: severities, rules turned off. */
  readonly lint: Readonly<Record<string, 'off' | 'warning' | 'error'>>;
  /** Which pending migrations to report on (the others before them are only applied); unset: all. */
  readonly only?: (step: LoadedStep) => boolean;
  readonly signal?: AbortSignal;
  /** One up() or down() on the shadow longer than this fails (`migrationTimeoutMs`); 0: no limit. */
  readonly timeoutMs?: number;
  /**
   * Around each migration's tries: in the runner child they become messages, so the parent can end
   * a child stuck in a synchronous loop when the time limit has long passed.
   */
  readonly around?: { before(step: LoadedStep): void; after(step: LoadedStep): void };
}

/** Replays what the database has applied onto the empty shadow, so pending migrations meet the schema they will meet. */
export async function replayApplied(shadow: Shadow, applied: readonly LoadedStep[], opts: Pick<CheckOptions, 'timeoutMs' | 'around'> = {}): Promise<SchemaModel> {
  for (const step of applied) {
    opts.around?.before(step);
    const { error } = await tryOn(shadow.knex, step.migration, 'up', opts.timeoutMs);
    opts.around?.after(step);
    if (error) {
      throw new MigrationsError(
        `Cannot rebuild the schema on ${shadow.label}: applied migration ${step.file.version} (${step.source.id}) failed there: ${describeError(error)}. ` +
          'Verification replays every applied migration from an empty database; make it run on an empty database (or mark a baseline), then check again.',
        { code: 'migration-failed', facts: { source: step.source.id, version: step.file.version, direction: 'up', file: step.file.path || undefined } },
      );
    }
  }
  return introspect(shadow.knex, shadow.catalog);
}

/**
 * Each pending migration on the shadow: up (SQL captured, linted), and for verify down and up again,
 * comparing schemas. A down() that got it wrong, or a failure, leaves the shadow in a state no later
 * migration expects: `rebuild(steps)` makes a fresh one with those pending migrations applied. A
 * failure stops only the later migrations of its own source (they build on it); the other
 * sources' are still checked, so one broken source never hides the others' results.
 */
export async function checkPending(first: Shadow, start: SchemaModel, pending: readonly LoadedStep[], opts: CheckOptions, rebuild: (steps: readonly LoadedStep[]) => Promise<{ shadow: Shadow; model: SchemaModel }>): Promise<VerifyReport> {
  const results: CheckedMigration[] = [];
  let shadow = first;
  let model = start;
  /** The pending migrations whose up() is in effect on the shadow. */
  const done: LoadedStep[] = [];
  /** Sources with a failed migration: their later ones are not run. */
  const stopped = new Set<string>();
  let dirty = false;
  for (const [index, step] of pending.entries()) {
    if (opts.signal?.aborted) throw new MigrationsError(`Cancelled after checking ${plural(results.length, 'migration')}; nothing but the shadow was touched.`);
    const reported = opts.only?.(step) ?? true;
    const base = { source: step.source.id, version: step.file.version, description: step.description, path: step.file.path || null };
    if (stopped.has(step.source.id)) {
      if (reported) results.push({ ...base, outcome: 'not-run', problems: [], lint: [] });
      continue;
    }
    // After a failure the shadow holds what the failed migration left: rebuilt from what succeeded.
    if (dirty) {
      ({ shadow, model } = await rebuild(done));
      dirty = false;
    }
    const before = model;
    const fail = (result: CheckedMigration) => {
      stopped.add(step.source.id);
      dirty = true;
      // One not asked about failing is said only when it is why later ones asked about cannot be checked.
      if (reported || pending.slice(index + 1).some((later) => later.source.id === step.source.id && (opts.only?.(later) ?? true))) results.push(result);
    };
    opts.around?.before(step);
    try {
      const up = await tryOn(shadow.knex, step.migration, 'up', opts.timeoutMs);
      const after = up.error ? undefined : await snapshotAfter(shadow.knex, shadow.catalog, before, up.sql);
      const changes = after ? diffSchemas(before, after) : [];
      const lint = reported ? located(step, withSettings(lintMigration({
        concurrentIndexes: shadow.concurrentIndexes, before, after, changes, sql: up.sql, transactional: step.migration.transaction !== false, hasDown: typeof step.migration.down === 'function',
      }), opts.lint)) : [];
      if (up.error || !after) {
        fail({ ...base, outcome: 'failed', problems: [`up() failed on the shadow: ${describeError(up.error)}`], lint });
        continue;
      }
      model = after;
      done.push(step);
      if (!reported) continue;
      if (!opts.reversibility) {
        results.push({ ...base, outcome: 'checked', problems: [], lint });
      } else if (typeof step.migration.down !== 'function') {
        results.push({ ...base, outcome: 'no-down', problems: ['down() is missing: it cannot be rolled back.'], lint });
      } else {
        const checked = await reverse(shadow, step, before, after, up.sql, opts.timeoutMs);
        if (checked.failed) {
          done.pop();
          fail({ ...base, outcome: 'failed', problems: checked.problems, lint });
          continue;
        }
        if (checked.model) model = checked.model;
        else ({ shadow, model } = await rebuild(done));
        results.push({ ...base, outcome: checked.problems.length > 0 ? 'irreversible' : 'reversible', problems: checked.problems, lint });
      }
    } finally {
      opts.around?.after(step);
    }
  }
  // Verify fails on anything not proven reversible (its lint findings are shown, as lint's own); lint on findings of error severity.
  const ok = opts.reversibility ? results.every((r) => r.outcome === 'reversible') : results.every((r) => r.outcome === 'checked' && r.lint.every((f) => f.severity !== 'error'));
  return { ok, shadow: first.label, migrations: results };
}

/**
 * down() must give back the schema before up(); up() again must give the same schema as the first
 * time. `model`: the shadow's schema afterwards, unset when down() left it in a state to rebuild.
 */
async function reverse(shadow: Shadow, step: LoadedStep, before: SchemaModel, after: SchemaModel, firstSql: readonly string[], timeoutMs?: number): Promise<{ problems: string[]; model?: SchemaModel; failed: boolean }> {
  const down = await tryOn(shadow.knex, step.migration, 'down', timeoutMs);
  if (down.error) return { problems: [`down() failed on the shadow: ${describeError(down.error)}`], failed: true };
  const back = await snapshotAfter(shadow.knex, shadow.catalog, after, down.sql);
  const problems = diffSchemas(before, back).map(leftBehind);
  // up() again on what a wrong down() left would mostly fail for that reason alone.
  if (problems.length > 0) return { problems, failed: false };
  const again = await tryOn(shadow.knex, step.migration, 'up', timeoutMs);
  if (again.error) return { problems: [`up() failed when run again after down(): ${describeError(again.error)}`], failed: true };
  // The same statements on the same schema make the same schema: only SQL that differs (a
  // migration that looks at the data) needs reading again.
  const same = again.sql.length === firstSql.length && again.sql.every((q, i) => q === firstSql[i]);
  const redone = same ? after : await snapshotAfter(shadow.knex, shadow.catalog, back, again.sql);
  const differs = describeChanges(diffSchemas(after, redone));
  if (differs.length > 0) return { problems: [`up() after down() gives another schema than the first up(): ${differs.join('; ')}`], failed: false };
  return { problems, model: redone, failed: false };
}

/** A difference between the schema before up() and after down(), as what down() got wrong. */
function leftBehind(c: SchemaChange): string {
  if (c.kind.endsWith('-added')) return `down() leaves ${c.text}`;
  if (c.kind.endsWith('-removed')) return `down() removes ${c.text}, which up() did not add`;
  return `down() leaves ${c.text} changed`;
}

/** Findings on the line of the migration's up(), minus those a `migrations-disable-next-line` comment there silences. */
function located(step: LoadedStep, findings: readonly LintFinding[]): CheckedMigration['lint'] {
  const file = step.file.path || null;
  let text = '';
  try {
    text = file ? fs.readFileSync(file, 'utf8') : '';
  } catch {
    // A file gone since it was loaded: the findings stay, without a line.
  }
  const at = /\bup\s*(?:\(|=|:)/.exec(text);
  const line = at ? text.slice(0, at.index).split('\n').length : 1;
  const off = disabledAt(text, line);
  return findings.filter((f) => !off.has(f.code)).map((f) => ({ ...f, file, line }));
}

/** Opens a shadow, rebuilds the applied schema on it, checks the pending migrations, and throws the shadow away. */
export async function checkOnShadow(target: DatabaseTarget, settings: Settings, applied: readonly LoadedStep[], pending: readonly LoadedStep[], opts: CheckOptions): Promise<VerifyReport> {
  const dialect = dialectOf(target);
  let shadow = await openShadow(target, settings, dialect);
  const rebuild = async (steps: readonly LoadedStep[]) => {
    await shadow.dispose();
    shadow = await openShadow(target, settings, dialect);
    return { shadow, model: await replayApplied(shadow, [...applied, ...steps], opts) };
  };
  try {
    return await checkPending(shadow, await replayApplied(shadow, applied, opts), pending, opts, rebuild);
  } finally {
    await shadow.dispose();
  }
}

/** The live schema against the applied migrations replayed on a shadow. */
export async function driftOf(target: DatabaseTarget, settings: Settings, applied: readonly LoadedStep[], live: SchemaModel, opts: Pick<CheckOptions, 'timeoutMs' | 'around'> = {}): Promise<DriftReport> {
  const shadow = await openShadow(target, settings);
  try {
    return drift(shadow.label, await replayApplied(shadow, applied, opts), live);
  } finally {
    await shadow.dispose();
  }
}

/** The live database against the shadow rebuilt from the applied migrations: what changed outside migrations. */
export interface DriftReport {
  readonly drifted: boolean;
  readonly shadow: string;
  /** `exists only in the database: column users.nickname`, `missing from the database: …`, `changed in the database: …`. */
  readonly changes: readonly (SchemaChange & { readonly summary: string })[];
}

export function drift(shadowLabel: string, expected: SchemaModel, live: SchemaModel): DriftReport {
  const changes = diffSchemas(expected, live).map((c) => ({
    ...c,
    summary: `${c.kind.endsWith('-added') ? 'exists only in the database' : c.kind.endsWith('-removed') ? 'missing from the database' : 'changed in the database'}: ${c.text}`,
  }));
  return { drifted: changes.length > 0, shadow: shadowLabel, changes };
}
