import { plural, type MigrationState } from '../core';

export { plural };

// How the editor's messages name counts and migrations: "1 migration", "3 migrations" (never
// "migration(s)"), and a migration by its source, version and description.

/** A version as the tree shows it: 3 → "003". */
export function padded(version: number): string {
  return String(version).padStart(3, '0');
}

/** "003 Add JSON metadata (versions)": what a confirmation or a result names. */
export function migrationName(m: Pick<MigrationState, 'source' | 'version' | 'description'>): string {
  return `${padded(m.version)} ${m.description} (${m.source})`;
}

/**
 * Migrations in a sentence, grouped by source in the order given: "versions: 003 Add JSON
 * metadata, 002 Add flag; billing: 004 Add invoices"; past `max` of them, "and N more".
 */
export function migrationList(ms: readonly Pick<MigrationState, 'source' | 'version' | 'description'>[], max = 5): string {
  const groups = new Map<string, string[]>();
  for (const m of ms.slice(0, max)) groups.set(m.source, [...(groups.get(m.source) ?? []), `${padded(m.version)} ${m.description}`]);
  const list = [...groups].map(([source, names]) => `${source}: ${names.join(', ')}`).join('; ');
  return ms.length > max ? `${list} and ${ms.length - max} more` : list;
}

/** One migration by name, several as "3 migrations (versions: 001 …, 002 …)". */
export function migrationsNamed(ms: readonly Pick<MigrationState, 'source' | 'version' | 'description'>[]): string {
  return ms.length === 1 ? migrationName(ms[0]) : `${plural(ms.length, 'migration')} (${migrationList(ms)})`;
}

/** A stored ISO time as the user reads it: local, in the editor's locale ("12/6/2026, 5:12:03 AM"); the text itself when it is no time. */
export function localTime(iso: string, locale?: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(locale);
}
