'use strict';
// The least any knex + node:sqlite runner can do to apply the one pending migration of a large
// workspace: start node, load knex, open the database (whose schema SQLite parses on the first
// statement, as for every tool), and run that migration's up() with its history row in one
// transaction, as knex's migrate:latest records it. No discovery of the other files, no checks,
// no lock, no schema snapshot. `down` undoes it between timed runs (not timed).
// Run by bench/run.mjs: node floor-apply1.cjs <root> <migration file> <db> <client bundle> up|down
const path = require('node:path');
const [root, file, db, clientBundle, mode] = process.argv.slice(2);
const { nodeSqliteClient } = require(clientBundle);
const pool = { min: 1, max: 1, afterCreate: (conn, done) => done(conn.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL'), conn) };
const knex = require(path.join(root, 'node_modules', 'knex'))({ client: nodeSqliteClient(), useNullAsDefault: true, connection: { filename: db, readOnly: false }, pool });
const migration = require(file);
const name = path.basename(file);
(async () => {
  await knex.transaction(async (trx) => {
    if (mode === 'down') {
      await migration.down(trx);
      await trx('knex_migrations').where({ name }).delete();
    } else {
      await migration.up(trx);
      await trx('knex_migrations').insert({ name, batch: 0, migration_time: new Date() });
    }
  });
  await knex.destroy();
})();
