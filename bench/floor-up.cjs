'use strict';
// The least any knex + sqlite3 runner can do for `up`: start node, load knex and the N
// migration modules, run each up() in one transaction (as knex's CLI does), record one row each.
// No discovery, no checks, no lock. Run by bench/run.mjs: node floor-up.cjs <root> <migrations dir> <db>
const path = require('node:path');
const fs = require('node:fs');
const [root, dir, file] = process.argv.slice(2);
const knex = require(path.join(root, 'node_modules', 'knex'))({ client: 'sqlite3', useNullAsDefault: true, connection: { filename: file } });
(async () => {
  await knex.schema.createTable('done', (t) => t.string('name'));
  const names = fs.readdirSync(dir).sort();
  const modules = names.map((n) => require(path.join(dir, n)));
  await knex.transaction(async (trx) => {
    for (let i = 0; i < modules.length; i++) {
      await modules[i].up(trx);
      await trx('done').insert({ name: names[i] });
    }
  });
  await knex.destroy();
})();
