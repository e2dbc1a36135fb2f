import { loadMigrations } from '../loading/loader';
import { mergeProblems } from '../model/problems';
import { allowingSumMismatch, checkSum } from '../sources/integrity';
import type { MigrationFile, Problem } from '../model/types';
import type { Operation } from './operation';

/**
 * Static checks, each folder's migrations.sum (its problems are errors: they block `up`; warnings
 * with `allowSumMismatch`), plus loading every file.
 */
export const validate: Operation<{ source?: string; allowSumMismatch?: boolean }, Problem[]> = {
  name: 'validate',
  executesCode: 'Loading the migration files',
  args: (raw) => ({ source: raw.source as string | undefined, allowSumMismatch: raw.allowSumMismatch as boolean | undefined }),
  async run(ctx, { source, allowSumMismatch }) {
    const problems = ctx.sources.sources(source).flatMap((s) => {
      const loaded = loadMigrations(s.migrations, ctx.sources.cache);
      return [...s.problems, ...s.migrations.flatMap((m, i) => (m.problems.some((p) => p.severity === 'error') ? m.problems : mergeProblems(m.problems, loaded[i].problems))),
        ...(s.dir ? checkSum(s.dir, s.migrations) : [])];
    });
    return allowSumMismatch ? allowingSumMismatch(problems) : problems;
  },
};

/** The problems that only loading shows (what `getMigration()` returns, a throw at import), per file: the editor's diagnostics. */
export const load: Operation<{ files: readonly MigrationFile[] }, (readonly Problem[])[]> = {
  name: 'load',
  executesCode: 'Loading the migration files',
  args: (raw) => ({ files: raw.files as readonly MigrationFile[] }),
  async run(ctx, { files }) {
    return loadMigrations(files, ctx.sources.cache).map((r) => r.problems);
  },
};
