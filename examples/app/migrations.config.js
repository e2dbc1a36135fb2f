// The app's project config: the one place its database and its plugin's migrations are declared,
// read alike by the app's start-up (createMigrator), the `migrations` CLI and the editor's tree.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const INDEX = process.env.SEARCH_INDEX || path.join(__dirname, 'search-index.json');

module.exports = {
  database: process.env.DATABASE_URL
    ? { client: 'pg', connection: process.env.DATABASE_URL }
    : { client: 'better-sqlite3', connection: { filename: process.env.SQLITE_FILE || path.join(__dirname, 'app.sqlite3') }, useNullAsDefault: true },
  services: [
    {
      // A plugin's migrations: no database change, so outside a transaction.
      name: 'search-index',
      migrations: [
        {
          version: 1,
          description: 'create the search index',
          transaction: false,
          up: async () => fs.writeFileSync(INDEX, JSON.stringify({ notes: [] })),
          down: async () => fs.rmSync(INDEX, { force: true }),
        },
      ],
    },
  ],
};
