import type { Knex } from 'knex';
import { crypto } from '../model/checksum';

/**
 * Each table's definition as SQLite keeps it: a hash of its own row of sqlite_master and those of
 * its indexes. Everything introspection reads of a table (columns, types, defaults, keys, indexes,
 * foreign keys) is derived from these rows, so a table whose hash is unchanged reads the same,
 * and one query tells which tables changed, whatever changed them. The tables are those a
 * whole-schema introspection lists (`sqlite_%` ones left out). Undefined when a row cannot be
 * placed. SQLite's catalog.fingerprints; servers have none.
 */
export async function sqliteTableFingerprints(knex: Knex): Promise<Map<string, string> | undefined> {
  const rows = (await knex.raw(`select type, name, tbl_name, sql from sqlite_master where type in ('table', 'index') order by type desc, name`)) as { type: string; name: string; tbl_name: string; sql: string | null }[];
  const parts = new Map<string, unknown[]>();
  for (const row of rows) {
    // LIKE, as introspection filters them: case-insensitive.
    if (row.type === 'table' && !/^sqlite_/i.test(row.name)) parts.set(row.name, [row.sql]);
  }
  for (const row of rows) {
    if (row.type !== 'index' || /^sqlite_/i.test(row.tbl_name)) continue;
    const table = parts.get(row.tbl_name);
    // An index whose table is not listed under the same name: unsure, so no fingerprints.
    if (!table) return undefined;
    table.push(row.name, row.sql);
  }
  // Hashed, as the record of a dump keeps one per table; to tell a change, not to resist an
  // attacker: SHA-1 in one call is ~4× cheaper than a Hash object per table (1000 on the runner thread).
  return new Map([...parts].map(([name, p]) => [name, crypto().hash('sha1', JSON.stringify(p), 'base64')]));
}

