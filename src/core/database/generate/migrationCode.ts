/**
 * knex schema-builder code that takes a database from one schema model to another, and the exact
 * inverse. Every column is written as the knex call that reads back as that very column on the
 * dialect (see columnTypes.ts); what cannot be written so, or may lose data without leave, is
 * refused with the reason, never written approximately.
 */
import {
  DIALECT_NAMES, columnTypeFor, defaultFor, indexRefusal, modelDefault, modelType,
  type ColumnKind, type ColumnSpec, type ColumnType, type SchemaDialect,
} from './columnTypes';
import { DEFAULT_RULE, knexIndexName, type TableSpec } from './declaredSchema';
import type { ColumnModel, ForeignKeyModel, IndexModel, SchemaChange, SchemaModel, TableModel } from '../../model/schema';
import { diffSchemas } from '../../model/schemaDiff';

export interface GenerateOptions {
  readonly dialect: SchemaDialect;
  /** Drop tables and columns and narrow types; otherwise such steps are refused. */
  readonly allowDestructive?: boolean;
  /** Columns renamed from before to after: `{ 'users.nick': 'users.nickname' }` (else a drop and an add). */
  readonly renames?: Readonly<Record<string, string>>;
}

/** A step that is not written, and why: the table (and column) it concerns named. */
export interface GenerateRefusal {
  readonly table: string;
  readonly column?: string;
  /** `drop column users.nick`: refused only because destructive steps were not allowed. */
  readonly destructive: boolean;
  readonly reason: string;
}

export interface GeneratedMigration {
  readonly ok: true;
  /** Statements for the body of `up(knex)`, unindented; empty when nothing differs. */
  readonly up: string;
  /** The exact inverse, for `down(knex)`. */
  readonly down: string;
  /** What differs, as diffSchemas says it (before the renames are applied). */
  readonly changes: readonly SchemaChange[];
  /** The destructive steps written (they were allowed): `drop column users.nick`. */
  readonly destructive: readonly string[];
}

export type GenerateResult = GeneratedMigration | { readonly ok: false; readonly refusals: readonly GenerateRefusal[] };

/** One step and its inverse, each a list of builder lines on one table (or a whole statement). */
interface Step {
  readonly table: string;
  readonly up: Statement;
  readonly down: Statement;
}

/** `alter`: lines inside `alterTable(table, (t) => { … })`; `raw`: a statement of its own. */
type Statement = { readonly alter: string } | { readonly raw: string };

/**
 * The migration from `before` to `after` on `options.dialect`: up() makes `after` out of `before`,
 * down() makes `before` again. Steps go in an order every database accepts: renames, foreign keys
 * and indexes dropped, tables dropped and created (referenced tables first), columns added,
 * changed and dropped, then indexes and foreign keys added.
 */
export function generateMigration(before: SchemaModel, after: SchemaModel, options: GenerateOptions): GenerateResult {
  const { dialect } = options;
  const refusals: GenerateRefusal[] = [];
  const destructive: string[] = [];
  const refuse = (table: string, column: string | undefined, reason: string) => refusals.push({ table, ...(column === undefined ? {} : { column }), destructive: false, reason });
  const destroy = (table: string, column: string | undefined, what: string) => {
    if (options.allowDestructive) destructive.push(what);
    else refusals.push({ table, ...(column === undefined ? {} : { column }), destructive: true, reason: `${what} may lose data: it is written only when destructive changes are allowed` });
  };
  const changes = diffSchemas(before, after);
  const renamed = applyRenames(before, after, options.renames ?? {}, dialect, refuse);
  const was = new Map(renamed.model.tables.map((t) => [t.name, t]));
  const is = new Map(after.tables.map((t) => [t.name, t]));
  const writer = new Writer(dialect, refuse);
  const phases: Step[][] = [renamed.steps, [], [], [], [], [], [], [], [], []];
  const [, dropKeys, dropIndexes, dropTables, createTables, addColumns, alterColumns, dropColumns, addIndexes, addKeys] = phases;

  for (const [name, next] of is) {
    const old = was.get(name);
    if (!old) continue;
    if (old.primaryKey.join(',') !== next.primaryKey.join(',')) {
      refuse(name, undefined, `the primary key of ${name} changes (${old.primaryKey.join(', ') || 'none'} → ${next.primaryKey.join(', ') || 'none'}): write that step by hand`);
      continue;
    }
    const oldKeys = new Map(old.foreignKeys.map((f) => [keyText(f), f]));
    const newKeys = new Map(next.foreignKeys.map((f) => [keyText(f), f]));
    for (const [k, f] of oldKeys) if (!newKeys.has(k)) dropKeys.push(writer.flip(writer.addForeignKey(name, f)));
    for (const [k, f] of newKeys) if (!oldKeys.has(k)) addKeys.push(writer.addForeignKey(name, f));
    const oldIndexes = new Map(old.indexes.map((i) => [i.name, i]));
    const newIndexes = new Map(next.indexes.map((i) => [i.name, i]));
    for (const [n, i] of oldIndexes) if (indexText(newIndexes.get(n)) !== indexText(i)) dropIndexes.push(writer.flip(writer.addIndex(old, i, [old, next])));
    for (const [n, i] of newIndexes) if (indexText(oldIndexes.get(n)) !== indexText(i)) addIndexes.push(writer.addIndex(next, i, [old, next]));
    const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
    const newColumns = new Map(next.columns.map((c) => [c.name, c]));
    for (const [n, c] of newColumns) {
      const prior = oldColumns.get(n);
      if (!prior) addColumns.push(writer.addColumn(next, c));
      else if (prior.type !== c.type || prior.nullable !== c.nullable || prior.default !== c.default) {
        const step = writer.alterColumn(old, prior, next, c);
        if (step) {
          alterColumns.push(step);
          if (narrows(prior, c, dialect)) destroy(name, n, `narrowing column ${name}.${n} (${prior.type} → ${c.type})`);
        }
      }
    }
    for (const [n, c] of oldColumns) {
      if (newColumns.has(n)) continue;
      dropColumns.push(writer.flip(writer.addColumn(old, c, true)));
      destroy(name, n, `dropping column ${name}.${n}`);
    }
  }
  for (const table of inDependencyOrder([...is.values()].filter((t) => !was.has(t.name)), refuse)) createTables.push(writer.createTable(table));
  const gone = [...was.values()].filter((t) => !is.has(t.name));
  for (const table of inDependencyOrder(gone, refuse).reverse()) {
    dropTables.push(writer.flip(writer.createTable(table)));
    destroy(table.name, undefined, `dropping table ${table.name}`);
  }

  if (refusals.length > 0) return { ok: false, refusals };
  // knex orders the calls inside one alterTable its own way (added columns first): one call per phase and table.
  const steps = phases.flatMap((phase, n) => phase.map((step) => ({ ...step, phase: n })));
  return {
    ok: true,
    up: render(steps.map((s) => ({ group: `${s.phase}:${s.table}`, table: s.table, statement: s.up }))),
    down: render([...steps].reverse().map((s) => ({ group: `${s.phase}:${s.table}`, table: s.table, statement: s.down }))),
    changes,
    destructive,
  };
}

const keyText = (f: ForeignKeyModel): string => `${f.columns.join(',')}→${f.table}(${f.references.join(',')}) ${f.onDelete}/${f.onUpdate}`;
const indexText = (i: IndexModel | undefined): string => (i ? `${i.unique}:${i.columns.join(',')}` : '');

/**
 * `before` with the renamed columns under their new names (in its indexes, keys and the keys that
 * reference them), and the rename steps; a rename that does not fit the two models is refused.
 */
function applyRenames(before: SchemaModel, after: SchemaModel, renames: Readonly<Record<string, string>>, dialect: SchemaDialect, refuse: (table: string, column: string | undefined, reason: string) => void): { model: SchemaModel; steps: Step[] } {
  const steps: Step[] = [];
  let tables = before.tables;
  for (const [from, to] of Object.entries(renames)) {
    const [table, column, extra] = from.split('.');
    const [toTable, toColumn, toExtra] = to.split('.');
    const was = tables.find((t) => t.name === table);
    const is = after.tables.find((t) => t.name === table);
    const wrong = extra !== undefined || toExtra !== undefined || !column || !toColumn ? 'name it table.column on both sides'
      : toTable !== table ? `a column stays in its table (${table} → ${toTable}); tables are not renamed here`
      : !was?.columns.some((c) => c.name === column) ? `${table} has no column ${column} before the change`
      : !is?.columns.some((c) => c.name === toColumn) ? `${table} has no column ${toColumn} after the change`
      : was.columns.some((c) => c.name === toColumn) ? `${table} already has a column ${toColumn}`
      : is.columns.some((c) => c.name === column) ? `${table} still has a column ${column} after the change`
      : undefined;
    if (wrong) {
      refuse(table, column, `rename ${from} → ${to}: ${wrong}`);
      continue;
    }
    const swap = (names: readonly string[]) => names.map((n) => (n === column ? toColumn : n));
    tables = tables.map((t) => ({
      ...t,
      ...(t.name === table ? { columns: t.columns.map((c) => (c.name === column ? { ...c, name: toColumn } : c)), primaryKey: swap(t.primaryKey), indexes: t.indexes.map((i) => ({ ...i, columns: swap(i.columns) })) } : {}),
      foreignKeys: t.foreignKeys.map((f) => ({ ...f, ...(t.name === table ? { columns: swap(f.columns) } : {}), ...(f.table === table ? { references: swap(f.references) } : {}) })),
    }));
    // knex's renameColumn on MySQL re-declares the column from SHOW FIELDS and quotes a current_timestamp() default
    // (knex 3.3): RENAME COLUMN (MariaDB 10.5+, MySQL 8) changes the name only.
    const rename = (a: string, b: string): Statement => (dialect === 'mysql'
      ? { raw: `await knex.raw('alter table ?? rename column ?? to ??', ${list([table, a, b])});` }
      : { alter: `t.renameColumn(${q(a)}, ${q(b)});` });
    steps.push({ table, up: rename(column, toColumn), down: rename(toColumn, column) });
  }
  return { model: { tables }, steps };
}

/** Tables ordered so each comes after the tables its foreign keys reference; a cycle is refused. */
function inDependencyOrder(tables: readonly TableModel[], refuse: (table: string, column: string | undefined, reason: string) => void): TableModel[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: TableModel[] = [];
  const visit = (t: TableModel): void => {
    if (done.has(t.name)) return;
    if (visiting.has(t.name)) {
      refuse(t.name, undefined, `the foreign keys of ${[...visiting].join(', ')} reference each other in a cycle: create or drop these tables by hand`);
      return;
    }
    visiting.add(t.name);
    for (const f of t.foreignKeys) {
      const other = byName.get(f.table);
      if (other && other !== t) visit(other);
    }
    visiting.delete(t.name);
    done.add(t.name);
    order.push(t);
  };
  for (const t of [...tables].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(t);
  return order;
}

const INTEGER_RANK: Partial<Record<ColumnKind, number>> = { tinyint: 1, smallint: 2, mediumint: 3, integer: 4, bigInteger: 5 };
const TEXT_RANK: Record<string, number> = { text: 1, mediumtext: 2, longtext: 3 };

/** Types a column may change between (a knex `.alter()` casts within them); others need a conversion written by hand. */
function family(kind: ColumnKind): string {
  if (kind in INTEGER_RANK) return 'integer';
  if (kind === 'string' || kind === 'text') return 'text';
  if (kind === 'float' || kind === 'double' || kind === 'decimal') return 'real';
  if (kind === 'datetime' || kind === 'timestamp') return 'stamp';
  return kind;
}

/** Whether the change of type may lose data (a shorter string, a smaller integer, text to varchar…). */
function narrows(was: ColumnModel, is: ColumnModel, dialect: SchemaDialect): boolean {
  if (was.type === is.type) return false;
  const a = columnTypeFor(was.type, dialect);
  const b = columnTypeFor(is.type, dialect);
  if (!a || !b) return true;
  if (a.kind === 'string' && b.kind === 'string') return b.length! < a.length!;
  if (a.kind === 'string' && b.kind === 'text') return false;
  if (a.kind === 'text' && b.kind === 'text') return TEXT_RANK[b.textType ?? 'text'] < TEXT_RANK[a.textType ?? 'text'];
  if (a.kind in INTEGER_RANK && b.kind in INTEGER_RANK) return INTEGER_RANK[b.kind]! < INTEGER_RANK[a.kind]! || a.unsigned !== b.unsigned;
  if (a.kind === 'float' && b.kind === 'double' && a.precision === undefined && b.precision === undefined) return false;
  if (a.kind === 'decimal' && b.kind === 'decimal') return b.scale! < a.scale! || b.precision! - b.scale! < a.precision! - a.scale!;
  if (family(a.kind) === 'stamp' && family(b.kind) === 'stamp') return (b.precision ?? 0) < (a.precision ?? 0);
  return true;
}

/** Builds the knex lines of each step for one dialect, refusing what it cannot write exactly. */
class Writer {
  constructor(
    private readonly dialect: SchemaDialect,
    private readonly refuse: (table: string, column: string | undefined, reason: string) => void,
  ) {}

  /** The step that undoes `step`. */
  flip(step: Step): Step {
    return { table: step.table, up: step.down, down: step.up };
  }

  createTable(table: TableModel): Step {
    const spec = this.tableSpec(table);
    const lines = [
      ...spec.columns.map((c) => this.columnCall(c, spec.increments === c.name)),
      ...(spec.increments || spec.primaryKey.length === 0 ? [] : [`t.primary(${list(spec.primaryKey)});`]),
      ...spec.indexes.map((i) => this.indexCall(i)),
      ...spec.foreignKeys.map((f) => this.foreignKeyCall(table.name, f)),
    ];
    for (const i of table.indexes) this.checkIndex(table, i);
    return {
      table: table.name,
      up: { raw: `await knex.schema.createTable(${q(table.name)}, (t) => {\n${lines.map((l) => `  ${l}`).join('\n')}\n});` },
      down: { raw: `await knex.schema.dropTable(${q(table.name)});` },
    };
  }

  /** `undo`: the column is dropped, and this adds it back in down(). */
  addColumn(table: TableModel, column: ColumnModel, undo = false): Step {
    const spec = this.columnSpec(table, column);
    if (this.dialect === 'sqlite' && !column.nullable && column.default === null) {
      const where = `${table.name}.${column.name}`;
      this.refuse(table.name, column.name, undo
        ? `dropping column ${where} cannot be undone on SQLite: down() would add the NOT NULL column back without a default, which SQLite refuses; make it nullable or give it a default first`
        : `SQLite cannot add the NOT NULL column ${where} without a default to an existing table: give it a default, or make it nullable first`);
    }
    if (table.primaryKey.includes(column.name)) this.refuse(table.name, column.name, `column ${table.name}.${column.name} is in the primary key: adding or dropping it is written by hand`);
    return { table: table.name, up: { alter: spec ? this.columnCall(spec, false) : '' }, down: { alter: `t.dropColumn(${q(column.name)});` } };
  }

  alterColumn(oldTable: TableModel, was: ColumnModel, newTable: TableModel, is: ColumnModel): Step | undefined {
    const from = this.columnSpec(oldTable, was);
    const to = this.columnSpec(newTable, is);
    if (!from || !to) return undefined;
    const where = `${newTable.name}.${is.name}`;
    if (family(from.type.kind) !== family(to.type.kind)) {
      this.refuse(newTable.name, is.name, `column ${where} changes type from ${was.type} to ${is.type}, which needs a data conversion: write that step by hand`);
      return undefined;
    }
    if (oldTable.primaryKey.includes(was.name) || newTable.primaryKey.includes(is.name)) {
      this.refuse(newTable.name, is.name, `column ${where} is in the primary key: changing it is written by hand`);
      return undefined;
    }
    // A key dropped or added in the same migration is dropped before and added after the change.
    const kept = oldTable.foreignKeys.filter((f) => f.columns.includes(was.name) && newTable.foreignKeys.some((g) => keyText(g) === keyText(f)));
    if (this.dialect === 'mysql' && was.type !== is.type && kept.length > 0) {
      this.refuse(newTable.name, is.name, `MySQL/MariaDB cannot change the type of ${where} while a foreign key uses it: write that step by hand`);
      return undefined;
    }
    return { table: newTable.name, up: { alter: `${this.columnCall(to, false, true)}` }, down: { alter: `${this.columnCall(from, false, true)}` } };
  }

  addIndex(table: TableModel, index: IndexModel, both: readonly TableModel[]): Step {
    this.checkIndex(table, index);
    if (this.dialect === 'mysql') {
      // InnoDB may take an index that starts with a foreign key's columns for the key, then refuses to drop it or drops its own.
      const key = both[0].foreignKeys.find((f) => both[1].foreignKeys.some((g) => keyText(g) === keyText(f)) && f.columns.every((c, n) => index.columns[n] === c));
      if (key) this.refuse(table.name, undefined, `on MySQL/MariaDB the index ${index.name} of ${table.name} may serve the foreign key (${key.columns.join(', ')}), so adding or dropping it is written by hand`);
    }
    const drop = index.unique ? `t.dropUnique(${list(index.columns)}, ${q(index.name)});` : `t.dropIndex(${list(index.columns)}, ${q(index.name)});`;
    return { table: table.name, up: { alter: this.indexCall(index) }, down: { alter: drop } };
  }

  addForeignKey(table: string, key: ForeignKeyModel): Step {
    return { table, up: { alter: this.foreignKeyCall(table, key) }, down: { alter: `t.dropForeign(${list(key.columns)}, ${q(knexIndexName(table, key.columns, 'foreign'))});` } };
  }

  private checkIndex(table: TableModel, index: IndexModel): void {
    for (const name of index.columns) {
      const column = table.columns.find((c) => c.name === name);
      if (!column) this.refuse(table.name, undefined, `index ${index.name} of ${table.name} has an expression or unknown column (${name}), which knex's index() cannot make`);
      else {
        const wrong = indexRefusal(column.type, this.dialect);
        if (wrong) this.refuse(table.name, name, `index ${index.name} of ${table.name}: ${wrong}`);
      }
    }
  }

  /** The table as knex calls, each column checked to read back as itself. */
  private tableSpec(table: TableModel): TableSpec {
    const columns = table.columns.map((c) => this.columnSpec(table, c)).filter((c): c is ColumnSpec => c !== undefined);
    const increments = this.incrementsColumn(table);
    return { name: table.name, columns, primaryKey: table.primaryKey, indexes: table.indexes, foreignKeys: table.foreignKeys, ...(increments ? { increments } : {}) };
  }

  /** The column knex's increments() makes: the key alone, not null, of that type, no default. */
  private incrementsColumn(table: TableModel): string | undefined {
    if (table.primaryKey.length !== 1) return undefined;
    const c = table.columns.find((col) => col.name === table.primaryKey[0]);
    const serial = [modelType({ kind: 'increments' }, this.dialect), modelType({ kind: 'bigIncrements' }, this.dialect)];
    return c && !c.nullable && c.default === null && serial.includes(c.type) ? c.name : undefined;
  }

  private columnSpec(table: TableModel, column: ColumnModel): ColumnSpec | undefined {
    const where = `${table.name}.${column.name}`;
    let type: ColumnType | undefined = columnTypeFor(column.type, this.dialect);
    if (!type) {
      this.refuse(table.name, column.name, `column ${where} has type ${column.type}, which no knex column type makes on ${DIALECT_NAMES[this.dialect]} (knex's specificType() is not generated)`);
      return undefined;
    }
    if (this.incrementsColumn(table) === column.name) type = { kind: column.type === modelType({ kind: 'increments' }, this.dialect) ? 'increments' : 'bigIncrements' };
    const dflt = column.default === null ? undefined : defaultFor(column.default, type);
    const spec: ColumnSpec = { name: column.name, type, nullable: column.nullable, ...(dflt ? { default: dflt } : {}) };
    // What the call reads back as must be the column itself, or it is not written.
    if (modelType(type, this.dialect) !== column.type || modelDefault(type, dflt, this.dialect) !== column.default) {
      this.refuse(table.name, column.name, `column ${where} (${column.type}, default ${column.default}) cannot be written as a knex call that reads back the same on ${DIALECT_NAMES[this.dialect]}`);
      return undefined;
    }
    return spec;
  }

  /** `t.string('email', 255).notNullable().defaultTo('x')` (with `.alter()` to change a column). */
  private columnCall(c: ColumnSpec, increments: boolean, alter = false): string {
    if (increments) return `t.${c.type.kind === 'bigIncrements' ? 'bigIncrements' : 'increments'}(${q(c.name)});`;
    const t = c.type;
    const args: string[] = [q(c.name)];
    const kind = t.kind === 'increments' ? 'integer' : t.kind === 'bigIncrements' ? 'bigInteger' : t.kind;
    if (t.kind === 'string' || (t.kind === 'binary' && t.length !== undefined)) args.push(String(t.length));
    if (t.kind === 'text' && t.textType) args.push(q(t.textType));
    if ((t.kind === 'float' || t.kind === 'double' || t.kind === 'decimal') && t.precision !== undefined) args.push(String(t.precision), String(t.scale));
    if ((t.kind === 'datetime' || t.kind === 'timestamp') && (t.useTz !== undefined || t.precision !== undefined)) {
      args.push(`{ ${[t.useTz === undefined ? '' : `useTz: ${t.useTz}`, t.precision === undefined ? '' : `precision: ${t.precision}`].filter(Boolean).join(', ')} }`);
    }
    if (t.kind === 'enum') args.push(list(t.values ?? []));
    const method = kind === 'enum' ? 'enu' : kind;
    const parts = [`t.${method}(${args.join(', ')})`];
    if (t.unsigned) parts.push('unsigned()');
    if (!c.nullable) parts.push('notNullable()');
    else if (alter) parts.push('nullable()');
    if (c.default) parts.push(`defaultTo(${'now' in c.default ? 'knex.fn.now()' : 'raw' in c.default ? `knex.raw(${q(c.default.raw)})` : typeof c.default.value === 'string' ? q(c.default.value) : String(c.default.value)})`);
    if (alter) parts.push('alter()');
    return `${parts.join('.')};`;
  }

  private indexCall(i: IndexModel): string {
    return i.unique ? `t.unique(${list(i.columns)}, { indexName: ${q(i.name)} });` : `t.index(${list(i.columns)}, ${q(i.name)});`;
  }

  private foreignKeyCall(table: string, f: ForeignKeyModel): string {
    const rule = (r: string) => r.toUpperCase();
    // Every rule is written, even the database's default, so the code says what the key does.
    const rules = `.onDelete(${q(rule(f.onDelete || DEFAULT_RULE[this.dialect]))}).onUpdate(${q(rule(f.onUpdate || DEFAULT_RULE[this.dialect]))})`;
    return `t.foreign(${list(f.columns)}, ${q(knexIndexName(table, f.columns, 'foreign'))}).references(${list(f.references)}).inTable(${q(f.table)})${rules};`;
  }
}

/** A string as a single-quoted TypeScript literal. */
function q(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

const list = (items: readonly string[]): string => `[${items.map(q).join(', ')}]`;

/** Statements in order, consecutive lines of one group (phase and table) gathered into one alterTable call. */
function render(statements: readonly { group: string; table: string; statement: Statement }[]): string {
  const out: string[] = [];
  let open: { group: string; table: string; lines: string[] } | undefined;
  const close = () => {
    if (open) out.push(`await knex.schema.alterTable(${q(open.table)}, (t) => {\n${open.lines.map((l) => `  ${l}`).join('\n')}\n});`);
    open = undefined;
  };
  for (const { group, table, statement } of statements) {
    if ('raw' in statement) {
      close();
      out.push(statement.raw);
    } else if (open?.group === group) open.lines.push(statement.alter);
    else {
      close();
      open = { group, table, lines: [statement.alter] };
    }
  }
  close();
  return out.join('\n');
}

/**
 * A migration file's text with the generated bodies in place of its `up` and `down` methods' (the
 * template's comments): works on any template whose methods read `up(knex…) {` and `down(knex…) {`.
 * Undefined when the template has no such methods.
 */
export function fillMigrationBodies(fileText: string, code: { readonly up: string; readonly down: string }): string | undefined {
  let text = fileText;
  for (const [method, body] of [['up', code.up], ['down', code.down]] as const) {
    const head = new RegExp(`^([ \\t]*)(?:async\\s+)?${method}\\s*\\(\\s*knex\\b[^)]*\\)[^{\\n]*\\{[ \\t]*\\n`, 'm').exec(text);
    if (!head) return undefined;
    const start = head.index + head[0].length;
    const end = text.indexOf(`\n${head[1]}}`, start);
    if (end < 0) return undefined;
    const indent = `${head[1]}  `;
    text = `${text.slice(0, start)}${body.split('\n').map((l) => (l ? indent + l : l)).join('\n')}${text.slice(end)}`;
  }
  return text;
}
