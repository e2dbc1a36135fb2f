import * as path from 'node:path';
import { openShadow } from '../database/shadow';
import { ConfigError } from '../model/errors';
import { renderMigrationDocs, type DocsSource } from '../model/migrationDocs';
import { writeInWorkspace } from '../config/workspaceFiles';
import { effectKey, replayEffects } from '../verify/effects';
import { everyStep } from './steps';
import { checkOptions, refuseUnreadable, type Operation } from './operation';
import { snapshotName } from './schemaFile';

export interface DocsReport {
  /** The Markdown, byte-identical for the same migrations and history. */
  readonly text: string;
  /** Where it was written (absolute), when `out` was given. */
  readonly path?: string;
}

/**
 * `docs`: every source's migrations with their status and applied time in this database and what
 * each does to the schema (replayed one by one on a shadow, reading only the tables each touched),
 * then an ER diagram of each source's resulting tables. Never runs anything on this database.
 */
export const docs: Operation<{ out?: string }, DocsReport> = {
  name: 'docs',
  executesCode: 'Writing migration docs',
  onShadow: true,
  args(raw) {
    const { signal: _s, onMigration: _o, ...given } = raw;
    checkOptions('docs', given, ['out']);
    if (raw.out !== undefined && (typeof raw.out !== 'string' || !raw.out.trim())) throw new ConfigError('docs: out must be a file path (e.g. docs/migrations.md).', {}, 'usage');
    return { out: raw.out as string | undefined };
  },
  async run(ctx, args, _pre, io) {
    const { target, sources: { settings, workspace } } = ctx;
    const sources = ctx.sources.sources();
    const history = refuseUnreadable(await target.guard(() => target.read()), target.label);
    const states = history.states(sources, settings.environment);
    const database = snapshotName(ctx);
    const shadow = await target.guard(() => openShadow(target.target, settings, target.dialect));
    let replayed;
    try {
      replayed = await replayEffects(shadow, everyStep(ctx), { timeoutMs: settings.migrationTimeoutMs, signal: io.signal });
    } finally {
      await shadow.dispose();
    }
    const failed = replayed.failed;
    const docsSources: DocsSource[] = states.map(({ source, states: migrations }) => {
      const touched = new Set<string>();
      const rows = migrations.map((m) => {
        const changes = replayed.changes.get(effectKey(source.id, m.version));
        for (const c of changes ?? []) touched.add(c.table);
        return {
          version: m.version,
          description: m.description,
          statuses: [{ database, status: m.status, ...(m.appliedAt ? { appliedAt: m.appliedAt } : {}) }],
          changes,
        };
      });
      const folder = source.dir ? path.relative(workspace, source.dir).split(path.sep).join('/') || '.' : undefined;
      return {
        id: source.id,
        folder,
        migrations: rows,
        ...(failed
          ? { schemaUnknown: `Unknown: migration ${failed.version} (${failed.source}) failed on the shadow (${failed.error}), so nothing after it was replayed.` }
          : { schema: { tables: replayed.schema.tables.filter((t) => touched.has(t.name)) } }),
      };
    });
    const text = renderMigrationDocs({ sources: docsSources });
    if (args.out === undefined) return { text };
    const file = path.resolve(workspace, args.out);
    writeInWorkspace(workspace, file, text);
    return { text, path: file };
  },
};
