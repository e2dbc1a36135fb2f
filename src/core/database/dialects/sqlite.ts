import * as fs from 'node:fs';
import type { Knex } from 'knex';
import { normaliseDefault, normaliseType, orNull, str, type Catalog, type CatalogRows, type Row } from '../catalog';
import { openSqlite, type DatabaseTarget } from '../database';
import type { Dialect } from '../dialect';
import { sqliteTableFingerprints } from '../schemaFingerprint';
import { readSqlite } from '../sqliteRead';
import { TableLock } from '../tableLock';
import { connectionOf } from './interrupt';

/** A SQLite file, through the built-in node:sqlite or the user's sqlite3 / better-sqlite3. */
export function sqliteDialect(target: DatabaseTarget): Dialect {
  const filename = target.filename!;
  // The built-in driver for an app's own Knex instance: its driver may not load from here.
  const client = target.instance ? 'sqlite' : target.client;
  return {
    name: 'SQLite',
    server: false,
    transactionalDdl: true,
    singleConnection: true,
    concurrentIndexes: false,
    generator: 'sqlite',
    catalog: SQLITE_CATALOG,
    // A database in memory on the same driver: nothing to create, name or drop.
    shadow: { memory: () => openSqlite({ ...target, client, instance: undefined, filename: ':memory:', label: 'SQLite in memory' }, 'write')! },
    open: (mode) => openSqlite(target, mode),
    lock: (knex, options, logger) => new TableLock(knex, options, logger),
    async interrupt(_knex, trx) {
      // node-sqlite3 can interrupt a statement; node:sqlite and better-sqlite3 run it synchronously, so nothing runs meanwhile.
      ((await connectionOf(trx)) as { interrupt?: () => void }).interrupt?.();
    },
    quickRead: target.client === 'sqlite' ? (source) => (fs.existsSync(filename) ? readSqlite(filename, target.label, source) : { rows: [], unreadable: [] }) : undefined,
  };
}

// The pragmas as table-valued functions joined to sqlite_master, so a whole-schema read is three
// queries, not three per table. sqlite_master rather than its newer alias sqlite_schema: a user's
// own sqlite3 driver may bundle a SQLite older than 3.33.
export const SQLITE_CATALOG: Catalog = {
  async read(knex, tables) {
    // A few named tables (what a migration touched): the pragmas straight, without scanning
    // sqlite_master (ten times faster with 1000 tables). A table that is gone has no columns.
    if (tables) {
      const each = await Promise.all(tables.map((t) => readRows(knex, '(select ? as name) m', undefined, [t])));
      return { columns: each.flatMap((r) => r.columns), indexes: each.flatMap((r) => r.indexes), foreignKeys: each.flatMap((r) => r.foreignKeys) };
    }
    return readRows(knex, 'sqlite_master m', `m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\'`, []);
  },
  fingerprints: sqliteTableFingerprints,
};

/** The catalog rows of the tables `source` (aliased m, with a name column) lists, filtered by `filter`. */
async function readRows(knex: Knex, source: string, filter: string | undefined, bindings: unknown[]): Promise<CatalogRows> {
  const where = filter ? `where ${filter}` : '';
  const and = filter ? `and ${filter}` : '';
  // The SQLite clients' knex.raw gives the rows themselves.
  const run = async (sql: string) => (await knex.raw(sql, bindings as Knex.RawBinding[])) as Row[];
  const columns = await run(`select m.name as tbl, c.name, c.type, c."notnull" as not_null, c.dflt_value as dflt, c.pk
    from ${source} join pragma_table_info(m.name) c ${where} order by m.name, c.cid`);
  // origin 'pk': the primary key's own index, which table_info's pk column describes (for rowid tables too).
  const indexes = await run(`select m.name as tbl, l.name, l."unique" as uniq, i.name as col
    from ${source} join pragma_index_list(m.name) l join pragma_index_info(l.name) i
    where l.origin <> 'pk' ${and} order by m.name, l.name, i.seqno`);
  const foreignKeys = await run(`select m.name as tbl, f.id, f."table" as ref, f."from" as col, f."to" as refcol, f.on_delete, f.on_update
    from ${source} join pragma_foreign_key_list(m.name) f ${where} order by m.name, f.id, f.seq`);
  return {
    columns: columns.map((r) => ({ table: str(r.tbl), name: str(r.name), type: normaliseType(str(r.type)), nullable: Number(r.not_null) === 0, default: normaliseDefault(orNull(r.dflt)), pk: Number(r.pk) })),
    // An expression's key column has no name.
    indexes: indexes.map((r) => ({ table: str(r.tbl), name: str(r.name), unique: Number(r.uniq) === 1, primary: false, column: r.col === null ? '(expression)' : str(r.col) })),
    foreignKeys: foreignKeys.map((r) => ({ table: str(r.tbl), id: str(r.id), column: str(r.col), refTable: str(r.ref), refColumn: orNull(r.refcol), onDelete: str(r.on_delete).toLowerCase(), onUpdate: str(r.on_update).toLowerCase() })),
  };
}
