// A small app whose start-up migrates what it needs before it serves: its database (the files in
// versions/), what a plugin brings (a search index kept in a file, declared in
// migrations.config.js) and a plugin's declared tables (an audit log, registerPluginSchema),
// through the orchestrator, stopping at the first failure.
// Run: node server.js   (DATABASE_URL for PostgreSQL, else SQLite)
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const knexFactory = require('knex');
const { createMigrator, createOrchestrator, defineSchema, increments, string } = require('migration-manager');

const config = require('./migrations.config');

const INDEX = process.env.SEARCH_INDEX || path.join(__dirname, 'search-index.json');

// A plugin that keeps an audit log in the app's database declares its tables instead of writing
// migrations: each start-up brings them to this (a new column is added; a drop would be refused).
const AUDIT_SCHEMA = defineSchema({
  tables: {
    audit_log: { columns: { id: increments(), event: string(100).notNullable() } },
  },
});

async function start() {
  // The app's own knex, on the database the config declares; the migrator reads the config too
  // (its search-index service), and the orchestrator runs the database first.
  const knex = knexFactory(config.database);
  const migrator = createMigrator({ workspace: __dirname, knex });
  // After the database (100), before the other plugins (0).
  migrator.registerPluginSchema('audit-log', AUDIT_SCHEMA, { priority: 50 });
  const report = await createOrchestrator(migrator).runAll();
  await migrator.close();
  for (const s of report.services) console.log(`migrations: ${s.service}: ${s.ok ? 'ok' : 'error' in s ? `FAILED: ${s.error}` : 'not run'} (${s.steps.length} step(s))`);
  if (!report.ok) {
    await knex.destroy();
    process.exitCode = 1;
    return;
  }
  await knex('audit_log').insert({ event: 'started' });
  const server = http.createServer(async (req, res) => {
    const notes = await knex('notes').select('id', 'text').orderBy('id');
    const audit = (await knex('audit_log').select('event').orderBy('id')).map((r) => r.event);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ notes, index: JSON.parse(fs.readFileSync(INDEX, 'utf8')), audit }));
  });
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => server.close(() => knex.destroy()));
}

start().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
