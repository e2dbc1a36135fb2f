'use strict';
// The least a no-op status can do: list and read the migration files (a status must notice an
// edited file) and read the history with sqlite3. No knex, no checks, no output.
// Run by bench/run.mjs: node floor-noop.cjs <root> <versions dir> <db>
const path = require('node:path');
const fs = require('node:fs');
const [root, dir, file] = process.argv.slice(2);
for (const name of fs.readdirSync(dir)) fs.readFileSync(path.join(dir, name));
const sqlite3 = require(path.join(root, 'node_modules', 'sqlite3'));
const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY);
db.all('select * from migration_history order by id', (err) => {
  if (err) throw err;
  db.close();
});
