/**
 * A schema declared in TypeScript, in knex's own words:
 *
 *   export default defineSchema({
 *     tables: {
 *       teams: { columns: { id: increments(), name: string(100).notNullable().unique() } },
 *       users: {
 *         columns: {
 *           id: increments(),
 *           email: string(255).notNullable().unique(),
 *           team_id: integer().unsigned().references('teams.id').onDelete('cascade'),
 *         },
 *         indexes: [{ columns: ['team_id', 'email'] }],
 *       },
 *     },
 *   });
 *
 * declaredModel() turns it into the schema model introspection reads from each database, so it
 * compares with what the migrations make.
 */
import {
  DIALECT_NAMES, defaultRefusal, indexRefusal, modelDefault, modelType, typeRefusal,
  type ColumnDefault, type ColumnKind, type ColumnSpec, type ColumnType, type SchemaDialect, type TextType,
} from './columnTypes';
import { sha256 } from '../../model/checksum';
import { ConfigError } from '../../model/errors';
import type { ColumnModel, ForeignKeyModel, IndexModel, SchemaModel, TableModel } from '../../model/schema';

export type ReferentialAction = 'cascade' | 'set null' | 'restrict' | 'no action' | 'set default';

interface ColumnState {
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly default?: ColumnDefault;
  readonly primary: boolean;
  /** The index name, or true for knex's default name. */
  readonly unique?: string | true;
  readonly index?: string | true;
  readonly references?: { readonly table: string; readonly column: string; readonly onDelete?: ReferentialAction; readonly onUpdate?: ReferentialAction };
}

/** One column, built as knex's column builder reads (each call returns a new column). */
export class Column {
  /** @internal */
  constructor(readonly state: ColumnState) {}

  private with(change: Partial<ColumnState>): Column {
    return new Column({ ...this.state, ...change });
  }

  notNullable(): Column {
    return this.with({ nullable: false });
  }

  nullable(): Column {
    return this.with({ nullable: true });
  }

  defaultTo(value: string | number | boolean): Column {
    return this.with({ default: { value } });
  }

  /** knex.fn.now(): the time of the insert. */
  defaultToNow(): Column {
    return this.with({ default: { now: true } });
  }

  /** MySQL/MariaDB only tell signed from unsigned; elsewhere it changes nothing. */
  unsigned(): Column {
    return this.with({ type: { ...this.state.type, unsigned: true } });
  }

  /** The table's primary key (a key of several columns: the table's `primaryKey`). Primary key columns are not null. */
  primary(): Column {
    return this.with({ primary: true, nullable: false });
  }

  /** A unique index of this column alone, named as knex names it (`<table>_<column>_unique`) unless named here. */
  unique(indexName?: string): Column {
    return this.with({ unique: indexName ?? true });
  }

  /** An index of this column alone (`<table>_<column>_index` unless named here). */
  index(indexName?: string): Column {
    return this.with({ index: indexName ?? true });
  }

  /** A foreign key to `'table.column'`, named as knex names it (`<table>_<column>_foreign`). */
  references(target: `${string}.${string}`): Column {
    const [table, column] = target.split('.');
    return this.with({ references: { table, column } });
  }

  onDelete(action: ReferentialAction): Column {
    return this.with({ references: { ...this.requireReference('onDelete'), onDelete: action } });
  }

  onUpdate(action: ReferentialAction): Column {
    return this.with({ references: { ...this.requireReference('onUpdate'), onUpdate: action } });
  }

  private requireReference(method: string): NonNullable<ColumnState['references']> {
    if (!this.state.references) throw new ConfigError(`${method}() needs references('table.column') before it.`);
    return this.state.references;
  }
}

const column = (type: ColumnType): Column => new Column({ type, nullable: !(type.kind === 'increments' || type.kind === 'bigIncrements'), primary: type.kind === 'increments' || type.kind === 'bigIncrements' });

/** An auto-incrementing integer primary key (`int unsigned` on MySQL/MariaDB). */
export const increments = (): Column => column({ kind: 'increments' });
export const bigIncrements = (): Column => column({ kind: 'bigIncrements' });
export const integer = (): Column => column({ kind: 'integer' });
export const bigInteger = (): Column => column({ kind: 'bigInteger' });
export const tinyint = (): Column => column({ kind: 'tinyint' });
export const smallint = (): Column => column({ kind: 'smallint' });
export const mediumint = (): Column => column({ kind: 'mediumint' });
export const string = (length = 255): Column => column({ kind: 'string', length });
/** `mediumtext` and `longtext` differ on MySQL/MariaDB only. */
export const text = (textType?: TextType): Column => column(textType && textType !== 'text' ? { kind: 'text', textType } : { kind: 'text' });
export const float = (precision?: number, scale?: number): Column => column({ kind: 'float', ...numeric(precision, scale) });
export const double = (precision?: number, scale?: number): Column => column({ kind: 'double', ...numeric(precision, scale) });
export const decimal = (precision = 8, scale = 2): Column => column({ kind: 'decimal', precision, scale });
export const boolean = (): Column => column({ kind: 'boolean' });
export const date = (): Column => column({ kind: 'date' });
/** `useTz` (PostgreSQL's timestamptz, the default there) and `precision` (fractional seconds) as knex takes them. */
export const datetime = (options: { useTz?: boolean; precision?: number } = {}): Column => column({ kind: 'datetime', ...stamp(options) });
export const time = (): Column => column({ kind: 'time' });
export const timestamp = (options: { useTz?: boolean; precision?: number } = {}): Column => column({ kind: 'timestamp', ...stamp(options) });
export const binary = (length?: number): Column => column(length === undefined ? { kind: 'binary' } : { kind: 'binary', length });
/** knex's `enu`: a native enum on MySQL/MariaDB only (elsewhere a CHECK constraint the model does not hold, so refused). */
export const enu = (values: readonly string[]): Column => column({ kind: 'enum', values: [...values] });
export const json = (): Column => column({ kind: 'json' });
export const jsonb = (): Column => column({ kind: 'jsonb' });
export const uuid = (): Column => column({ kind: 'uuid' });

function numeric(precision: number | undefined, scale: number | undefined): Partial<ColumnType> {
  return precision === undefined && scale === undefined ? {} : { precision, scale };
}

function stamp(options: { useTz?: boolean; precision?: number }): Partial<ColumnType> {
  return { ...(options.useTz === false ? { useTz: false } : {}), ...(options.precision === undefined ? {} : { precision: options.precision }) };
}

export interface IndexDeclaration {
  readonly columns: readonly string[];
  readonly unique?: boolean;
  /** knex's default: `<table>_<columns joined by _>_index` (or `_unique`). */
  readonly name?: string;
}

export interface ForeignKeyDeclaration {
  readonly columns: readonly string[];
  readonly table: string;
  readonly references: readonly string[];
  readonly onDelete?: ReferentialAction;
  readonly onUpdate?: ReferentialAction;
}

export interface TableDeclaration {
  /** In the table's column order. */
  readonly columns: Readonly<Record<string, Column>>;
  /** A key of several columns (a single column's: its `primary()`). */
  readonly primaryKey?: readonly string[];
  readonly indexes?: readonly IndexDeclaration[];
  readonly foreignKeys?: readonly ForeignKeyDeclaration[];
}

export interface SchemaDeclaration<Tables extends Record<string, TableDeclaration> = Record<string, TableDeclaration>> {
  readonly tables: Tables;
}

/** A declared schema: checked for what holds on every database (a column an index names exists…) when declared. */
export interface DeclaredSchema<Tables extends Record<string, TableDeclaration> = Record<string, TableDeclaration>> extends SchemaDeclaration<Tables> {
  readonly declaredSchema: true;
}

export function defineSchema<Tables extends Record<string, TableDeclaration>>(declaration: SchemaDeclaration<Tables>): DeclaredSchema<Tables> {
  const schema = { ...declaration, declaredSchema: true as const };
  const problems = schemaProblems(schema, undefined);
  if (problems.length > 0) throw new DeclaredSchemaError(problems);
  return schema;
}

/** What is wrong with a declared schema, one line per table or column named. */
export class DeclaredSchemaError extends ConfigError {
  constructor(readonly problems: readonly string[], dialect?: SchemaDialect) {
    super(`The declared schema cannot be ${dialect ? `made on ${DIALECT_NAMES[dialect]}` : 'used'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** knex's default index and foreign key names (lower case, `-` and `.` as `_`). */
export function knexIndexName(table: string, columns: readonly string[], type: 'index' | 'unique' | 'foreign'): string {
  return `${table}_${columns.join('_')}_${type}`.toLowerCase().replace(/[-.]/g, '_');
}

/**
 * The schema model each database's introspection reports once the declared schema is made there:
 * the types and defaults as that database reports them, knex's default index names, and on
 * MySQL/MariaDB the index each foreign key gets unless another index starts with its columns.
 * Throws DeclaredSchemaError naming every table and column that cannot be made on `dialect`.
 */
export function declaredModel(schema: SchemaDeclaration, dialect: SchemaDialect): SchemaModel {
  const problems = schemaProblems(schema, dialect);
  if (problems.length > 0) throw new DeclaredSchemaError(problems, dialect);
  const tables = Object.entries(schema.tables).map(([name, table]) => tableModel(name, tableSpec(name, table), dialect));
  return { tables: tables.sort((a, b) => byText(a.name, b.name)) };
}

/**
 * The declared schema's version: the first 7 hex digits of the SHA-256 of its tables as knex calls
 * make them (by name; indexes and keys sorted), as a number of 1 or more. It names the declaration,
 * not what one database reads back, so one schema has one version on every database.
 */
export function schemaVersion(schema: SchemaDeclaration): number {
  const tables = Object.keys(schema.tables).sort(byText).map((name) => {
    const spec = tableSpec(name, schema.tables[name]);
    return { ...spec, indexes: [...spec.indexes].sort((a, b) => byText(a.name, b.name)), foreignKeys: [...spec.foreignKeys].sort((a, b) => byText(JSON.stringify(a), JSON.stringify(b))) };
  });
  return parseInt(sha256(JSON.stringify(tables)).slice(0, 7), 16) || 1;
}

/** A table as the generator and declaredModel both read it: knex calls, explicit names. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: readonly string[];
  readonly indexes: readonly IndexModel[];
  readonly foreignKeys: readonly ForeignKeyModel[];
  /** The column knex's increments/bigIncrements makes, if any: the key of its own. */
  readonly increments?: string;
}

function tableSpec(name: string, table: TableDeclaration): TableSpec {
  const entries = Object.entries(table.columns);
  const columns = entries.map(([column, c]): ColumnSpec => ({ name: column, type: c.state.type, nullable: c.state.nullable && !(table.primaryKey ?? []).includes(column), ...(c.state.default ? { default: c.state.default } : {}) }));
  const primaryKey = table.primaryKey ?? entries.filter(([, c]) => c.state.primary).map(([column]) => column);
  const indexName = (given: string | true, columnName: string, type: 'index' | 'unique') => (given === true ? knexIndexName(name, [columnName], type) : given);
  const indexes: IndexModel[] = [
    ...entries.flatMap(([column, c]) => [
      ...(c.state.unique ? [{ name: indexName(c.state.unique, column, 'unique'), unique: true, columns: [column] }] : []),
      ...(c.state.index ? [{ name: indexName(c.state.index, column, 'index'), unique: false, columns: [column] }] : []),
    ]),
    ...(table.indexes ?? []).map((i) => ({ name: i.name ?? knexIndexName(name, i.columns, i.unique ? 'unique' : 'index'), unique: i.unique === true, columns: [...i.columns] })),
  ];
  const foreignKeys: ForeignKeyModel[] = [
    ...entries.filter(([, c]) => c.state.references).map(([column, c]) => {
      const r = c.state.references!;
      return { columns: [column], table: r.table, references: [r.column], onDelete: r.onDelete ?? '', onUpdate: r.onUpdate ?? '' };
    }),
    ...(table.foreignKeys ?? []).map((f) => ({ columns: [...f.columns], table: f.table, references: [...f.references], onDelete: f.onDelete ?? '', onUpdate: f.onUpdate ?? '' })),
  ];
  const increments = entries.find(([, c]) => c.state.type.kind === 'increments' || c.state.type.kind === 'bigIncrements')?.[0];
  return { name, columns, primaryKey, indexes, foreignKeys, ...(increments ? { increments } : {}) };
}

/** The rule a foreign key reads back with when none was given. */
export const DEFAULT_RULE: Record<SchemaDialect, string> = { sqlite: 'no action', pg: 'no action', mysql: 'restrict' };

/** A table spec as introspection reads it back on `dialect`. */
export function tableModel(name: string, spec: TableSpec, dialect: SchemaDialect): TableModel {
  const columns: ColumnModel[] = spec.columns.map((c) => ({
    name: c.name,
    type: modelType(c.type, dialect),
    nullable: c.nullable && !spec.primaryKey.includes(c.name),
    default: modelDefault(c.type, c.default, dialect),
  }));
  const foreignKeys = spec.foreignKeys.map((f) => ({ ...f, onDelete: f.onDelete || DEFAULT_RULE[dialect], onUpdate: f.onUpdate || DEFAULT_RULE[dialect] }));
  const indexes = [...spec.indexes];
  if (dialect === 'mysql') {
    // InnoDB indexes a foreign key's columns itself, under the constraint's name, unless an index (or the primary key) already starts with them.
    for (const f of foreignKeys) {
      const starts = (cols: readonly string[]) => f.columns.every((c, i) => cols[i] === c);
      if (!starts(spec.primaryKey) && !indexes.some((i) => starts(i.columns))) indexes.push({ name: knexIndexName(name, f.columns, 'foreign'), unique: false, columns: [...f.columns] });
    }
  }
  return {
    name,
    columns,
    primaryKey: [...spec.primaryKey],
    indexes: indexes.sort((a, b) => byText(a.name, b.name)),
    foreignKeys: foreignKeys.sort((a, b) => byText(a.columns.join(','), b.columns.join(',')) || byText(a.table, b.table) || byText(a.references.join(','), b.references.join(','))),
  };
}

/** Every problem of the schema, on `dialect` or (undefined) on any database. */
function schemaProblems(schema: SchemaDeclaration, dialect: SchemaDialect | undefined): string[] {
  const problems: string[] = [];
  const tables = schema.tables ?? {};
  // Index names are the schema's on PostgreSQL and SQLite, not the table's.
  const indexNames = new Map<string, string>();
  for (const [name, table] of Object.entries(tables)) {
    if (!table || typeof table.columns !== 'object') continue;
    for (const index of tableSpec(name, table).indexes) {
      const other = indexNames.get(index.name);
      if (other !== undefined) problems.push(`table ${name}: index name ${index.name} is used twice (also on ${other}); name one of them`);
      indexNames.set(index.name, name);
    }
  }
  for (const [name, table] of Object.entries(tables)) {
    const columns = table.columns ?? {};
    const names = Object.keys(columns);
    if (names.length === 0) problems.push(`table ${name} has no columns`);
    for (const [column, c] of Object.entries(columns)) {
      const where = `column ${name}.${column}`;
      if (!(c instanceof Column)) {
        problems.push(`${where} is not a column (declare it with a column function such as string() or integer())`);
        continue;
      }
      const type = c.state.type;
      const typeWrong = dialect ? typeRefusal(type, dialect) : typeRefusal(type, 'mysql') ?? (type.kind === 'enum' ? undefined : typeRefusal(type, 'pg'));
      if (typeWrong) problems.push(`${where}: ${typeWrong}`);
      if (c.state.default && !typeWrong) {
        // Without a dialect, only what is wrong everywhere (PostgreSQL's rules are the plainest).
        const defaultWrong = defaultRefusal(type, c.state.default, dialect ?? 'pg');
        if (defaultWrong) problems.push(`${where}: ${defaultWrong}`);
      }
      if (dialect === 'mysql' && (c.state.unique || c.state.index) && !typeWrong) {
        const wrong = indexRefusal(modelType(type, dialect), dialect);
        if (wrong) problems.push(`${where}: ${wrong}`);
      }
      if (c.state.references && !(c.state.references.table in tables)) problems.push(`${where} references table ${c.state.references.table}, which the schema does not declare`);
    }
    const increments = names.filter((n) => isIncrements(columns[n]?.state?.type.kind));
    const primary = table.primaryKey ?? names.filter((n) => columns[n]?.state?.primary);
    if (increments.length > 1) problems.push(`table ${name} has two increments columns (${increments.join(', ')}); a table has one key`);
    if (increments.length === 1 && (primary.length !== 1 || primary[0] !== increments[0])) problems.push(`table ${name}: increments column ${increments[0]} is the primary key; declare no other (${primary.join(', ')})`);
    if (table.primaryKey && names.some((n) => columns[n]?.state?.primary && !increments.includes(n))) problems.push(`table ${name} declares both primaryKey and primary() on a column; use one`);
    for (const key of primary) if (!names.includes(key)) problems.push(`table ${name}: primary key column ${key} is not declared`);
    for (const index of table.indexes ?? []) {
      if (index.columns.length === 0) problems.push(`table ${name}: an index needs columns`);
      for (const col of index.columns) {
        if (!names.includes(col)) problems.push(`table ${name}: index (${index.columns.join(', ')}) names column ${col}, which is not declared`);
        else if (dialect === 'mysql' && columns[col] instanceof Column) {
          const wrong = indexRefusal(modelType(columns[col].state.type, dialect), dialect);
          if (wrong) problems.push(`column ${name}.${col}: ${wrong}`);
        }
      }
    }
    for (const key of table.foreignKeys ?? []) {
      if (!(key.table in tables)) problems.push(`table ${name}: foreign key (${key.columns.join(', ')}) references table ${key.table}, which the schema does not declare`);
      if (key.columns.length !== key.references.length || key.columns.length === 0) problems.push(`table ${name}: foreign key (${key.columns.join(', ')}) must name as many columns as it references (${key.references.join(', ')})`);
      for (const col of key.columns) if (!names.includes(col)) problems.push(`table ${name}: foreign key names column ${col}, which is not declared`);
    }
    const rules = [...Object.values(columns).map((c) => c?.state?.references), ...(table.foreignKeys ?? [])].flatMap((r) => (r ? [r.onDelete, r.onUpdate] : []));
    if (dialect === 'mysql' && rules.includes('set default')) problems.push(`table ${name}: InnoDB has no "set default" foreign key rule`);
  }
  return problems;
}

const isIncrements = (kind: ColumnKind | undefined): boolean => kind === 'increments' || kind === 'bigIncrements';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
