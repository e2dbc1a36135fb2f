import { bareName as unquote, type SchemaChange, type SchemaModel } from './schema';
import type { Severity } from './types';

/** Stable codes: what `// migrations-disable-next-line <code>` and the `lint` setting name. */
export const LINT_CODES = [
  'drop-table', 'drop-column', 'rename-table', 'rename-column', 'change-column-type', 'add-not-null-column',
  'index-not-concurrently', 'concurrently-in-transaction', 'no-down',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

export interface LintFinding {
  readonly code: LintCode;
  readonly severity: Severity;
  readonly message: string;
}

/** What one pending migration did on the shadow, as lint needs it. */
export interface LintInput {
  /** The database builds an index without blocking writes when asked to (PostgreSQL's CONCURRENTLY), outside a transaction only. */
  readonly concurrentIndexes: boolean;
  readonly before: SchemaModel;
  /** Unset when up() failed on the shadow: only its SQL is checked. */
  readonly after?: SchemaModel;
  readonly changes: readonly SchemaChange[];
  readonly sql: readonly string[];
  readonly transactional: boolean;
  readonly hasDown: boolean;
}

/** knex rebuilds a SQLite table through a temporary copy: its renames and drops are not the migration's own. */
const KNEX_TEMP = /^_knex_temp_alter/;

const RENAME_TABLE = /^\s*alter\s+table\s+(\S+)\s+rename\s+to\s+(\S+)/i;
const RENAME_TABLE_MYSQL = /^\s*rename\s+table\s+(\S+)\s+to\s+(\S+)/i;
// `rename column a to b`, PostgreSQL's and SQLite's `rename a to b` (not `rename to`: a table), MySQL's `change a b <type>`.
const RENAME_COLUMN = /\brename\s+(?:column\s+)?(?!to\b)(\S+)\s+to\s+(\S+)|\bchange\s+(?:column\s+)?(\S+)\s+(\S+)\s/i;

/** The rules, each a danger to data or to the app still running against the old schema. */
export function lintMigration(input: LintInput): LintFinding[] {
  const found: LintFinding[] = [];
  const add = (code: LintCode, severity: Severity, message: string) => found.push({ code, severity, message });
  const existed = (table: string) => input.before.tables.some((t) => t.name === table);
  // A rename reads as a removal plus an addition in the schemas: its own rule says it, once.
  const renamedTables = new Set(input.sql.map((q) => RENAME_TABLE.exec(q) ?? RENAME_TABLE_MYSQL.exec(q)).filter((m) => m !== null).map((m) => unquote(m[1])));
  const renamedColumns = new Set(input.sql.map(renamedColumn).filter((r) => r !== undefined).map((r) => r.from));
  for (const c of input.changes) {
    if ((c.kind === 'table-removed' && renamedTables.has(c.table)) || (c.kind === 'column-removed' && renamedColumns.has(c.name ?? ''))) continue;
    if (c.kind === 'table-removed') {
      add('drop-table', 'error', `Drops table ${c.table} and every row in it. Make sure nothing reads it any more and its data is kept elsewhere.`);
    } else if (c.kind === 'column-removed') {
      add('drop-column', 'error', `Drops column ${c.table}.${c.name} and its data; the app still running against the old schema fails on it. Stop using it in a release first, then drop it.`);
    } else if (c.kind === 'column-changed' && typeOf(input.before, c) !== typeOf(input.after, c)) {
      add('change-column-type', 'warning', `Changes the type of ${c.table}.${c.name} (${typeOf(input.before, c)} → ${typeOf(input.after, c)}): existing values may not convert, and the table may be rewritten under a lock.`);
    } else if (c.kind === 'column-added' && existed(c.table)) {
      const column = input.after?.tables.find((t) => t.name === c.table)?.columns.find((col) => col.name === c.name);
      if (column && !column.nullable && column.default === null) {
        add('add-not-null-column', 'error', `Adds ${c.table}.${c.name} as NOT NULL without a default: it fails on a table that has rows. Give it a default, or add it nullable, fill it, then make it NOT NULL.`);
      }
    }
  }
  for (const sql of input.sql) {
    const renamed = RENAME_TABLE.exec(sql) ?? RENAME_TABLE_MYSQL.exec(sql);
    if (renamed && !KNEX_TEMP.test(unquote(renamed[1]))) {
      add('rename-table', 'error', `Renames table ${unquote(renamed[1])} to ${unquote(renamed[2])}: the app still running against the old schema fails on it. Add the new table (or a view) first and move the app over.`);
    }
    const column = renamedColumn(sql);
    if (column) {
      add('rename-column', 'error', `Renames column ${column.from} to ${column.to}: the app still running against the old schema fails on it. Add the new column, copy the data, and drop the old one in a later release.`);
    }
    const index = /^\s*create\s+(?:unique\s+)?index\s+(concurrently\s+)?.*?\bon\s+(?:only\s+)?(\S+)/i.exec(sql);
    if (input.concurrentIndexes && index && !index[1] && existed(unquote(index[2]))) {
      add('index-not-concurrently', 'warning', `Creates an index on ${unquote(index[2])} without CONCURRENTLY: PostgreSQL blocks writes to the table while it builds. Use CREATE INDEX CONCURRENTLY in a migration with transaction = false.`);
    }
    // SQLite refuses such a column outright, so up() fails and only its SQL tells.
    const notNull = input.after ? null : /^\s*alter\s+table\s+(\S+)\s+add\s+(?:column\s+)?(\S+)\s+[^,]*?\bnot\s+null\b(?![^,]*\bdefault\b)/i.exec(sql);
    if (notNull && !/\bdefault\b/i.test(sql)) {
      add('add-not-null-column', 'error', `Adds ${unquote(notNull[1])}.${unquote(notNull[2])} as NOT NULL without a default: it fails on a table that has rows. Give it a default, or add it nullable, fill it, then make it NOT NULL.`);
    }
    if (input.concurrentIndexes && /\bconcurrently\b/i.test(sql) && input.transactional) {
      add('concurrently-in-transaction', 'error', 'Uses CONCURRENTLY inside a transaction, which PostgreSQL refuses. Set transaction = false on this migration.');
    }
  }
  if (!input.hasDown) add('no-down', 'warning', 'Has no down(): it cannot be rolled back or checked for reversibility. Add a down(knex) that undoes up().');
  // One finding per rule and subject: knex may send a statement twice (a rebuild, a retry).
  return found.filter((f, i) => found.findIndex((g) => g.code === f.code && g.message === f.message) === i);
}

/** A column rename in one statement; MySQL's `change` that keeps the name is a type change, not a rename. */
function renamedColumn(sql: string): { from: string; to: string } | undefined {
  const m = RENAME_COLUMN.exec(sql);
  if (!m) return undefined;
  const [from, to] = [unquote(m[1] ?? m[3]), unquote(m[2] ?? m[4])];
  return from === to ? undefined : { from, to };
}

function typeOf(model: SchemaModel | undefined, c: SchemaChange): string | undefined {
  return model?.tables.find((t) => t.name === c.table)?.columns.find((col) => col.name === c.name)?.type;
}

/** Severity from the `lint` setting (undefined: silenced), else the rule's own. */
export function withSettings(findings: readonly LintFinding[], settings: Readonly<Record<string, 'off' | 'warning' | 'error'>>): LintFinding[] {
  return findings.flatMap((f) => {
    const set = settings[f.code];
    return set === 'off' ? [] : [set ? { ...f, severity: set } : f];
  });
}

/** Codes silenced by `// migrations-disable-next-line <code> [<code>…]` on the line before `line` (1-based). */
export function disabledAt(text: string, line: number): Set<string> {
  const previous = text.split(/\r?\n/)[line - 2] ?? '';
  const m = /\/\/\s*migrations-disable-next-line\b(.*)$/.exec(previous);
  return new Set(m ? m[1].split(/[\s,]+/).filter(Boolean) : []);
}
