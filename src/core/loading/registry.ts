import { checkShape } from './loader';
import { MigrationsError } from '../model/errors';
import type { Migration, MigrationFile, Source } from '../model/types';

/**
 * A source for migrations supplied in code (the older manual registration):
 * no files, so no checksum; everything else behaves like a folder source.
 */
export function registeredSource(id: string, migrations: readonly (Migration | (new () => Migration))[], where = `registerMigrations("${id}")`): Source {
  const files: MigrationFile[] = migrations.map((m, i) => {
    const instance = typeof m === 'function' ? new m() : m;
    const version = Number((instance as Partial<Migration>)?.version);
    const { environments, tags } = (instance ?? {}) as Partial<Migration>;
    const file: MigrationFile = { version, name: String(instance?.description ?? ''), path: '', checksum: '', problems: [], instance, ...(environments && { environments }), ...(tags && { tags }) };
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new MigrationsError(`${where}: entry ${i} has version ${String((instance as Partial<Migration>)?.version)}; a version is a whole number of 1 or more, as in a file name.`, { code: 'config', facts: { source: id } });
    }
    const checked = checkShape(file, instance);
    if (!checked.migration) {
      throw new MigrationsError(`${where}: entry ${i} ${checked.problems[0]?.message ?? 'is not a migration'}`);
    }
    return file;
  });
  const versions = new Set<number>();
  for (const f of files) {
    if (versions.has(f.version)) throw new MigrationsError(`${where}: version ${f.version} is registered twice.`);
    versions.add(f.version);
  }
  return { id, dir: '', migrations: files.sort((a, b) => a.version - b.version), problems: [] };
}
