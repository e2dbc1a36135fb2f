// Random declared schemas for the generator's round-trip test: a schema A drawn from the column
// types and constraints the generator supports, and B, A changed by a few random steps (tables and
// columns added, dropped, changed and renamed; indexes and foreign keys added and dropped).
// Built through the public builders, so the test exercises the API users write.
import type { SchemaDialect } from '../src/core/database/generate/columnTypes';
import * as s from '../src/core/database/generate/declaredSchema';
import type { Column, ReferentialAction, TableDeclaration } from '../src/core/database/generate/declaredSchema';
import { seededRandom } from './faults';

export type Rng = () => number;

/** mulberry32 (the fault trials' generator): small, fast and the same on every machine. */
export const seededRng: (seed: number) => Rng = seededRandom;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const chance = (rng: Rng, p: number): boolean => rng() < p;

/** A column type as the test knows it: how to build it, its family, whether it can be indexed, its defaults. */
interface TypeChoice {
  readonly id: string;
  readonly family: 'integer' | 'text' | 'real' | 'stamp' | 'other';
  readonly make: () => Column;
  readonly indexable: boolean;
  readonly defaults: (rng: Rng) => ((c: Column) => Column) | undefined;
  readonly only?: SchemaDialect;
}

const num = (rng: Rng) => (c: Column) => c.defaultTo(Math.floor(rng() * 200) - 50);
const real = (rng: Rng) => (c: Column) => c.defaultTo((Math.floor(rng() * 400) - 100) / 2);
const word = (rng: Rng) => (c: Column) => c.defaultTo(pick(rng, ['open', "it's", '', 'a b', 'x']));
const now = () => (c: Column) => c.defaultToNow();

const TYPES: readonly TypeChoice[] = [
  { id: 'integer', family: 'integer', make: () => s.integer(), indexable: true, defaults: num },
  { id: 'integer unsigned', family: 'integer', make: () => s.integer().unsigned(), indexable: true, defaults: (rng) => (c) => c.defaultTo(Math.floor(rng() * 100)), only: 'mysql' },
  { id: 'bigInteger', family: 'integer', make: () => s.bigInteger(), indexable: true, defaults: num },
  { id: 'smallint', family: 'integer', make: () => s.smallint(), indexable: true, defaults: num },
  { id: 'tinyint', family: 'integer', make: () => s.tinyint(), indexable: true, defaults: (rng) => (c) => c.defaultTo(Math.floor(rng() * 100)) },
  { id: 'mediumint', family: 'integer', make: () => s.mediumint(), indexable: true, defaults: num },
  { id: 'string(20)', family: 'text', make: () => s.string(20), indexable: true, defaults: word },
  { id: 'string(100)', family: 'text', make: () => s.string(100), indexable: true, defaults: word },
  { id: 'string', family: 'text', make: () => s.string(), indexable: true, defaults: word },
  { id: 'text', family: 'text', make: () => s.text(), indexable: false, defaults: word },
  { id: 'text(longtext)', family: 'text', make: () => s.text('longtext'), indexable: false, defaults: () => undefined, only: 'mysql' },
  { id: 'float', family: 'real', make: () => s.float(), indexable: false, defaults: real },
  { id: 'double', family: 'real', make: () => s.double(), indexable: false, defaults: real },
  { id: 'double(10,2)', family: 'real', make: () => s.double(10, 2), indexable: false, defaults: real, only: 'mysql' },
  { id: 'decimal(8,2)', family: 'real', make: () => s.decimal(8, 2), indexable: true, defaults: real },
  { id: 'decimal(12,4)', family: 'real', make: () => s.decimal(12, 4), indexable: true, defaults: real },
  { id: 'boolean', family: 'other', make: () => s.boolean(), indexable: true, defaults: (rng) => (c) => c.defaultTo(chance(rng, 0.5)) },
  { id: 'date', family: 'other', make: () => s.date(), indexable: true, defaults: () => undefined },
  { id: 'time', family: 'other', make: () => s.time(), indexable: false, defaults: () => undefined },
  { id: 'datetime', family: 'stamp', make: () => s.datetime(), indexable: true, defaults: now },
  { id: 'datetime(3)', family: 'stamp', make: () => s.datetime({ precision: 3 }), indexable: false, defaults: () => undefined },
  { id: 'timestamp', family: 'stamp', make: () => s.timestamp(), indexable: true, defaults: now },
  { id: 'timestamp without tz', family: 'stamp', make: () => s.timestamp({ useTz: false }), indexable: false, defaults: () => undefined, only: 'pg' },
  { id: 'binary', family: 'other', make: () => s.binary(), indexable: false, defaults: () => undefined },
  { id: 'binary(16)', family: 'other', make: () => s.binary(16), indexable: false, defaults: () => undefined, only: 'mysql' },
  { id: 'enu', family: 'other', make: () => s.enu(['a', 'b', 'c d']), indexable: true, defaults: (rng) => (c) => c.defaultTo(pick(rng, ['a', 'c d'])), only: 'mysql' },
  { id: 'json', family: 'other', make: () => s.json(), indexable: false, defaults: () => undefined },
  { id: 'jsonb', family: 'other', make: () => s.jsonb(), indexable: false, defaults: () => undefined },
  { id: 'uuid', family: 'other', make: () => s.uuid(), indexable: true, defaults: () => (c) => c.defaultTo('00000000-0000-4000-8000-000000000000') },
];

/** Which of the types above each database supports (the rest are refused there, see columnTypes.ts). */
export function typesFor(dialect: SchemaDialect): readonly TypeChoice[] {
  // A text column's default is left out by knex on MySQL/MariaDB.
  return TYPES.filter((t) => t.only === undefined || t.only === dialect).map((t) => (t.id === 'text' && dialect === 'mysql' ? { ...t, defaults: () => undefined } : t));
}

interface ColumnPlan {
  name: string;
  type: TypeChoice;
  notNull: boolean;
  withDefault?: (c: Column) => Column;
  unique: boolean;
  index: boolean;
  /** A foreign key to this table's increments key. */
  references?: { table: string; big: boolean; onDelete: ReferentialAction; onUpdate: ReferentialAction };
}

interface TablePlan {
  name: string;
  key: 'increments' | 'bigIncrements' | 'composite' | 'none';
  columns: ColumnPlan[];
  indexes: { columns: string[]; unique: boolean }[];
}

const RULES: readonly ReferentialAction[] = ['cascade', 'restrict', 'no action', 'set null'];

class Planner {
  private serial = 0;
  constructor(
    private readonly rng: Rng,
    private readonly dialect: SchemaDialect,
  ) {}

  private get types() {
    return typesFor(this.dialect);
  }

  column(name: string, forAdd = false): ColumnPlan {
    const type = pick(this.rng, this.types);
    const maker = type.defaults(this.rng);
    const withDefault = maker && chance(this.rng, 0.4) ? maker : undefined;
    // SQLite adds a NOT NULL column to an existing table only with a default.
    const notNull = chance(this.rng, 0.3) && (!forAdd || this.dialect !== 'sqlite' || withDefault !== undefined);
    const unique = type.indexable && chance(this.rng, 0.15);
    return { name, type, notNull, withDefault, unique, index: type.indexable && !unique && chance(this.rng, 0.15) };
  }

  foreignKey(name: string, target: TablePlan, forAdd = false): ColumnPlan {
    const big = target.key === 'bigIncrements';
    const nullable = chance(this.rng, 0.7) || (forAdd && this.dialect === 'sqlite');
    const rule = () => pick(this.rng, nullable ? RULES : RULES.filter((r) => r !== 'set null'));
    const type = this.types.find((t) => t.id === (big ? 'bigInteger' : 'integer'))!;
    return { name, type, notNull: !nullable, unique: false, index: false, references: { table: target.name, big, onDelete: rule(), onUpdate: rule() } };
  }

  table(name: string, earlier: readonly TablePlan[]): TablePlan {
    const r = this.rng();
    const key = r < 0.6 ? 'increments' : r < 0.8 ? 'bigIncrements' : r < 0.9 ? 'composite' : 'none';
    const columns = Array.from({ length: 1 + Math.floor(this.rng() * 4) }, () => this.column(this.name('c')));
    const targets = earlier.filter((t) => t.key === 'increments' || t.key === 'bigIncrements');
    if (targets.length > 0 && chance(this.rng, 0.7)) columns.push(this.foreignKey(this.name('ref'), pick(this.rng, targets)));
    const table: TablePlan = { name, key, columns, indexes: [] };
    if (chance(this.rng, 0.25)) this.addIndex(table);
    return table;
  }

  addIndex(table: TablePlan): boolean {
    const candidates = table.columns.filter((c) => c.type.indexable && !c.references);
    if (candidates.length === 0) return false;
    const first = pick(this.rng, candidates);
    const second = pick(this.rng, candidates);
    const columns = first === second ? [first.name] : [first.name, second.name];
    // One index per list of columns: a second one of the same columns would have the same default name.
    if (table.indexes.some((i) => i.columns.join() === columns.join()) || (columns.length === 1 && (first.unique || first.index))) return false;
    table.indexes.push({ columns, unique: chance(this.rng, 0.3) });
    return true;
  }

  name(prefix: string): string {
    return `${prefix}${this.serial++}`;
  }
}

function build(plan: TablePlan, dialect: SchemaDialect): TableDeclaration {
  const columns: Record<string, Column> = {};
  if (plan.key === 'increments') columns.id = s.increments();
  if (plan.key === 'bigIncrements') columns.id = s.bigIncrements();
  if (plan.key === 'composite') {
    columns.k1 = s.string(20).notNullable();
    columns.k2 = s.integer().notNullable();
  }
  for (const c of plan.columns) {
    let column = c.references ? (c.references.big ? s.bigInteger() : s.integer()).unsigned() : c.type.make();
    if (c.notNull) column = column.notNullable();
    if (c.withDefault) column = c.withDefault(column);
    if (c.unique) column = column.unique();
    if (c.index) column = column.index();
    if (c.references) column = column.references(`${c.references.table}.id`).onDelete(c.references.onDelete).onUpdate(c.references.onUpdate);
    columns[c.name] = column;
  }
  void dialect;
  return { columns, ...(plan.key === 'composite' ? { primaryKey: ['k1', 'k2'] } : {}), indexes: plan.indexes.map((i) => ({ ...i, columns: [...i.columns] })) };
}

const clone = (tables: TablePlan[]): TablePlan[] => tables.map((t) => ({ ...t, columns: t.columns.map((c) => ({ ...c })), indexes: t.indexes.map((i) => ({ ...i, columns: [...i.columns] })) }));

/** A random schema A and B (A after 1 to 3 random changes), with the renames B made. */
export function randomSchemaPair(rng: Rng, dialect: SchemaDialect): { a: Record<string, TableDeclaration>; b: Record<string, TableDeclaration>; renames: Record<string, string> } {
  const planner = new Planner(rng, dialect);
  const a: TablePlan[] = [];
  for (let n = 1 + Math.floor(rng() * 3); n > 0; n--) a.push(planner.table(planner.name('t'), a));
  const b = clone(a);
  const renames: Record<string, string> = {};
  const touched = new Set<ColumnPlan>();
  for (let n = 1 + Math.floor(rng() * 3); n > 0; n--) mutate(rng, planner, b, renames, touched, dialect);
  return { a: Object.fromEntries(a.map((t) => [t.name, build(t, dialect)])), b: Object.fromEntries(b.map((t) => [t.name, build(t, dialect)])), renames };
}

function mutate(rng: Rng, planner: Planner, tables: TablePlan[], renames: Record<string, string>, touched: Set<ColumnPlan>, dialect: SchemaDialect): void {
  const table = tables.length > 0 ? pick(rng, tables) : undefined;
  const free = table?.columns.filter((c) => !touched.has(c) && !c.references) ?? [];
  const inIndex = (c: ColumnPlan) => table!.indexes.some((i) => i.columns.includes(c.name));
  switch (Math.floor(rng() * 10)) {
    case 0: {
      // A new table's columns were not in A: nothing to rename or change.
      const added = planner.table(planner.name('t'), tables);
      tables.push(added);
      for (const c of added.columns) touched.add(c);
      return;
    }
    case 1: {
      const referenced = new Set(tables.flatMap((t) => t.columns.flatMap((c) => (c.references ? [c.references.table] : []))));
      if (!table || referenced.has(table.name)) return;
      tables.splice(tables.indexOf(table), 1);
      for (const from of Object.keys(renames)) if (from.startsWith(`${table.name}.`)) delete renames[from];
      return;
    }
    case 2:
      if (table) touched.add(table.columns[table.columns.push(planner.column(planner.name('c'), true)) - 1]);
      return;
    case 3: {
      // SQLite's down() adds a dropped column back: only one it can add to an existing table.
      const victim = table?.columns.find((c) => !touched.has(c) && (dialect !== 'sqlite' || !c.notNull || c.withDefault));
      // A table keeps a column.
      if (!table || !victim || (table.columns.length === 1 && table.key === 'none')) return;
      table.columns.splice(table.columns.indexOf(victim), 1);
      table.indexes = table.indexes.filter((i) => !i.columns.includes(victim.name));
      return;
    }
    case 4: {
      const c = free.find((col) => !inIndex(col) && !col.unique && !col.index);
      if (!c) return;
      touched.add(c);
      const change = Math.floor(rng() * 3);
      if (change === 0) c.notNull = !c.notNull;
      else if (change === 1) c.withDefault = c.withDefault ? undefined : c.type.defaults(rng);
      else {
        const next = typesFor(dialect).filter((t) => t.family === c.type.family && t.family !== 'other' && t !== c.type);
        if (next.length === 0) return;
        c.type = pick(rng, next);
        // A default of the old type may not suit the new one (a text column's on MySQL).
        c.withDefault = c.withDefault ? c.type.defaults(rng) : undefined;
        if (c.unique || c.index) c.unique = c.index = false;
      }
      return;
    }
    case 5:
      if (table) planner.addIndex(table);
      return;
    case 6: {
      if (table && table.indexes.length > 0) table.indexes.splice(Math.floor(rng() * table.indexes.length), 1);
      else if (table) {
        const c = table.columns.find((col) => col.unique || col.index);
        if (c) c.unique = c.index = false;
      }
      return;
    }
    case 7: {
      if (!table) return;
      const targets = tables.filter((t) => t !== table && (t.key === 'increments' || t.key === 'bigIncrements') && tables.indexOf(t) < tables.indexOf(table));
      if (targets.length > 0) touched.add(table.columns[table.columns.push(planner.foreignKey(planner.name('ref'), pick(rng, targets), true)) - 1]);
      return;
    }
    case 8: {
      const keys = tables.flatMap((t) => t.columns.filter((col) => col.references && !touched.has(col)));
      const c = keys.length > 0 ? pick(rng, keys) : undefined;
      if (!c) return;
      touched.add(c);
      c.references = undefined;
      return;
    }
    default: {
      const c = free.find((col) => !col.unique && !col.index);
      if (!table || !c) return;
      const to = planner.name('r');
      renames[`${table.name}.${c.name}`] = `${table.name}.${to}`;
      for (const i of table.indexes) i.columns = i.columns.map((n) => (n === c.name ? to : n));
      c.name = to;
      touched.add(c);
    }
  }
}
