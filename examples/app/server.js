// A small app whose start-up migrates what it needs before it serves: its database (the files in
// versions/) and what a plugin brings (a search index kept in a file), through the orchestrator,
// stopping at the first failure. Run: node server.js   (DATABASE_URL for PostgreSQL, else SQLite)
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const knexFactory = require('knex');
const { createMigrator, createOrchestrator } = require('migration-manager');

const INDEX = process.env.SEARCH_INDEX || path.join(__dirname, 'search-index.json');

/** The plugin's migrations: no database change, so outside a transaction. */
const searchIndex = {
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
};

async function start() {
  const knex = process.env.DATABASE_URL
    ? knexFactory({ client: 'pg', connection: process.env.DATABASE_URL })
    : knexFactory({ client: 'better-sqlite3', connection: { filename: process.env.SQLITE_FILE || path.join(__dirname, 'app.sqlite3') }, useNullAsDefault: true });
  const migrator = createMigrator({ workspace: __dirname, knex, settings: {} });
  const report = await createOrchestrator(migrator, { services: [searchIndex] }).runAll();
  await migrator.close();
  for (const s of report.services) console.log(`migrations: ${s.service}: ${s.ok ? 'ok' : 'error' in s ? `FAILED: ${s.error}` : 'not run'} (${s.steps.length} step(s))`);
  if (!report.ok) {
    await knex.destroy();
    process.exitCode = 1;
    return;
  }
  const server = http.createServer(async (req, res) => {
    const notes = await knex('notes').select('id', 'text').orderBy('id');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ notes, index: JSON.parse(fs.readFileSync(INDEX, 'utf8')) }));
  });
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => server.close(() => knex.destroy()));
}

start().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
