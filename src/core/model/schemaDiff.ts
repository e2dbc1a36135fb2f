import type { ColumnModel, ForeignKeyModel, IndexModel, SchemaChange, SchemaModel, TableModel } from './schema';

/** The order changes of one table are listed in: the order of SchemaChange's kinds. */
const KIND_ORDER: readonly SchemaChange['kind'][] = [
  'table-added', 'table-removed', 'column-added', 'column-removed', 'column-changed', 'index-added', 'index-removed', 'index-changed', 'foreign-key-added', 'foreign-key-removed', 'primary-key-changed',
];

/** Code-unit order: the same on every machine, unlike localeCompare. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const list = (names: readonly string[]): string => `(${names.join(', ')})`;

/** What changed from `before` to `after`, by table, then kind, then name: the same input always gives the same list. */
export function diffSchemas(before: SchemaModel, after: SchemaModel): SchemaChange[] {
  const [was, is] = differentTables(before.tables, after.tables);
  const old = new Map(was.map((t) => [t.name, t]));
  const now = new Map(is.map((t) => [t.name, t]));
  const changes: SchemaChange[] = [];
  for (const [name, table] of now) if (!old.has(name)) changes.push({ kind: 'table-added', table: name, text: `table ${table.name}` });
  for (const [name, table] of old) {
    const next = now.get(name);
    if (!next) changes.push({ kind: 'table-removed', table: name, text: `table ${table.name}` });
    else changes.push(...diffTable(table, next));
  }
  return changes.sort((a, b) => byText(a.table, b.table) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || byText(a.name ?? '', b.name ?? ''));
}

/**
 * The tables that are not the very same object on both sides, by one walk over the two lists
 * (both sorted by name): a snapshot that re-read only what a migration touched shares every other
 * table with the one before, and verifying 1000 migrations compares thousands of schemas.
 */
function differentTables(before: readonly TableModel[], after: readonly TableModel[]): [TableModel[], TableModel[]] {
  const was: TableModel[] = [];
  const is: TableModel[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const x = before[i];
    const y = after[j];
    if (x !== undefined && x === y) {
      i++;
      j++;
    } else if (y === undefined || (x !== undefined && x.name <= y.name)) {
      was.push(x);
      i++;
      if (y !== undefined && x.name === y.name) {
        is.push(y);
        j++;
      }
    } else {
      is.push(y);
      j++;
    }
  }
  return [was, is];
}

function diffTable(before: TableModel, after: TableModel): SchemaChange[] {
  const table = after.name;
  const changes: SchemaChange[] = [];
  const column = (c: ColumnModel) => `column ${table}.${c.name}`;
  diffByKey(before.columns, after.columns, (c) => c.name, {
    added: (c) => changes.push({ kind: 'column-added', table, name: c.name, text: column(c) }),
    removed: (c) => changes.push({ kind: 'column-removed', table, name: c.name, text: column(c) }),
    both: (was, is) => {
      const detail = columnDetail(was, is);
      if (detail) changes.push({ kind: 'column-changed', table, name: is.name, detail, text: `${column(is)}: ${detail}` });
    },
  });
  const index = (i: IndexModel) => `index ${i.name} on ${table} ${list(i.columns)}`;
  diffByKey(before.indexes, after.indexes, (i) => i.name, {
    added: (i) => changes.push({ kind: 'index-added', table, name: i.name, text: index(i) }),
    removed: (i) => changes.push({ kind: 'index-removed', table, name: i.name, text: index(i) }),
    both: (was, is) => {
      const detail = indexDetail(was, is);
      if (detail) changes.push({ kind: 'index-changed', table, name: is.name, detail, text: `index ${is.name} on ${table}: ${detail}` });
    },
  });
  // A foreign key has no name every dialect keeps: one that differs in anything is another one.
  diffByKey(before.foreignKeys, after.foreignKeys, foreignKeyText(table), {
    added: (f) => changes.push({ kind: 'foreign-key-added', table, name: f.columns.join(','), text: foreignKeyText(table)(f) }),
    removed: (f) => changes.push({ kind: 'foreign-key-removed', table, name: f.columns.join(','), text: foreignKeyText(table)(f) }),
    both: () => {},
  });
  if (list(before.primaryKey) !== list(after.primaryKey)) {
    const key = (k: readonly string[]) => (k.length === 0 ? 'none' : list(k));
    const detail = `${key(before.primaryKey)} → ${key(after.primaryKey)}`;
    changes.push({ kind: 'primary-key-changed', table, detail, text: `primary key of ${table}: ${detail}` });
  }
  return changes;
}

function diffByKey<T>(before: readonly T[], after: readonly T[], key: (item: T) => string, on: { added(item: T): void; removed(item: T): void; both(was: T, is: T): void }): void {
  const old = new Map(before.map((item) => [key(item), item]));
  const now = new Map(after.map((item) => [key(item), item]));
  for (const [k, item] of now) {
    const was = old.get(k);
    if (was) on.both(was, item);
    else on.added(item);
  }
  for (const [k, item] of old) if (!now.has(k)) on.removed(item);
}

/** `type integer → bigint, nullable → not null`; empty when nothing differs. */
function columnDetail(was: ColumnModel, is: ColumnModel): string {
  const parts: string[] = [];
  if (was.type !== is.type) parts.push(`type ${was.type || '(none)'} → ${is.type || '(none)'}`);
  if (was.nullable !== is.nullable) parts.push(`${nullability(was)} → ${nullability(is)}`);
  if (was.default !== is.default) parts.push(`default ${was.default ?? 'none'} → ${is.default ?? 'none'}`);
  return parts.join(', ');
}

const nullability = (c: ColumnModel): string => (c.nullable ? 'nullable' : 'not null');

function indexDetail(was: IndexModel, is: IndexModel): string {
  const parts: string[] = [];
  if (was.unique !== is.unique) parts.push(`${was.unique ? 'unique' : 'not unique'} → ${is.unique ? 'unique' : 'not unique'}`);
  if (list(was.columns) !== list(is.columns)) parts.push(`${list(was.columns)} → ${list(is.columns)}`);
  return parts.join(', ');
}

/** `foreign key posts (user_id) → users (id) on delete cascade`; the rules only when they do something. */
const foreignKeyText = (table: string) => (f: ForeignKeyModel): string =>
  `foreign key ${table} ${list(f.columns)} → ${f.table} ${list(f.references)}${rules(f).map((r) => ` ${r}`).join('')}`;

function rules(f: ForeignKeyModel): string[] {
  return [f.onDelete !== 'no action' ? `on delete ${f.onDelete}` : '', f.onUpdate !== 'no action' ? `on update ${f.onUpdate}` : ''].filter(Boolean);
}

const VERB: Record<SchemaChange['kind'], string> = {
  'table-added': 'added', 'column-added': 'added', 'index-added': 'added', 'foreign-key-added': 'added',
  'table-removed': 'removed', 'column-removed': 'removed', 'index-removed': 'removed', 'foreign-key-removed': 'removed',
  'column-changed': 'changed', 'index-changed': 'changed', 'primary-key-changed': 'changed',
};

/** One line per change, saying what happened: `added column chat_users.is_spammer`. */
export function describeChanges(changes: readonly SchemaChange[]): string[] {
  return changes.map((c) => `${VERB[c.kind]} ${c.text}`);
}

/** A name as SQL: bare when it is plain lower-case ASCII, double-quoted otherwise. */
function quote(name: string): string {
  return /^[a-z0-9_]+$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const quoteList = (names: readonly string[]): string => `(${names.map(quote).join(', ')})`;

/**
 * The schema as SQL-like text for a file kept in version control: byte-identical for the same
 * model (sorted, no timestamps, no server details), so its diff shows what a migration did.
 * It is `dumpHeader`, then each table's `dumpTable` in name order, then a newline.
 */
export function dumpSchema(model: SchemaModel, dialectName: string, database?: string): string {
  return `${dumpHeader(dialectName, database)}${[...model.tables].sort((a, b) => byText(a.name, b.name)).map(dumpTable).join('')}\n`;
}

/** The dump's first lines, without their last newline. */
export function dumpHeader(dialectName: string, database?: string): string {
  const lines = [`-- Schema dumped by Migration Manager (${dialectName}). Do not edit: it is rewritten after every run.`];
  // Which database it describes: another database's snapshot is never written over it unasked.
  if (database !== undefined) lines.push(`-- Database: ${database}`);
  return lines.join('\n');
}

/** One table's part of the dump: a blank line, its CREATE TABLE, its indexes; nothing in it depends on another table. */
export function dumpTable(table: TableModel): string {
  const body = [
    ...table.columns.map((c) => [quote(c.name), c.type, c.nullable ? '' : 'NOT NULL', c.default === null ? '' : `DEFAULT ${c.default}`].filter(Boolean).join(' ')),
    ...(table.primaryKey.length > 0 ? [`PRIMARY KEY ${quoteList(table.primaryKey)}`] : []),
    ...[...table.foreignKeys]
      .sort((a, b) => byText(a.columns.join(','), b.columns.join(',')) || byText(foreignKeyText('')(a), foreignKeyText('')(b)))
      .map((f) => [`FOREIGN KEY ${quoteList(f.columns)} REFERENCES ${quote(f.table)} ${quoteList(f.references)}`, ...rules(f).map((r) => r.toUpperCase())].join(' ')),
  ];
  // PostgreSQL allows a table without columns.
  const lines = ['', body.length === 0 ? `CREATE TABLE ${quote(table.name)} ();` : `CREATE TABLE ${quote(table.name)} (\n${body.map((line) => `  ${line}`).join(',\n')}\n);`];
  for (const index of [...table.indexes].sort((a, b) => byText(a.name, b.name))) {
    lines.push(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quote(index.name)} ON ${quote(table.name)} ${quoteList(index.columns)};`);
  }
  return lines.map((line) => `\n${line}`).join('');
}
