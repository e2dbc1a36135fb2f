import type { Knex } from 'knex';
import { limitTo, normaliseDefault, normaliseType, orNull, str, type Catalog, type Row } from '../catalog';
import { openServer, type DatabaseTarget } from '../database';
import type { Dialect, ShadowDatabases } from '../dialect';
import { getLockName, ServerLock, type SessionLockSql } from '../serverLock';
import { cancel } from './interrupt';

/** MySQL or MariaDB through `mysql2`. */
export function mysqlDialect(target: DatabaseTarget): Dialect {
  return {
    name: 'MySQL/MariaDB',
    server: true,
    transactionalDdl: false,
    noDryRun: 'A dry run is not available on MySQL/MariaDB: it commits schema changes immediately, so the SQL cannot be captured and rolled back. Review the migration code instead, or dry-run against a SQLite or PostgreSQL copy.',
    singleConnection: false,
    concurrentIndexes: false,
    generator: 'mysql',
    catalog: MYSQL_CATALOG,
    shadow: { databases: SHADOW_DATABASES },
    open: () => openServer(target),
    lock: (knex, options, logger) => new ServerLock(knex, LOCK, options, logger),
    interrupt: cancel,
  };
}

const LOCK: SessionLockSql = {
  session: 'select connection_id() as v',
  scope: "select coalesce(database(), '') as v",
  tryLock: 'select get_lock(?, 0) as v',
  holder: 'select is_used_lock(?) as v',
  unlock: 'select release_lock(?) as v',
  bindings: (scope) => [getLockName(scope)],
};

/** mysql2's knex.raw gives `[rows, fields]`. */
async function rows(knex: Knex, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  return ((await knex.raw(sql, bindings as Knex.RawBinding[])) as Row[][])[0];
}

const SHADOW_DATABASES: ShadowDatabases = {
  named: async (admin, pattern) => (await rows(admin, 'select schema_name as name from information_schema.schemata where schema_name like ? order by 1', [pattern])).map((r) => str(r.name)),
  create: async (admin, name) => void (await admin.raw(`create database ${name}`)),
  async drop(admin, name, leftBehind) {
    // No DROP DATABASE … FORCE: a dead run's sessions still open on it are ended first (a session that is gone already is no error).
    if (leftBehind) {
      const sessions = await rows(admin, 'select id from information_schema.processlist where db = ? and id <> connection_id()', [name]);
      for (const { id } of sessions) await admin.raw('kill connection ?', [Number(id)]).catch(() => undefined);
    }
    await admin.raw(`drop database if exists ${name}`);
  },
  tables: async (knex) => (await rows(knex, 'select table_name as name from information_schema.tables where table_schema = database() order by 1')).map((r) => str(r.name)),
  async tablesOfEach(admin, names) {
    const tables = new Map<string, string[]>(names.map((n) => [n, []]));
    const found = await rows(admin, `select table_schema as db, table_name as name from information_schema.tables where table_schema in (${names.map(() => '?').join(', ')}) order by 2`, [...names]);
    for (const r of found) tables.get(str(r.db))?.push(str(r.name));
    return tables;
  },
  // Its name as the server compares names, and the server: host, port and data folder.
  identity: async (knex) => str((await rows(knex, "select concat(@@hostname, ':', @@port, ':', @@datadir, '/', if(@@lower_case_table_names = 0, database(), lower(database()))) as id"))[0].id),
  async empty(knex, keep) {
    const tables = await rows(knex, "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' and table_name <> ?", [keep]);
    if (tables.length === 0) return;
    // One connection: the foreign-key switch is per session.
    await knex.transaction(async (trx) => {
      await trx.raw('set foreign_key_checks = 0');
      await trx.raw(`drop table if exists ${tables.map(() => '??').join(', ')}`, tables.map((r) => str(r.name)));
      await trx.raw('set foreign_key_checks = 1');
    });
  },
};

// information_schema of database(). Columns are aliased in lower case: MySQL 8 names them in upper
// case otherwise.

/** Types whose default MySQL 8 reports without its quotes (MariaDB 10.2.7+ keeps them). */
const QUOTED_TYPES = /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|date|datetime|timestamp|time|binary|varbinary)$/;

export const MYSQL_CATALOG: Catalog = {
  async read(knex, tables) {
    const limit = limitTo('t.table_name', tables);
    const run = (sql: string) => rows(knex, sql, limit.bindings);
    const [[server], columns, indexes, foreignKeys] = await Promise.all([
      rows(knex, 'select version() as v'),
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
  },
};

/** MySQL 8's bare `open` as the SQL text `'open'` MariaDB reports; expressions (DEFAULT_GENERATED, CURRENT_TIMESTAMP) stay bare. */
function mysqlDefault(dflt: string | null, dataType: string, extra: string): string | null {
  if (dflt === null || !QUOTED_TYPES.test(dataType.toLowerCase()) || /default_generated/i.test(extra) || /^current_timestamp(\(\d*\))?$/i.test(dflt)) return normaliseDefault(dflt);
  return `'${dflt.replace(/'/g, "''")}'`;
}
