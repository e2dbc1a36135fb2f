'use strict';
// The least a no-op status can do: list and read the migration files (a status must notice an
// edited file) and read the history with node:sqlite. No knex, no checks, no output.
// Run by bench/run.mjs: node floor-noop.cjs <versions dir> <db>
const path = require('node:path');
const fs = require('node:fs');
const [dir, file] = process.argv.slice(2);
for (const name of fs.readdirSync(dir)) fs.readFileSync(path.join(dir, name));
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(file, { readOnly: true });
db.prepare('select * from migration_history order by id').all();
db.close();
