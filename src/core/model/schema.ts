/**
 * A database schema in one normalised shape, whatever the dialect: what verification compares
 * (before and after a migration, the live database and the shadow) and what the snapshot dumps.
 */
export interface SchemaModel {
  /** Sorted by name; the migration tool's own tables (migration_history, migration_lock) left out. */
  readonly tables: readonly TableModel[];
}

export interface TableModel {
  readonly name: string;
  /** In the table's own order. */
  readonly columns: readonly ColumnModel[];
  /** Column names of the primary key, in key order; empty when there is none. */
  readonly primaryKey: readonly string[];
  /** Sorted by name; the primary key's own index left out. */
  readonly indexes: readonly IndexModel[];
  /** Sorted by their columns. */
  readonly foreignKeys: readonly ForeignKeyModel[];
}

export interface ColumnModel {
  readonly name: string;
  /** Lower case, as the database reports it, normalised so the same declaration compares equal (e.g. `varchar(255)`, `integer`). */
  readonly type: string;
  readonly nullable: boolean;
  /** The default as SQL text, or null when there is none. */
  readonly default: string | null;
}

export interface IndexModel {
  readonly name: string;
  readonly unique: boolean;
  readonly columns: readonly string[];
}

export interface ForeignKeyModel {
  readonly columns: readonly string[];
  readonly table: string;
  readonly references: readonly string[];
  /** Lower case (`cascade`, `set null`, `no action`…). */
  readonly onDelete: string;
  readonly onUpdate: string;
}

/** One difference between two schemas, as data and as a sentence. */
export interface SchemaChange {
  readonly kind: 'table-added' | 'table-removed' | 'column-added' | 'column-removed' | 'column-changed' | 'index-added' | 'index-removed' | 'index-changed' | 'foreign-key-added' | 'foreign-key-removed' | 'primary-key-changed';
  readonly table: string;
  /** The column, index or foreign key (its columns joined with ","), when the change is below a table. */
  readonly name?: string;
  /** For `column-changed`: what differs, before → after (e.g. `type integer → bigint`, `nullable → not null`). */
  readonly detail?: string;
  /** `column chat_users.is_spammer`, `index users_email_unique on users (email)`. */
  readonly text: string;
}

/** A table or column name as SQL wrote it (`"public"."users"`, `` `users` ``, `users(`): the bare name. */
export function bareName(raw: string): string {
  return raw.replace(/[(;,].*$/, '').split('.').pop()!.replace(/^[`"[]|[`"\]]$/g, '');
}
