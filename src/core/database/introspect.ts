import type { Knex } from 'knex';
import type { ForeignKeyModel, IndexModel, SchemaModel, TableModel } from '../model/schema';
import type { Catalog, CatalogRows } from './catalog';
import { HISTORY_TABLE } from './history';
import { LOCK_TABLE } from './lock';
import { SHADOW_MARKER } from './shadow';

export interface IntrospectOptions {
  /** Read only these tables (missing ones are simply absent): verification looks at what a migration touched. */
  readonly tables?: readonly string[];
}

/** Bookkeeping, ours and knex's own migrator's: never part of the schema a migration builds. */
const BOOKKEEPING = new Set([HISTORY_TABLE, LOCK_TABLE, SHADOW_MARKER, 'knex_migrations', 'knex_migrations_lock']);

/**
 * The schema of the connected database (its current schema, or `database()` on MySQL) as one
 * normalised model: read straight from the catalogs with the dialect's queries (`dialect.catalog`),
 * a handful of queries per read whatever the number of tables.
 */
export async function introspect(knex: Knex, catalog: Catalog, opts: IntrospectOptions = {}): Promise<SchemaModel> {
  const wanted = opts.tables?.filter((t) => !BOOKKEEPING.has(t));
  // `in ()` is not SQL; asking for no tables is asking for an empty schema.
  if (wanted?.length === 0) return { tables: [] };
  return assemble(await catalog.read(knex, wanted));
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

function assemble(rows: CatalogRows): SchemaModel {
  const columnsOf = groupBy(rows.columns, (r) => r.table);
  const indexesOf = groupBy(rows.indexes, (r) => r.table);
  const foreignKeysOf = groupBy(rows.foreignKeys, (r) => r.table);
  const names = (rows.tables ?? [...columnsOf.keys()]).filter((t) => !BOOKKEEPING.has(t));

  const tables = [...new Set(names)].sort(byText).map((name): TableModel => {
    const columns = columnsOf.get(name) ?? [];
    const keyParts = groupBy(indexesOf.get(name) ?? [], (r) => r.name);
    const primary = [...keyParts.values()].find((parts) => parts[0].primary);
    const indexes = [...keyParts.values()]
      .filter((parts) => !parts[0].primary)
      .map((parts): IndexModel => ({ name: parts[0].name, unique: parts[0].unique, columns: parts.map((p) => p.column) }))
      .sort((a, b) => byText(a.name, b.name));
    return {
      name,
      columns: columns.map(({ name: column, type, nullable, default: dflt }) => ({ name: column, type, nullable, default: dflt })),
      primaryKey: primary
        ? primary.map((p) => p.column)
        : columns.filter((c) => (c.pk ?? 0) > 0).sort((a, b) => a.pk! - b.pk!).map((c) => c.name),
      indexes,
      foreignKeys: [],
    };
  });

  // Foreign keys last: SQLite leaves out the referenced columns when they are the other table's primary key.
  const primaryKeyOf = new Map(tables.map((t) => [t.name, t.primaryKey]));
  return {
    tables: tables.map((table) => ({
      ...table,
      foreignKeys: [...groupBy(foreignKeysOf.get(table.name) ?? [], (r) => r.id).values()]
        .map((parts): ForeignKeyModel => ({
          columns: parts.map((p) => p.column),
          table: parts[0].refTable,
          references: parts.some((p) => p.refColumn === null) ? [...(primaryKeyOf.get(parts[0].refTable) ?? [])] : parts.map((p) => p.refColumn!),
          onDelete: parts[0].onDelete,
          onUpdate: parts[0].onUpdate,
        }))
        .sort((a, b) => byText(a.columns.join(','), b.columns.join(',')) || byText(a.table, b.table) || byText(a.references.join(','), b.references.join(','))),
    })),
  };
}
