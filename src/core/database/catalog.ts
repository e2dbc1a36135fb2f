import type { Knex } from 'knex';
import type { ColumnModel } from '../model/schema';

/**
 * A database's catalog queries, owned by its dialect: the rows of the connected schema's tables
 * (only `tables` when given), which introspect() turns into one model the same for every database.
 */
export interface Catalog {
  read(knex: Knex, tables?: readonly string[]): Promise<CatalogRows>;
  /**
   * A hash of each table's definition, where one query can tell them (SQLite): what the schema
   * snapshot compares to read again only the tables that changed. Undefined when unsure.
   */
  fingerprints?(knex: Knex): Promise<Map<string, string> | undefined>;
}

/** What every dialect's catalog query is reduced to before the model is built. */
export interface CatalogRows {
  /** Undefined: every table has a column, so the column rows name them all. */
  readonly tables?: readonly string[];
  /** In each table's column order; `pk` is the 1-based position in the primary key, 0 outside it. */
  readonly columns: readonly (ColumnModel & { readonly table: string; readonly pk?: number })[];
  /** One row per key column, in key order; `primary` rows make the primary key instead of an index. */
  readonly indexes: readonly { table: string; name: string; unique: boolean; primary: boolean; column: string }[];
  /** One row per column pair, in key order; `id` tells the foreign keys of one table apart. */
  readonly foreignKeys: readonly { table: string; id: string; column: string; refTable: string; refColumn: string | null; onDelete: string; onUpdate: string }[];
}

export type Row = Record<string, unknown>;

/** `and <column> in (?, ?)` when the read is limited (one placeholder each: only mysql2 expands an array). */
export function limitTo(column: string, tables: readonly string[] | undefined): { sql: string; bindings: unknown[] } {
  return tables ? { sql: ` and ${column} in (${tables.map(() => '?').join(', ')})`, bindings: [...tables] } : { sql: '', bindings: [] };
}

export const str = (v: unknown): string => String(v);
export const orNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function normaliseType(type: string): string {
  return type.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A default of NULL is no default: MariaDB reports every nullable column's as the text `NULL`. */
export function normaliseDefault(dflt: string | null): string | null {
  const text = dflt?.trim();
  return text === undefined || text === '' || /^null$/i.test(text) ? null : text;
}
