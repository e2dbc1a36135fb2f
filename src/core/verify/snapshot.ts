import type { Knex } from 'knex';
import { introspect } from '../database/introspect';
import type { Catalog } from '../database/catalog';
import { bareName as name, type SchemaModel, type TableModel } from '../model/schema';

/** Statements that change the schema; anything else (inserts, updates) leaves the model as it was. */
const DDL = /^\s*(create|alter|drop|rename|truncate|comment)\b/i;


/**
 * The tables these statements may have changed, or 'all' when one cannot be told (then the whole
 * schema is read again). Reading only what a migration touched keeps checking 1000 migrations
 * close to the cost of running them.
 */
export function touchedTables(sql: readonly string[], previous: SchemaModel): Set<string> | 'all' {
  const touched = new Set<string>();
  for (const s of sql) {
    if (!DDL.test(s)) continue;
    if (/^\s*truncate\b/i.test(s)) continue;
    const table = /^\s*(?:create|alter|drop)\s+(?:temporary\s+|temp\s+)?table\s+(?:if\s+(?:not\s+)?exists\s+)?(?:only\s+)?([^\s(]+)(?:.*?\brename\s+to\s+([^\s;]+))?/is.exec(s);
    const index = /^\s*create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?[^\s(]*\s*on\s+(?:only\s+)?([^\s(]+)/i.exec(s);
    const dropIndex = /^\s*drop\s+index\s+(?:concurrently\s+)?(?:if\s+exists\s+)?([^\s;]+)(?:\s+on\s+([^\s;]+))?/i.exec(s);
    const renameTable = /^\s*rename\s+table\s+([^\s]+)\s+to\s+([^\s;]+)/i.exec(s);
    if (table) {
      touched.add(name(table[1]));
      if (table[2]) touched.add(name(table[2]));
    } else if (index) {
      touched.add(name(index[1]));
    } else if (dropIndex) {
      // MySQL names the table; elsewhere the index's table is found in the schema as it was.
      const owner = dropIndex[2] ? name(dropIndex[2]) : previous.tables.find((t) => t.indexes.some((i) => i.name === name(dropIndex[1])))?.name;
      if (!owner) return 'all';
      touched.add(owner);
    } else if (renameTable) {
      touched.add(name(renameTable[1]));
      touched.add(name(renameTable[2]));
    } else {
      return 'all';
    }
  }
  return touched;
}

/** The schema after `sql` ran: `previous` with the touched tables read again (all of it when unsure). */
export async function snapshotAfter(knex: Knex, catalog: Catalog, previous: SchemaModel, sql: readonly string[]): Promise<SchemaModel> {
  const touched = touchedTables(sql, previous);
  if (touched === 'all') return introspect(knex, catalog);
  if (touched.size === 0) return previous;
  const fresh = await introspect(knex, catalog, { tables: [...touched] });
  // Both lists are sorted by name: merged in one pass, the untouched tables kept as the same objects.
  const kept = previous.tables.filter((t) => !touched.has(t.name));
  const tables: TableModel[] = [];
  let j = 0;
  for (const table of kept) {
    while (j < fresh.tables.length && fresh.tables[j].name < table.name) tables.push(fresh.tables[j++]);
    tables.push(table);
  }
  tables.push(...fresh.tables.slice(j));
  return { tables };
}
