'use strict';
// The least any knex + node:sqlite runner can do for `up`: start node, load knex and the N
// migration modules, run each up() and record one row each, either all in one transaction (as
// knex's CLI does) or with a transaction per migration (as we commit). No discovery, no checks,
// no lock. `down-each` rolls a database the `each` mode made back the same way, newest first.
// Run by bench/run.mjs: node floor-up.cjs <root> <migrations dir> <db> <client bundle> one|each|down-each
const path = require('node:path');
const fs = require('node:fs');
const [root, dir, file, clientBundle, mode] = process.argv.slice(2);
const { nodeSqliteClient } = require(clientBundle);
const pool = { min: 1, max: 1, afterCreate: (conn, done) => done(conn.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL'), conn) };
const knex = require(path.join(root, 'node_modules', 'knex'))({ client: nodeSqliteClient(), useNullAsDefault: true, connection: { filename: file, readOnly: false }, pool });
(async () => {
  if (mode !== 'down-each') await knex.schema.createTable('done', (t) => t.string('name'));
  const names = fs.readdirSync(dir).sort();
  const modules = names.map((n) => require(path.join(dir, n)));
  const apply = async (trx, i) => {
    await modules[i].up(trx);
    await trx('done').insert({ name: names[i] });
  };
  if (mode === 'down-each') {
    for (let i = modules.length - 1; i >= 0; i--) {
      await knex.transaction(async (trx) => {
        await modules[i].down(trx);
        await trx('done').insert({ name: `down ${names[i]}` });
      });
    }
  } else if (mode === 'each') {
    for (let i = 0; i < modules.length; i++) await knex.transaction((trx) => apply(trx, i));
  } else {
    await knex.transaction(async (trx) => {
      for (let i = 0; i < modules.length; i++) await apply(trx, i);
    });
  }
  await knex.destroy();
})();
