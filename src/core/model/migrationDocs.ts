import type { SchemaChange, SchemaModel, TableModel } from './schema';
import { describeChanges } from './schemaDiff';

/**
 * `migrations docs`: the history of a workspace's migrations as Markdown, for a repository's docs
 * folder or the editor's preview. Byte-identical for the same input (no timestamps of its own,
 * everything sorted), so its diff in a pull request shows what changed.
 */
export interface DocsInput {
  readonly sources: readonly DocsSource[];
}

export interface DocsSource {
  readonly id: string;
  /** Where its files are, relative to the workspace (`versions`, `plugins/chat/versions`). */
  readonly folder?: string;
  readonly migrations: readonly DocsMigration[];
  /** The schema its migrations produce, replayed on a shadow; undefined when they could not be replayed. */
  readonly schema?: SchemaModel;
  /** Why there is no schema (a migration failed on the shadow, the workspace is untrusted…). */
  readonly schemaUnknown?: string;
}

export interface DocsMigration {
  readonly version: number;
  readonly description: string;
  /** Status per database it was looked up in, e.g. `{ database: 'SQLite .migrations/dev.sqlite3', status: 'applied' }`. */
  readonly statuses: readonly { readonly database: string; readonly status: string; readonly appliedAt?: string; readonly appliedBy?: string }[];
  /** What replaying it on the shadow changed; undefined when it was not replayed (a failure before it). */
  readonly changes?: readonly SchemaChange[];
}

/** The Markdown text for `input`. */
export function renderMigrationDocs(input: DocsInput): string {
  const out = ['# Migrations', '', 'Written by `migrations docs`: each source\'s migrations in version order, where they are applied, and what each one does to the schema (replayed on a shadow database).'];
  if (input.sources.length === 0) out.push('', 'No migration sources were found.');
  for (const source of input.sources) out.push('', ...sourceSection(source));
  return `${out.join('\n')}\n`;
}

function sourceSection(source: DocsSource): string[] {
  const lines = [`## Source \`${source.id}\``, ''];
  if (source.folder !== undefined) lines.push(`Folder: \`${source.folder}\``, '');
  const migrations = [...source.migrations].sort((a, b) => a.version - b.version);
  if (migrations.length === 0) lines.push('No migrations.');
  else {
    lines.push('| Version | Description | Status | Applied | Schema effect |', '| ---: | --- | --- | --- | --- |');
    for (const m of migrations) lines.push(`| ${m.version} | ${cell(m.description)} | ${cell(statusText(m))} | ${cell(appliedText(m))} | ${cell(effectText(m))} |`);
  }
  lines.push('', '### Resulting schema', '');
  if (source.schema === undefined) lines.push(source.schemaUnknown ?? 'Unknown: the migrations were not replayed.');
  else if (source.schema.tables.length === 0) lines.push('No tables.');
  else lines.push('```mermaid', ...erDiagram(source.schema), '```');
  return lines;
}

function statusText(m: DocsMigration): string {
  if (m.statuses.length === 0) return 'unknown';
  // One database: its status alone; several: each named.
  return m.statuses.length === 1 ? m.statuses[0].status : m.statuses.map((s) => `${s.database}: ${s.status}`).join('; ');
}

function appliedText(m: DocsMigration): string {
  const applied = m.statuses.filter((s) => s.appliedAt !== undefined);
  const one = (s: (typeof applied)[number]) => [s.appliedAt, s.appliedBy && `by ${s.appliedBy}`].filter(Boolean).join(' ');
  if (applied.length === 0) return '';
  return m.statuses.length === 1 ? one(applied[0]) : applied.map((s) => `${s.database}: ${one(s)}`).join('; ');
}

function effectText(m: DocsMigration): string {
  if (m.changes === undefined) return 'not replayed';
  return m.changes.length === 0 ? 'no schema change' : describeChanges(m.changes).join('; ');
}

/** A Markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** A Mermaid ER diagram: tables with their columns and keys, foreign keys as relationships. */
export function erDiagram(schema: SchemaModel): string[] {
  const tables = [...schema.tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = ['erDiagram'];
  for (const table of tables) {
    lines.push(`  ${entity(table.name)} {`);
    for (const column of table.columns) {
      const keys = keysOf(table, column.name);
      lines.push(`    ${word(column.type)} ${word(column.name)}${keys ? ` ${keys}` : ''}${column.nullable ? '' : ' "not null"'}`);
    }
    lines.push('  }');
  }
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      // Many rows of the table point at one row of the referenced table; a nullable key at zero or one.
      const nullable = fk.columns.some((c) => table.columns.find((col) => col.name === c)?.nullable !== false);
      lines.push(`  ${entity(table.name)} }o--${nullable ? 'o|' : '||'} ${entity(fk.table)} : "${fk.columns.join(', ').replace(/"/g, "'")}"`);
    }
  }
  return lines;
}

function keysOf(table: TableModel, column: string): string {
  const keys: string[] = [];
  if (table.primaryKey.includes(column)) keys.push('PK');
  if (table.foreignKeys.some((f) => f.columns.includes(column))) keys.push('FK');
  if (table.indexes.some((i) => i.unique && i.columns.length === 1 && i.columns[0] === column)) keys.push('UK');
  return keys.join(', ');
}

/** Mermaid takes letters, digits, `_`, `-`, parentheses and brackets in a type or a name. */
function word(text: string): string {
  const w = text.replace(/,\s*/g, '-').replace(/[^A-Za-z0-9_()[\]-]+/g, '_');
  return /^[A-Za-z]/.test(w) ? w : `_${w}`;
}

/** An entity name Mermaid reads as one: plain names as they are, others quoted. */
function entity(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? name : `"${name.replace(/"/g, "'")}"`;
}
