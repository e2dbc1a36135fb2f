/**
 * knex's column types and what each database reports for them once created: the one table both the
 * declared schema (knex call → model) and the migration generator (model → knex call) read, so a
 * declared `string(255)` compares equal to what introspection reads and a generated call is known
 * to read back as the column it came from. Measured on SQLite (node:sqlite), PostgreSQL 15 and
 * MariaDB 10.11 with knex 3.3; MySQL 8 reports integer types without display widths and is not covered.
 */

/** The databases whose catalogs introspection reads (database/introspect.ts's kinds). */
export type SchemaDialect = 'sqlite' | 'pg' | 'mysql';

export const SCHEMA_DIALECTS: readonly SchemaDialect[] = ['sqlite', 'pg', 'mysql'];

export type ColumnKind =
  | 'increments' | 'bigIncrements' | 'integer' | 'bigInteger' | 'tinyint' | 'smallint' | 'mediumint'
  | 'string' | 'text' | 'float' | 'double' | 'decimal' | 'boolean' | 'date' | 'datetime' | 'time' | 'timestamp'
  | 'binary' | 'enum' | 'json' | 'jsonb' | 'uuid';

export type TextType = 'text' | 'mediumtext' | 'longtext';

/** A knex column call's type: the method and the arguments that change the database type. */
export interface ColumnType {
  readonly kind: ColumnKind;
  /** string, binary. */
  readonly length?: number;
  /** float, double, decimal; datetime and timestamp (fractional seconds). */
  readonly precision?: number;
  readonly scale?: number;
  readonly textType?: TextType;
  /** datetime, timestamp: PostgreSQL's `timestamptz` (knex's default there) or `timestamp`. */
  readonly useTz?: boolean;
  readonly values?: readonly string[];
  /** Integer kinds: MySQL/MariaDB only; the others have no unsigned integers. */
  readonly unsigned?: boolean;
}

export type ColumnDefault =
  | { readonly value: string | number | boolean }
  /** knex.fn.now(): CURRENT_TIMESTAMP. */
  | { readonly now: true }
  /** SQL text as introspection reported it, written back with knex.raw (the generator only). */
  | { readonly raw: string };

/** One column as a knex call: what the declared schema builds and the generator writes. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly default?: ColumnDefault;
}

export const INTEGER_KINDS: ReadonlySet<ColumnKind> = new Set(['increments', 'bigIncrements', 'integer', 'bigInteger', 'tinyint', 'smallint', 'mediumint']);
const NUMBER_KINDS: ReadonlySet<ColumnKind> = new Set([...INTEGER_KINDS, 'float', 'double', 'decimal']);
/** What MySQL/MariaDB cannot index without a key length (knex gives none). */
const UNINDEXABLE_ON_MYSQL = /^(tinytext|text|mediumtext|longtext|tinyblob|blob|mediumblob|longblob)$/;

/** The reason a type cannot be created on `dialect` so that it reads back as itself, or undefined. */
export function typeRefusal(type: ColumnType, dialect: SchemaDialect): string | undefined {
  if (type.kind === 'enum' && dialect !== 'mysql') return `knex makes an enum a text column with a CHECK constraint on ${DIALECT_NAMES[dialect]}, which the schema model does not hold`;
  if (type.kind === 'enum' && (type.values ?? []).length === 0) return 'an enum needs at least one value';
  // knex writes enum values into the SQL unescaped (knex 3.3): a quote would break the statement.
  if (type.kind === 'enum' && (type.values ?? []).some((v) => /['\\]/.test(v))) return 'knex does not escape a quote or backslash in an enum value';
  if (type.unsigned && !INTEGER_KINDS.has(type.kind)) return `only integer columns can be unsigned, not ${type.kind}`;
  if (type.kind === 'string' && !(Number.isInteger(type.length) && type.length! > 0)) return `a string's length must be a positive integer, not ${type.length}`;
  if (type.kind === 'decimal' && (type.precision === undefined || type.scale === undefined)) return 'a decimal needs its precision and scale (knex otherwise makes a different type on each database)';
  if ((type.kind === 'float' || type.kind === 'double') && (type.precision === undefined) !== (type.scale === undefined)) return `a ${type.kind} takes both precision and scale, or neither`;
  if (type.kind === 'time' && type.precision !== undefined) return 'a time column takes no precision here';
  return undefined;
}

export const DIALECT_NAMES: Record<SchemaDialect, string> = { sqlite: 'SQLite', pg: 'PostgreSQL', mysql: 'MySQL/MariaDB' };

const p = (n: number | undefined): string => (n === undefined ? '' : `(${n})`);
const ps = (t: ColumnType): string => (t.precision === undefined ? '' : `(${t.precision},${t.scale ?? 0})`);

/** The type introspection reports for a column created by this knex call on `dialect` (call typeRefusal first). */
export function modelType(type: ColumnType, dialect: SchemaDialect): string {
  if (dialect === 'sqlite') return SQLITE_TYPES[type.kind](type);
  if (dialect === 'pg') return PG_TYPES[type.kind](type);
  return MYSQL_TYPES[type.kind](type);
}

const SQLITE_TYPES: Record<ColumnKind, (t: ColumnType) => string> = {
  increments: () => 'integer', bigIncrements: () => 'integer', integer: () => 'integer', bigInteger: () => 'bigint',
  tinyint: () => 'tinyint', smallint: () => 'integer', mediumint: () => 'integer',
  string: (t) => `varchar(${t.length})`, text: () => 'text',
  float: () => 'float', double: () => 'float', decimal: () => 'float',
  boolean: () => 'boolean', date: () => 'date', datetime: () => 'datetime', time: () => 'time', timestamp: () => 'datetime',
  binary: () => 'blob', enum: () => 'text', json: () => 'json', jsonb: () => 'json', uuid: () => 'char(36)',
};

const pgStamp = (t: ColumnType): string => `${t.useTz === false ? 'timestamp' : 'timestamptz'}${p(t.precision)}`;

const PG_TYPES: Record<ColumnKind, (t: ColumnType) => string> = {
  increments: () => 'integer', bigIncrements: () => 'bigint', integer: () => 'integer', bigInteger: () => 'bigint',
  tinyint: () => 'smallint', smallint: () => 'smallint', mediumint: () => 'integer',
  string: (t) => `varchar(${t.length})`, text: () => 'text',
  float: () => 'real', double: () => 'double precision', decimal: (t) => `numeric(${t.precision},${t.scale})`,
  boolean: () => 'boolean', date: () => 'date', datetime: pgStamp, time: () => 'time', timestamp: pgStamp,
  binary: () => 'bytea', enum: () => 'text', json: () => 'json', jsonb: () => 'jsonb', uuid: () => 'uuid',
};

const int = (name: string, width: number, unsignedWidth: number) => (t: ColumnType): string => (t.unsigned ? `${name}(${unsignedWidth}) unsigned` : `${name}(${width})`);

const MYSQL_TYPES: Record<ColumnKind, (t: ColumnType) => string> = {
  increments: () => 'int(10) unsigned', bigIncrements: () => 'bigint(20) unsigned',
  integer: int('int', 11, 10), bigInteger: int('bigint', 20, 20), tinyint: int('tinyint', 4, 3), smallint: int('smallint', 6, 5), mediumint: int('mediumint', 9, 8),
  string: (t) => `varchar(${t.length})`, text: (t) => t.textType ?? 'text',
  // knex gives a bare float (8,2); a bare double stays bare.
  float: (t) => `float${t.precision === undefined ? '(8,2)' : ps(t)}`, double: (t) => `double${ps(t)}`, decimal: (t) => `decimal(${t.precision},${t.scale})`,
  boolean: () => 'tinyint(1)', date: () => 'date', datetime: (t) => `datetime${p(t.precision)}`, time: () => 'time', timestamp: (t) => `timestamp${p(t.precision)}`,
  binary: (t) => (t.length === undefined ? 'blob' : `varbinary(${t.length})`),
  enum: (t) => `enum(${(t.values ?? []).map(sqlString).join(',')})`, json: () => 'longtext', jsonb: () => 'longtext', uuid: () => 'char(36)',
};

/** A string as an SQL literal. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The knex call that makes a column of this reported type on `dialect`, or undefined when none is
 * known. Where several calls make the same type (SQLite's `float` for float, double and decimal),
 * the plainest is chosen: the model cannot tell them apart, so neither can a round trip.
 */
export function columnTypeFor(reported: string, dialect: SchemaDialect): ColumnType | undefined {
  const found = parseType(reported, dialect);
  // The parse is only trusted when the call it found reads back as the same text.
  return found && typeRefusal(found, dialect) === undefined && modelType(found, dialect) === reported ? found : undefined;
}

function parseType(t: string, dialect: SchemaDialect): ColumnType | undefined {
  const varchar = /^varchar\((\d+)\)$/.exec(t);
  if (varchar) return { kind: 'string', length: Number(varchar[1]) };
  if (dialect === 'mysql') {
    const integer = /^(tinyint|smallint|mediumint|int|bigint)\((\d+)\)( unsigned)?$/.exec(t);
    if (t === 'tinyint(1)') return { kind: 'boolean' };
    if (integer) {
      const kind = ({ tinyint: 'tinyint', smallint: 'smallint', mediumint: 'mediumint', int: 'integer', bigint: 'bigInteger' } as const)[integer[1] as 'int'];
      return integer[3] ? { kind, unsigned: true } : { kind };
    }
    const real = /^(float|double|decimal)(?:\((\d+),(\d+)\))?$/.exec(t);
    if (real) return { kind: real[1] as 'float', ...(real[2] === undefined ? {} : { precision: Number(real[2]), scale: Number(real[3]) }) };
    if (t === 'text' || t === 'mediumtext' || t === 'longtext') return t === 'text' ? { kind: 'text' } : { kind: 'text', textType: t };
    const stamp = /^(datetime|timestamp)(?:\((\d)\))?$/.exec(t);
    if (stamp) return { kind: stamp[1] as 'datetime', ...(stamp[2] === undefined ? {} : { precision: Number(stamp[2]) }) };
    const varbinary = /^varbinary\((\d+)\)$/.exec(t);
    if (varbinary) return { kind: 'binary', length: Number(varbinary[1]) };
    const enumeration = /^enum\((.*)\)$/.exec(t);
    if (enumeration) return { kind: 'enum', values: [...enumeration[1].matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1].replace(/''/g, "'")) };
    return ({ blob: { kind: 'binary' }, date: { kind: 'date' }, time: { kind: 'time' }, 'char(36)': { kind: 'uuid' } } as Record<string, ColumnType>)[t];
  }
  if (dialect === 'pg') {
    const numeric = /^numeric\((\d+),(\d+)\)$/.exec(t);
    if (numeric) return { kind: 'decimal', precision: Number(numeric[1]), scale: Number(numeric[2]) };
    const stamp = /^(timestamptz|timestamp)(?:\((\d)\))?$/.exec(t);
    if (stamp) return { kind: 'timestamp', useTz: stamp[1] === 'timestamptz', ...(stamp[2] === undefined ? {} : { precision: Number(stamp[2]) }) };
    return ({
      integer: { kind: 'integer' }, bigint: { kind: 'bigInteger' }, smallint: { kind: 'smallint' }, text: { kind: 'text' }, real: { kind: 'float' }, 'double precision': { kind: 'double' },
      boolean: { kind: 'boolean' }, date: { kind: 'date' }, time: { kind: 'time' }, bytea: { kind: 'binary' }, json: { kind: 'json' }, jsonb: { kind: 'jsonb' }, uuid: { kind: 'uuid' },
    } as Record<string, ColumnType>)[t];
  }
  return ({
    integer: { kind: 'integer' }, bigint: { kind: 'bigInteger' }, tinyint: { kind: 'tinyint' }, text: { kind: 'text' }, float: { kind: 'float' }, boolean: { kind: 'boolean' },
    date: { kind: 'date' }, datetime: { kind: 'datetime' }, time: { kind: 'time' }, blob: { kind: 'binary' }, json: { kind: 'json' }, 'char(36)': { kind: 'uuid' },
  } as Record<string, ColumnType>)[t];
}

/** The reason this default cannot be declared on this type and dialect, or undefined. */
export function defaultRefusal(type: ColumnType, dflt: ColumnDefault, dialect: SchemaDialect): string | undefined {
  if ('raw' in dflt) return undefined;
  if ('now' in dflt) {
    if (type.kind !== 'datetime' && type.kind !== 'timestamp') return `only a datetime or timestamp column can default to now, not ${type.kind}`;
    return type.precision !== undefined ? 'a column with fractional seconds cannot default to now here' : undefined;
  }
  const value = dflt.value;
  if (type.kind === 'increments' || type.kind === 'bigIncrements') return 'an increments column takes no default';
  if (type.kind === 'boolean') return typeof value === 'boolean' ? undefined : `a boolean column defaults to true or false, not ${JSON.stringify(value)}`;
  if (NUMBER_KINDS.has(type.kind)) return typeof value === 'number' && Number.isFinite(value) && String(value) === plainNumber(value) ? undefined : `a ${type.kind} column defaults to a plain number, not ${JSON.stringify(value)}`;
  if (type.kind === 'string' || type.kind === 'enum' || type.kind === 'uuid' || type.kind === 'text') {
    if (typeof value !== 'string') return `a ${type.kind} column defaults to a string, not ${JSON.stringify(value)}`;
    if (type.kind === 'text' && dialect === 'mysql') return 'knex leaves out a text column\'s default on MySQL/MariaDB';
    if (type.kind === 'enum' && !(type.values ?? []).includes(value)) return `${JSON.stringify(value)} is not one of the enum's values`;
    return undefined;
  }
  // Dates, times, binary and JSON: each database rewrites the literal its own way.
  return `a ${type.kind} column's default is not supported (its literal reads back differently on each database)`;
}

/** A number as knex writes it: no exponent. */
function plainNumber(n: number): string {
  return /e/i.test(String(n)) ? '' : String(n);
}

/** The default introspection reports for this default on this type (call defaultRefusal first). */
export function modelDefault(type: ColumnType, dflt: ColumnDefault | undefined, dialect: SchemaDialect): string | null {
  if (dflt === undefined) return null;
  if ('raw' in dflt) return dflt.raw;
  if ('now' in dflt) return dialect === 'mysql' ? 'current_timestamp()' : 'CURRENT_TIMESTAMP';
  const { value } = dflt;
  if (typeof value === 'boolean') return dialect === 'sqlite' ? (value ? "'1'" : "'0'") : dialect === 'pg' ? String(value) : value ? '1' : '0';
  if (typeof value === 'string') return sqlString(value);
  // knex writes every default quoted: SQLite keeps the text, the servers store the number (MySQL at the column's scale).
  if (dialect === 'sqlite') return sqlString(String(value));
  if (dialect === 'mysql') {
    const scale = type.kind === 'decimal' || ((type.kind === 'float' || type.kind === 'double') && type.scale !== undefined) ? type.scale : type.kind === 'float' ? 2 : undefined;
    if (scale !== undefined) return value.toFixed(scale);
  }
  return String(value);
}

/**
 * The default as a knex value for a column of this type: `'open'` → `{ value: 'open' }`; what
 * reads as no literal of the type is kept as raw SQL.
 */
export function defaultFor(reported: string, type: ColumnType): ColumnDefault {
  if (/^current_timestamp(\(\))?$/i.test(reported)) return { now: true };
  const quoted = /^'((?:[^']|'')*)'$/.exec(reported);
  const text = quoted ? quoted[1].replace(/''/g, "'") : reported;
  if (type.kind === 'boolean' && /^(1|0|true|false)$/.test(text)) return { value: text === '1' || text === 'true' };
  if (NUMBER_KINDS.has(type.kind) && /^-?\d+(\.\d+)?$/.test(text) && Number.isSafeInteger(Math.trunc(Number(text)))) return { value: Number(text) };
  if (quoted) return { value: text };
  return { raw: reported };
}

/** The reason a column of this type cannot be in an index on this dialect, or undefined. */
export function indexRefusal(reportedType: string, dialect: SchemaDialect): string | undefined {
  return dialect === 'mysql' && UNINDEXABLE_ON_MYSQL.test(reportedType) ? `MySQL/MariaDB cannot index a ${reportedType} column without a key length, which knex does not give` : undefined;
}
