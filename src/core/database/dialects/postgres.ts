import type { Knex } from 'knex';
import { limitTo, normaliseDefault, normaliseType, orNull, str, type Catalog, type Row } from '../catalog';
import { openServer, type DatabaseTarget } from '../database';
import type { Dialect, ShadowDatabases } from '../dialect';
import { advisoryKeys, ServerLock, type SessionLockSql } from '../serverLock';
import { cancel } from './interrupt';

/** PostgreSQL through `pg`. */
export function postgresDialect(target: DatabaseTarget): Dialect {
  return {
    name: 'PostgreSQL',
    server: true,
    transactionalDdl: true,
    singleConnection: false,
    // CREATE INDEX CONCURRENTLY builds without blocking writes, outside a transaction only.
    concurrentIndexes: true,
    generator: 'pg',
    catalog: POSTGRES_CATALOG,
    shadow: { databases: SHADOW_DATABASES },
    open: () => openServer(target),
    lock: (knex, options, logger) => new ServerLock(knex, LOCK, options, logger),
    interrupt: cancel,
  };
}

const LOCK: SessionLockSql = {
  session: 'select pg_backend_pid() as v',
  // Advisory locks are per database already; the schema keeps apart two workspaces whose histories live in different schemas of one database.
  scope: "select current_database() || '.' || coalesce(current_schema(), '') as v",
  tryLock: 'select pg_try_advisory_lock(?, ?) as v',
  holder: "select pid as v from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database()) and classid = ? and objid = ? and objsubid = 2",
  unlock: 'select pg_advisory_unlock(?, ?) as v',
  bindings: advisoryKeys,
};

/** pg's knex.raw gives `{ rows }`. */
async function rows(knex: Knex, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  return ((await knex.raw(sql, bindings as Knex.RawBinding[])) as { rows: Row[] }).rows;
}

const SHADOW_DATABASES: ShadowDatabases = {
  named: async (admin, pattern) => (await rows(admin, 'select datname as name from pg_database where datname like ? order by 1', [pattern])).map((r) => str(r.name)),
  create: async (admin, name) => void (await admin.raw(`create database ${name}`)),
  async drop(admin, name, leftBehind) {
    // PostgreSQL 13+ ends a dead run's sessions, whose sockets may not be closed yet.
    const force = leftBehind && Number((await rows(admin, 'show server_version_num'))[0].server_version_num) >= 130000 ? ' with (force)' : '';
    await admin.raw(`drop database if exists ${name}${force}`);
  },
  // Every schema but the system's (another schema's table as `schema.table`).
  tables: async (knex) => (await rows(knex, `select case when n.nspname = current_schema() then c.relname else n.nspname || '.' || c.relname end as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      order by 1`)).map((r) => str(r.name)),
  // No tablesOfEach: PostgreSQL shows a database's tables only to a connection to it.
  // The database's oid, and the server: its start time and port.
  identity: async (knex) => str((await rows(knex, "select (select oid from pg_database where datname = current_database())::text || '@' || pg_postmaster_start_time()::text || ':' || current_setting('port') as id"))[0].id),
  async empty(knex, keep) {
    const tables = await rows(knex, 'select tablename from pg_tables where schemaname = current_schema() and tablename <> ?', [keep]);
    if (tables.length > 0) await knex.raw(`drop table if exists ${tables.map(() => '??').join(', ')} cascade`, tables.map((r) => str(r.tablename)));
  },
};

// pg_catalog rather than information_schema (which hides what the user does not own and is slow
// to join), for the tables of current_schema(). Partitions belong to their parent.

const TABLES = `c.relnamespace = (select oid from pg_namespace where nspname = current_schema()) and c.relkind in ('r', 'p') and not c.relispartition`;

const RULES: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

export const POSTGRES_CATALOG: Catalog = {
  async read(knex, tables) {
    const limit = limitTo('c.relname', tables);
    const where = `${TABLES}${limit.sql}`;
    // A transaction is one connection, which takes one query at a time (pg deprecates queueing them).
    const inTransaction = (knex as Knex & { isTransaction?: boolean }).isTransaction === true;
    let previous: Promise<unknown> = Promise.resolve();
    const run = (sql: string) => {
      if (!inTransaction) return rows(knex, sql, limit.bindings);
      const next = previous.then(() => rows(knex, sql, limit.bindings));
      previous = next.catch(() => undefined);
      return next;
    };
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
      foreignKeys: foreignKeys.map((r) => ({ table: str(r.tbl), id: str(r.id), column: str(r.col), refTable: str(r.ref), refColumn: str(r.refcol), onDelete: RULES[str(r.on_delete)] ?? str(r.on_delete), onUpdate: RULES[str(r.on_update)] ?? str(r.on_update) })),
    };
  },
};

/** format_type's SQL-standard spellings, shortened to the names knex declares. */
const TYPE_NAMES: readonly [RegExp, string][] = [
  [/^character varying/, 'varchar'],
  [/^character(?! varying)/, 'char'],
  [/^timestamp(\(\d+\))? with time zone/, 'timestamptz$1'],
  [/^timestamp(\(\d+\))? without time zone/, 'timestamp$1'],
  [/^time(\(\d+\))? with time zone/, 'timetz$1'],
  [/^time(\(\d+\))? without time zone/, 'time$1'],
  [/^bit varying/, 'varbit'],
];

function pgType(formatted: string): string {
  return TYPE_NAMES.reduce((type, [pattern, short]) => type.replace(pattern, short), normaliseType(formatted));
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
