// `migrations docs` as text: the pure renderer (the replay that feeds it is tested with the command).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { erDiagram, renderMigrationDocs, type DocsInput } from '../src/core/model/migrationDocs';
import type { SchemaModel } from '../src/core/model/schema';

const schema: SchemaModel = {
  tables: [
    {
      name: 'posts',
      columns: [
        { name: 'id', type: 'integer', nullable: false, default: null },
        { name: 'user_id', type: 'integer', nullable: false, default: null },
        { name: 'editor_id', type: 'integer', nullable: true, default: null },
        { name: 'price', type: 'decimal(8, 2)', nullable: true, default: null },
      ],
      primaryKey: ['id'],
      indexes: [],
      foreignKeys: [
        { columns: ['user_id'], table: 'users', references: ['id'], onDelete: 'cascade', onUpdate: 'no action' },
        { columns: ['editor_id'], table: 'users', references: ['id'], onDelete: 'set null', onUpdate: 'no action' },
      ],
    },
    {
      name: 'users',
      columns: [
        { name: 'id', type: 'integer', nullable: false, default: null },
        { name: 'email', type: 'varchar(255)', nullable: false, default: null },
        { name: 'created at', type: 'timestamp with time zone', nullable: true, default: 'CURRENT_TIMESTAMP' },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'users_email_unique', unique: true, columns: ['email'] }],
      foreignKeys: [],
    },
  ],
};

const input: DocsInput = {
  sources: [
    {
      id: 'app',
      folder: 'versions',
      schema,
      migrations: [
        {
          version: 2,
          description: 'posts | drafts',
          statuses: [{ database: 'SQLite dev', status: 'pending' }],
          changes: [{ kind: 'table-added', table: 'posts', text: 'table posts' }],
        },
        {
          version: 1,
          description: 'users',
          statuses: [{ database: 'SQLite dev', status: 'applied', appliedAt: '2026-12-01T10:00:00.000Z', appliedBy: 'ana@laptop' }],
          changes: [{ kind: 'table-added', table: 'users', text: 'table users' }],
        },
      ],
    },
    { id: 'plugin:chat', migrations: [{ version: 1, description: 'rooms', statuses: [], changes: undefined }], schemaUnknown: 'Unknown: migration 1 failed on the shadow.' },
  ],
};

test('docs: per source, migrations in version order with status, applied time and (when given) who, and their schema effect', () => {
  const text = renderMigrationDocs(input);
  const rows = text.split('\n').filter((l) => l.startsWith('| 1 ') || l.startsWith('| 2 '));
  assert.deepEqual(rows.slice(0, 2), [
    '| 1 | users | applied | 2026-12-01T10:00:00.000Z by ana@laptop | added table users |',
    // A pipe in a description would end the cell: escaped.
    '| 2 | posts \\| drafts | pending |  | added table posts |',
  ]);
  assert.ok(text.indexOf('## Source `app`') < text.indexOf('## Source `plugin:chat`'));
  assert.match(text, /\| 1 \| rooms \| unknown \|  \| not replayed \|/);
  assert.match(text, /Unknown: migration 1 failed on the shadow\./);
});

test('docs: the same input gives the same bytes (nothing of the moment is written)', () => {
  assert.equal(renderMigrationDocs(input), renderMigrationDocs(structuredClone(input)));
});

test('docs: several databases name each status', () => {
  const text = renderMigrationDocs({
    sources: [{ id: 'app', schema: { tables: [] }, migrations: [{ version: 1, description: 'x', changes: [], statuses: [{ database: 'dev', status: 'applied', appliedAt: 't1' }, { database: 'prod', status: 'pending' }] }] }],
  });
  assert.match(text, /\| 1 \| x \| dev: applied; prod: pending \| dev: t1 \| no schema change \|/);
  assert.match(text, /No tables\./);
});

test('the ER diagram: every table and column, keys marked, foreign keys as relationships (nullable: zero or one)', () => {
  assert.deepEqual(erDiagram(schema), [
    'erDiagram',
    '  posts {',
    '    integer id PK "not null"',
    '    integer user_id FK "not null"',
    '    integer editor_id FK',
    // Mermaid reads neither a comma nor a space in a type.
    '    decimal(8-2) price',
    '  }',
    '  users {',
    '    integer id PK "not null"',
    '    varchar(255) email UK "not null"',
    '    timestamp_with_time_zone created_at',
    '  }',
    '  posts }o--|| users : "user_id"',
    '  posts }o--o| users : "editor_id"',
  ]);
});
