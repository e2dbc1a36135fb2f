import type { Knex } from 'knex';
import type { ColumnModel, ForeignKeyModel, IndexModel, SchemaModel, TableModel } from '../model/schema';
import { HISTORY_TABLE } from './history';
import { LOCK_TABLE } from './lock';
import { SHADOW_MARKER } from './shadow';

export type IntrospectKind = 'sqlite' | 'pg' | 'mysql';

export interface IntrospectOptions {
  /** Read only these tables (missing ones are simply absent): verification looks at what a migration touched. */
  readonly tables?: readonly string[];
}

/** Bookkeeping, ours and knex's own migrator's: never part of the schema a migration builds. */
const BOOKKEEPING = new Set([HISTORY_TABLE, LOCK_TABLE, SHADOW_MARKER, 'knex_migrations', 'knex_migrations_lock']);

/** What every dialect's catalog query is reduced to before the model is built. */
interface CatalogRows {
  /** Undefined: every table has a column, so the column rows name them all. */
  readonly tables?: readonly string[];
  /** In each table's column order; `pk` is the 1-based position in the primary key, 0 outside it. */
  readonly columns: readonly (ColumnModel & { readonly table: string; readonly pk?: number })[];
  /** One row per key column, in key order; `primary` rows make the primary key instead of an index. */
  readonly indexes: readonly { table: string; name: string; unique: boolean; primary: boolean; column: string }[];
  /** One row per column pair, in key order; `id` tells the foreign keys of one table apart. */
  readonly foreignKeys: readonly { table: string; id: string; column: string; refTable: string; refColumn: string | null; onDelete: string; onUpdate: string }[];
}

/**
 * The schema of the connected database (its current schema, or `database()` on MySQL) as one
 * normalised model: read straight from the catalogs, a handful of queries per read whatever the
 * number of tables.
 */
export async function introspect(knex: Knex, kind: IntrospectKind, opts: IntrospectOptions = {}): Promise<SchemaModel> {
  const wanted = opts.tables?.filter((t) => !BOOKKEEPING.has(t));
  // `in ()` is not SQL; asking for no tables is asking for an empty schema.
  if (wanted?.length === 0) return { tables: [] };
  const read = kind === 'sqlite' ? readSqlite : kind === 'pg' ? readPostgres : readMysql;
  return assemble(await read(knex, wanted));
}

type Row = Record<string, unknown>;

/** knex.raw's rows: an array from the SQLite clients, `{ rows }` from pg, `[rows, fields]` from mysql2. */
async function query(knex: Knex, kind: IntrospectKind, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  const result: unknown = await knex.raw(sql, bindings as Knex.RawBinding[]);
  if (kind === 'pg') return (result as { rows: Row[] }).rows;
  return (kind === 'mysql' ? (result as Row[][])[0] : result) as Row[];
}

/** `and <column> in (?, ?)` when the read is limited (one placeholder each: only mysql2 expands an array). */
function limitTo(column: string, tables: readonly string[] | undefined): { sql: string; bindings: unknown[] } {
  return tables ? { sql: ` and ${column} in (${tables.map(() => '?').join(', ')})`, bindings: [...tables] } : { sql: '', bindings: [] };
}

const str = (v: unknown): string => String(v);
const orNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

// ---------------------------------------------------------------------------------------------
// SQLite: the pragmas as table-valued functions joined to sqlite_master, so a whole-schema read is
// three queries, not three per table. sqlite_master rather than its newer alias sqlite_schema:
// a user's own sqlite3 driver may bundle a SQLite older than 3.33.

async function readSqlite(knex: Knex, tables?: readonly string[]): Promise<CatalogRows> {
  // A few named tables (what a migration touched): the pragmas straight, without scanning
  // sqlite_master (ten times faster with 1000 tables). A table that is gone has no columns.
  if (tables) {
    const each = await Promise.all(tables.map((t) => readSqliteRows(knex, '(select ? as name) m', undefined, [t])));
    return { columns: each.flatMap((r) => r.columns), indexes: each.flatMap((r) => r.indexes), foreignKeys: each.flatMap((r) => r.foreignKeys) };
  }
  return readSqliteRows(knex, 'sqlite_master m', `m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\'`, []);
}

/** The catalog rows of the tables `source` (aliased m, with a name column) lists, filtered by `filter`. */
async function readSqliteRows(knex: Knex, source: string, filter: string | undefined, bindings: unknown[]): Promise<CatalogRows> {
  const where = filter ? `where ${filter}` : '';
  const and = filter ? `and ${filter}` : '';
  const run = (sql: string) => query(knex, 'sqlite', sql, bindings);
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

// ---------------------------------------------------------------------------------------------
// PostgreSQL: pg_catalog rather than information_schema (which hides what the user does not own
// and is slow to join), for the tables of current_schema(). Partitions belong to their parent.

const PG_TABLES = `c.relnamespace = (select oid from pg_namespace where nspname = current_schema()) and c.relkind in ('r', 'p') and not c.relispartition`;

const PG_RULES: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

async function readPostgres(knex: Knex, tables?: readonly string[]): Promise<CatalogRows> {
  const limit = limitTo('c.relname', tables);
  const where = `${PG_TABLES}${limit.sql}`;
  const run = (sql: string) => query(knex, 'pg', sql, limit.bindings);
  const [tableRows, columns, indexes, foreignKeys] = await Promise.all([
    // PostgreSQL allows a table without columns, so the tables are a query of their own.
    run(`select c.relname as tbl from pg_class c where ${where}`),
    run(`select c.relname as tbl, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable, pg_get_expr(d.adbin, d.adrelid) as dflt
      from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where ${where} order by c.relname, a.attnum`),
    // Key columns only (not INCLUDE ones); an expression's position has attnum 0 and is shown as its text.
    run(`select c.relname as tbl, i.relname as name, x.indisunique as uniq, x.indisprimary as prim, coalesce(a.attname, pg_get_indexdef(x.indexrelid, k.ord::int, true)) as col
      from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
      cross join lateral unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)
      left join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum and k.attnum > 0
      where ${where} and k.ord <= x.indnkeyatts order by c.relname, i.relname, k.ord`),
    run(`select c.relname as tbl, f.conname as id, a.attname as col, r.relname as ref, ra.attname as refcol, f.confdeltype as on_delete, f.confupdtype as on_update
      from pg_constraint f join pg_class c on c.oid = f.conrelid join pg_class r on r.oid = f.confrelid
      cross join lateral unnest(f.conkey, f.confkey) with ordinality as k(col, refcol, ord)
      join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.col
      join pg_attribute ra on ra.attrelid = f.confrelid and ra.attnum = k.refcol
      where f.contype = 'f' and ${where} order by c.relname, f.conname, k.ord`),
  ]);
  return {
    tables: tableRows.map((r) => str(r.tbl)),
    columns: columns.map((r) => ({ table: str(r.tbl), name: str(r.name), type: pgType(str(r.type)), nullable: r.nullable === true, default: pgDefault(orNull(r.dflt)) })),
    indexes: indexes.map((r) => ({ table: str(r.tbl), name: str(r.name), unique: r.uniq === true, primary: r.prim === true, column: str(r.col) })),
    foreignKeys: foreignKeys.map((r) => ({ table: str(r.tbl), id: str(r.id), column: str(r.col), refTable: str(r.ref), refColumn: str(r.refcol), onDelete: PG_RULES[str(r.on_delete)] ?? str(r.on_delete), onUpdate: PG_RULES[str(r.on_update)] ?? str(r.on_update) })),
  };
}

/** format_type's SQL-standard spellings, shortened to the names knex declares. */
const PG_TYPE_NAMES: readonly [RegExp, string][] = [
  [/^character varying/, 'varchar'],
  [/^character(?! varying)/, 'char'],
  [/^timestamp(\(\d+\))? with time zone/, 'timestamptz$1'],
  [/^timestamp(\(\d+\))? without time zone/, 'timestamp$1'],
  [/^time(\(\d+\))? with time zone/, 'timetz$1'],
  [/^time(\(\d+\))? without time zone/, 'time$1'],
  [/^bit varying/, 'varbit'],
];

function pgType(formatted: string): string {
  return PG_TYPE_NAMES.reduce((type, [pattern, short]) => type.replace(pattern, short), normaliseType(formatted));
}

/** A literal with the cast PostgreSQL adds to it: `'open'::character varying`, `'-1'::integer`. */
const CAST_LITERAL = /^('(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|null)::[a-z_][\w ."]*(?:\([\d, ]+\))?(?:\[\])*$/i;

/** A number PostgreSQL quotes for a type other than integer (`'0'::bigint`, `'-1'::integer`): bare, as for integer. */
const QUOTED_NUMBER = /^'(-?\d+(?:\.\d+)?)'::(?:smallint|integer|bigint|numeric|real|double precision)(?:\([\d, ]+\))?$/;

function pgDefault(dflt: string | null): string | null {
  // A serial column's sequence is named after its table: the column's type says increments enough.
  if (dflt === null || /^nextval\(/i.test(dflt)) return null;
  return normaliseDefault(dflt.replace(QUOTED_NUMBER, '$1').replace(CAST_LITERAL, '$1'));
}

// ---------------------------------------------------------------------------------------------
// MySQL/MariaDB: information_schema of database(). Columns are aliased in lower case: MySQL 8
// names them in upper case otherwise.

/** Types whose default MySQL 8 reports without its quotes (MariaDB 10.2.7+ keeps them). */
const MYSQL_QUOTED_TYPES = /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|date|datetime|timestamp|time|binary|varbinary)$/;

async function readMysql(knex: Knex, tables?: readonly string[]): Promise<CatalogRows> {
  const limit = limitTo('t.table_name', tables);
  const run = (sql: string) => query(knex, 'mysql', sql, limit.bindings);
  const [[server], columns, indexes, foreignKeys] = await Promise.all([
    query(knex, 'mysql', 'select version() as v'),
    // Joined to tables: views have columns too.
    run(`select c.table_name as tbl, c.column_name as name, c.column_type as type, c.data_type as data_type, c.is_nullable as nullable, c.column_default as dflt, c.extra as extra
      from information_schema.columns c join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = database()${limit.sql} order by c.table_name, c.ordinal_position`),
    run(`select t.table_name as tbl, t.index_name as name, t.non_unique as non_unique, t.column_name as col
      from information_schema.statistics t where t.table_schema = database()${limit.sql} order by t.table_name, t.index_name, t.seq_in_index`),
    run(`select t.table_name as tbl, t.constraint_name as id, t.column_name as col, t.referenced_table_name as ref, t.referenced_column_name as refcol, r.delete_rule as on_delete, r.update_rule as on_update
      from information_schema.key_column_usage t join information_schema.referential_constraints r
        on r.constraint_schema = t.constraint_schema and r.constraint_name = t.constraint_name and r.table_name = t.table_name
      where t.table_schema = database() and t.referenced_table_name is not null${limit.sql} order by t.table_name, t.constraint_name, t.ordinal_position`),
  ]);
  const mariadb = /mariadb/i.test(str(server.v));
  return {
    columns: columns.map((r) => ({
      table: str(r.tbl),
      name: str(r.name),
      type: normaliseType(str(r.type)),
      nullable: str(r.nullable) === 'YES',
      default: mariadb ? normaliseDefault(orNull(r.dflt)) : mysqlDefault(orNull(r.dflt), str(r.data_type), str(r.extra)),
    })),
    // A functional index's key part (MySQL 8) has no column name.
    indexes: indexes.map((r) => ({ table: str(r.tbl), name: str(r.name), unique: Number(r.non_unique) === 0, primary: r.name === 'PRIMARY', column: r.col === null ? '(expression)' : str(r.col) })),
    foreignKeys: foreignKeys.map((r) => ({ table: str(r.tbl), id: str(r.id), column: str(r.col), refTable: str(r.ref), refColumn: str(r.refcol), onDelete: str(r.on_delete).toLowerCase(), onUpdate: str(r.on_update).toLowerCase() })),
  };
}

/** MySQL 8's bare `open` as the SQL text `'open'` MariaDB reports; expressions (DEFAULT_GENERATED, CURRENT_TIMESTAMP) stay bare. */
function mysqlDefault(dflt: string | null, dataType: string, extra: string): string | null {
  if (dflt === null || !MYSQL_QUOTED_TYPES.test(dataType.toLowerCase()) || /default_generated/i.test(extra) || /^current_timestamp(\(\d*\))?$/i.test(dflt)) return normaliseDefault(dflt);
  return `'${dflt.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------

function normaliseType(type: string): string {
  return type.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A default of NULL is no default: MariaDB reports every nullable column's as the text `NULL`. */
function normaliseDefault(dflt: string | null): string | null {
  const text = dflt?.trim();
  return text === undefined || text === '' || /^null$/i.test(text) ? null : text;
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
