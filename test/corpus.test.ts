import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { InvalidMigrationsError, settingsFrom, type Problem, type ProblemCode } from '../src/core';
import { CLI, engine, migrationFiles, tempWorkspace, tsMigration, userTables, DEFAULT_DB } from './helpers';

// A corpus of broken (and oddly made but valid) migration files. Each kind is written as
// versions/migration_003_… next to two good migrations and must be reported once, clearly,
// by discovery and by validate, without crashing, hanging or printing, while the good ones
// still apply as DESIGN says.

const LOAD_TIMEOUT_MS = 500;
process.env.MIGRATIONS_LOAD_TIMEOUT_MS = String(LOAD_TIMEOUT_MS);

type Expect =
  /** A migration file with an error static checks find: discovery and validate report it. */
  | { readonly stage: 'static'; readonly code: ProblemCode; readonly line: number | string; readonly says: readonly RegExp[] }
  /** Statically fine; only loading it (validate, up) finds the error. */
  | { readonly stage: 'load'; readonly code: ProblemCode; readonly line: number | string; readonly says: readonly RegExp[] }
  /** Not a migration: one bad-file-name warning on the source, and it is ignored. */
  | { readonly stage: 'name'; readonly says: readonly RegExp[] }
  /** A valid migration after all: no problem, it applies with the others (creating t3). */
  | { readonly stage: 'fine' }
  /** Not a migration and rightly silent (a type declaration). */
  | { readonly stage: 'ignored' };

interface Kind {
  readonly title: string;
  /** File name in versions/. */
  readonly name: string;
  /** Its content, or a function that makes it (links, folders, pipes, packages). */
  readonly content: string | Buffer | ((file: string, ws: string) => void);
  readonly expect: Expect | ((file: string) => Expect);
  /** Checks of its own, after the common ones. */
  readonly also?: (ws: string, file: string, output: Output) => void | Promise<void>;
}

interface Output {
  /** What reached stdout / stderr while the case ran (stdout: during validate, which is synchronous). */
  stdout: string;
  stderr: string;
}

const HEADER = "import type { Knex } from 'knex';\n";
/** A statically clean migration class for version 3 (with down, so no missing-down warning). */
const CLASS3 = `export class M3 {
  readonly version = 3;
  readonly description = 'three';
  async up(knex: Knex) { await knex.schema.createTable('t3', (t) => { t.increments('id'); }); }
  async down(knex: Knex) { await knex.schema.dropTable('t3'); }
}
`;
const GET3 = 'export function getMigration() { return M3; }\n';
const GOOD3 = tsMigration(3, 't3');
const CJS3 = `class M3 {
  constructor() { this.version = 3; this.description = 'three'; }
  async up(knex) { await knex.schema.createTable('t3', (t) => { t.increments('id'); }); }
  async down(knex) { await knex.schema.dropTable('t3'); }
}
`;
/** A statically clean shape that loading must reject: everything but what `props` replaces. */
const shape = (props: string, factory = 'return M3;') => `${HEADER}export class M3 {
${props}
  async down(knex: Knex) { await knex.schema.dropTable('t3'); }
}
export function getMigration(): unknown {
  ${factory}
}
`;
const BASE_PROPS = `  readonly version = 3;
  readonly description = 'three';
  async up(knex: Knex) { await knex.schema.createTable('t3', (t) => { t.increments('id'); }); }`;

const TEN_THOUSAND = `${HEADER}const ROWS = [
${Array.from({ length: 9_990 }, (_, i) => `  'row ${i}',`).join('\n')}
];
export class M3 {
  readonly version = 3;
  readonly description = 'ten thousand lines';
  async up(knex: Knex) { await knex.schema.createTable('t3', (t) => { t.increments('id'); t.string('v'); }); await knex('t3').insert({ v: ROWS[ROWS.length - 1] }); }
  async down(knex: Knex) { await knex.schema.dropTable('t3'); }
}
${GET3}`;

const symlinkLoop = (file: string) => fs.symlinkSync(file, file);

const KINDS: Kind[] = [
  // --- syntax ------------------------------------------------------------------------------
  {
    title: 'syntax error: a missing expression',
    name: 'migration_003_missing_expression.ts',
    content: `${HEADER}const x = ;\n${CLASS3}${GET3}`,
    expect: { stage: 'static', code: 'syntax-error', line: 'const x = ;', says: [/^Syntax error/, /Fix the code at this line/] },
  },
  {
    title: 'syntax error: an unclosed brace at the end of the file',
    name: 'migration_003_unclosed.ts',
    content: `${HEADER}${CLASS3}export function getMigration() {\n  return M3;\n`,
    expect: { stage: 'static', code: 'syntax-error', line: 10, says: [/`\}`/, /Fix the code at this line/] },
  },
  {
    title: 'syntax error: an unterminated string',
    name: 'migration_003_unterminated.ts',
    content: `${HEADER}const table = 'users;\n${CLASS3}${GET3}`,
    expect: { stage: 'static', code: 'syntax-error', line: "const table = 'users;", says: [/Unterminated string/, /Fix the code/] },
  },
  {
    title: 'syntax error: merge conflict markers left in',
    name: 'migration_003_conflict.ts',
    content: `${HEADER}<<<<<<< HEAD\nconst table = 'a';\n=======\nconst table = 'b';\n>>>>>>> feature\n${CLASS3}${GET3}`,
    expect: { stage: 'static', code: 'syntax-error', line: '<<<<<<< HEAD', says: [/diff marker/, /Fix the code/] },
  },
  {
    title: 'syntax error: TypeScript annotations in a .js file',
    name: 'migration_003_types_in_js.js',
    content: `function tableName(prefix: string) { return prefix + '3'; }\n${CJS3}exports.getMigration = () => M3;\n`,
    expect: { stage: 'static', code: 'syntax-error', line: 1, says: [/Fix the code at this line/] },
  },
  {
    title: 'syntax error in a .cjs file',
    name: 'migration_003_broken.cjs',
    content: `${CJS3}const = 5;\nexports.getMigration = () => M3;\n`,
    expect: { stage: 'static', code: 'syntax-error', line: 'const = 5', says: [/Fix the code at this line/] },
  },
  {
    title: 'top-level await in a CommonJS .js file',
    name: 'migration_003_await_cjs.js',
    content: `const fs = require('fs');\nawait fs.promises.readFile(__filename);\n${CJS3}exports.getMigration = () => M3;\n`,
    expect: { stage: 'static', code: 'syntax-error', line: 'await fs', says: [/await/, /move the awaited code into up\(knex\)/] },
  },
  {
    title: 'prose instead of code',
    name: 'migration_003_prose.ts',
    content: 'TODO: write this migration when the schema is decided.\n',
    expect: { stage: 'static', code: 'syntax-error', line: 1, says: [/Fix the code at this line/] },
  },
  {
    title: 'a syntax error in a file with classic Mac (CR only) line endings is at its line',
    name: 'migration_003_cr_syntax.ts',
    content: `// one\r// two\rconst = 1;\r${GOOD3.replace(/\n/g, '\r')}`,
    expect: { stage: 'static', code: 'syntax-error', line: 3, says: [/Fix the code at this line/] },
  },

  // --- exports -----------------------------------------------------------------------------
  {
    title: 'no getMigration export at all',
    name: 'migration_003_no_factory.ts',
    content: `${HEADER}${CLASS3}`,
    expect: { stage: 'static', code: 'missing-get-migration', line: 'export class M3', says: [/Add "export function getMigration\(\)/] },
  },
  {
    title: 'misspelled export: getMigrations',
    name: 'migration_003_plural.ts',
    content: `${HEADER}${CLASS3}export function getMigrations() { return M3; }\n`,
    expect: { stage: 'static', code: 'missing-get-migration', line: 'export function getMigrations', says: [/"getMigrations"/, /rename it to "getMigration"/] },
  },
  {
    title: 'misspelled export: GetMigration',
    name: 'migration_003_pascal.ts',
    content: `${HEADER}${CLASS3}export function GetMigration() { return M3; }\n`,
    expect: { stage: 'static', code: 'missing-get-migration', line: 'export function GetMigration', says: [/"GetMigration"/, /rename it to "getMigration"/] },
  },
  {
    title: 'misspelled CommonJS export: get_migration',
    name: 'migration_003_snake.js',
    content: `${CJS3}exports.get_migration = () => M3;\n`,
    expect: { stage: 'static', code: 'missing-get-migration', line: 'exports.get_migration', says: [/"get_migration"/, /rename it to "getMigration"/] },
  },
  {
    title: 'a default export only',
    name: 'migration_003_default_only.ts',
    content: `${HEADER}${CLASS3.replace('export class M3', 'export default class M3')}`,
    expect: { stage: 'static', code: 'missing-get-migration', line: 'export default class', says: [/default export/, /add "export function getMigration\(\)/] },
  },
  {
    title: 'an empty file',
    name: 'migration_003_empty.ts',
    content: '',
    expect: { stage: 'static', code: 'missing-get-migration', line: 1, says: [/Add "export function getMigration\(\)/] },
  },
  {
    title: 'getMigration exported but not a function',
    name: 'migration_003_not_function.ts',
    content: `${HEADER}${CLASS3}export const getMigration = 42;\n`,
    expect: { stage: 'load', code: 'missing-get-migration', line: 'export const getMigration', says: [/the number 42, not a function/, /Export it as a function/] },
  },
  {
    title: 'module.exports = 5',
    name: 'migration_003_exports_number.js',
    content: `${CJS3}module.exports = 5;\n`,
    expect: { stage: 'load', code: 'missing-get-migration', line: 'module.exports = 5', says: [/exports the number 5/, /Add "export function getMigration\(\)/] },
  },

  // --- what getMigration() returns -----------------------------------------------------------
  {
    title: 'getMigration() returns undefined',
    name: 'migration_003_returns_undefined.ts',
    content: shape(BASE_PROPS, 'return undefined;'),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/returned undefined/, /return the migration class/] },
  },
  {
    title: 'getMigration() returns a number',
    name: 'migration_003_returns_number.ts',
    content: shape(BASE_PROPS, 'return 42;'),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/returned the number 42/, /return the migration class/] },
  },
  {
    title: 'getMigration() returns a class without up',
    name: 'migration_003_no_up.ts',
    content: shape("  readonly version = 3;\n  readonly description = 'three';"),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/without up/, /add it to the class/] },
  },
  {
    title: 'getMigration() returns a factory function, not a class',
    name: 'migration_003_factory.js',
    content: `${CJS3}exports.getMigration = () => () => new M3();\n`,
    expect: { stage: 'load', code: 'bad-shape', line: 'exports.getMigration', says: [/function that is not a class/, /return the migration class itself/] },
  },
  {
    title: 'an async getMigration()',
    name: 'migration_003_async.ts',
    content: `${HEADER}${CLASS3}export async function getMigration() { return M3; }\n`,
    expect: { stage: 'load', code: 'bad-shape', line: 'export async function getMigration', says: [/Promise/, /make getMigration synchronous/] },
  },
  {
    title: 'an async getMigration() that rejects (no unhandled rejection afterwards)',
    name: 'migration_003_async_rejects.ts',
    content: `${HEADER}${CLASS3}export async function getMigration(): Promise<typeof M3> { throw new Error('async factory failed'); }\n`,
    expect: { stage: 'load', code: 'bad-shape', line: 'export async function getMigration', says: [/Promise/, /make getMigration synchronous/] },
  },
  {
    title: 'a literal version that differs from the file name',
    name: 'migration_003_mismatch.ts',
    content: tsMigration(4, 't3'),
    expect: { stage: 'static', code: 'version-mismatch', line: 'readonly version = 4', says: [/version 4/, /says 3/, /Make them equal/] },
  },
  {
    title: 'a computed version that differs from the file name',
    name: 'migration_003_computed_mismatch.ts',
    content: shape(BASE_PROPS.replace('version = 3', 'version = 2 + 2')),
    expect: { stage: 'load', code: 'version-mismatch', line: 'export function getMigration', says: [/version is 4/, /says 3/, /Make them equal/] },
  },
  {
    title: 'the version as a string "3"',
    name: 'migration_003_string_version.ts',
    content: shape(BASE_PROPS.replace('version = 3', "version = '3'")),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/the string "3"/, /write version = 3/] },
  },
  {
    title: 'no description',
    name: 'migration_003_no_description.ts',
    content: shape(BASE_PROPS.replace("  readonly description = 'three';\n", '')),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/without description/, /add it to the class/] },
  },
  {
    title: 'up that is not a function',
    name: 'migration_003_up_not_function.ts',
    content: shape("  readonly version = 3;\n  readonly description = 'three';\n  readonly up = 'create table t3';"),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/up that is the string "create table t3", not a function/, /write up\(knex\)/] },
  },
  {
    title: 'a class whose constructor throws',
    name: 'migration_003_constructor_throws.ts',
    content: shape(`${BASE_PROPS}\n  constructor() { throw new Error('no DATABASE_URL'); }`),
    expect: { stage: 'load', code: 'get-migration-threw', line: "throw new Error('no DATABASE_URL')", says: [/constructor/, /no DATABASE_URL/, /move work that can fail into up\(knex\)/] },
  },
  {
    title: 'a getter that throws',
    name: 'migration_003_getter_throws.ts',
    content: shape(BASE_PROPS.replace('readonly version = 3;', "get version(): number { throw new Error('version getter failed'); }")),
    expect: { stage: 'load', code: 'bad-shape', line: 'version getter failed', says: [/version getter failed/, /Make them plain properties and methods/] },
  },
  {
    title: 'a getter that loops forever',
    name: 'migration_003_getter_loops.ts',
    content: shape(BASE_PROPS.replace('readonly version = 3;', 'get version(): number { for (;;) { /* spin */ } }')),
    expect: { stage: 'load', code: 'bad-shape', line: 'export function getMigration', says: [/did not finish within 0\.5 s/, /Make them plain properties and methods/] },
  },
  {
    title: 'getMigration() throws',
    name: 'migration_003_factory_throws.ts',
    content: shape(BASE_PROPS, "throw new Error('factory failed');"),
    expect: { stage: 'load', code: 'get-migration-threw', line: "throw new Error('factory failed')", says: [/factory failed/, /return the migration class at once/] },
  },
  {
    title: 'getMigration() loops forever',
    name: 'migration_003_factory_loops.ts',
    content: shape(BASE_PROPS, 'for (;;) { /* spin */ }'),
    expect: { stage: 'load', code: 'get-migration-threw', line: 'export function getMigration', says: [/getMigration\(\) did not finish within 0\.5 s/, /endless loop/, /return the migration class at once/] },
  },

  // --- what happens on import ----------------------------------------------------------------
  {
    title: 'a file that throws on import',
    name: 'migration_003_throws_on_import.ts',
    content: `${HEADER}const url = process.env.MM_CORPUS_UNSET_URL;\nif (!url) throw new Error('MM_CORPUS_UNSET_URL is not set');\n${CLASS3}${GET3}`,
    expect: { stage: 'load', code: 'load-error', line: 'if (!url) throw', says: [/MM_CORPUS_UNSET_URL is not set/, /Fix the error at this line/] },
  },
  {
    title: 'a file that throws undefined on import',
    name: 'migration_003_throws_undefined.js',
    content: `${CJS3}exports.getMigration = () => M3;\nthrow undefined;\n`,
    // Nothing thrown but undefined: no stack, so no line to point at, and the message says so.
    expect: { stage: 'load', code: 'load-error', line: 1, says: [/threw undefined instead of an Error/, /Find the code that throws it and fix it/] },
  },
  {
    title: 'a file that loops forever on import',
    name: 'migration_003_loops_on_import.ts',
    content: `${HEADER}let spins = 0;\nwhile (true) { spins++; }\n${CLASS3}${GET3}`,
    expect: { stage: 'load', code: 'load-error', line: 1, says: [/did not finish loading within 0\.5 s/, /endless loop/, /Fix its top-level code/] },
  },
  {
    title: 'a file that recurses without end on import (stack overflow)',
    name: 'migration_003_stack_overflow.ts',
    content: `${HEADER}function depth(n: number): number { return depth(n + 1) + 1; }\ndepth(0);\n${CLASS3}${GET3}`,
    expect: { stage: 'load', code: 'load-error', line: 'function depth', says: [/Maximum call stack size exceeded/, /Fix the error at this line/] },
  },
  {
    title: 'a file that calls process.exit() on import (our process lives on)',
    name: 'migration_003_exits.ts',
    content: `${HEADER}if (!process.env.MM_CORPUS_UNSET) {\n  process.exit(3);\n}\n${CLASS3}${GET3}`,
    expect: { stage: 'load', code: 'load-error', line: 'process.exit(3)', says: [/process\.exit\(3\)/, /Remove that call/] },
  },
  {
    title: 'top-level await in a TypeScript module',
    name: 'migration_003_await_ts.ts',
    content: `${HEADER}const ready = Promise.resolve(true);\nawait ready;\n${CLASS3}${GET3}`,
    expect: { stage: 'load', code: 'load-error', line: 'await ready', says: [/top-level await/, /move the awaited code into up\(knex\)/] },
  },
  {
    title: 'import of a missing package',
    name: 'migration_003_missing_package.ts',
    content: `${HEADER}import { pad } from 'mm-corpus-no-such-package';\n${CLASS3}${GET3}`,
    expect: { stage: 'static', code: 'unresolved-import', line: 'mm-corpus-no-such-package', says: [/"mm-corpus-no-such-package"/, /Install it or fix the path/] },
  },
  {
    title: 'import of a missing relative file',
    name: 'migration_003_missing_helper.ts',
    content: `${HEADER}import { tableName } from './helpers/nowhere';\n${CLASS3}${GET3}`,
    expect: { stage: 'static', code: 'unresolved-import', line: './helpers/nowhere', says: [/"\.\/helpers\/nowhere"/, /fix the path/] },
  },
  {
    title: 'import of a package that throws when loaded',
    name: 'migration_003_throwing_package.ts',
    content: (file, ws) => {
      fs.mkdirSync(path.join(ws, 'node_modules', 'mm-corpus-boom'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'node_modules', 'mm-corpus-boom', 'index.js'), "'use strict';\nthrow new Error('boom package failed to start');\n");
      fs.writeFileSync(file, `${HEADER}import 'mm-corpus-boom';\n${CLASS3}${GET3}`);
    },
    expect: { stage: 'load', code: 'load-error', line: 2, says: [/boom package failed to start/, /thrown in \.\.\/node_modules\/mm-corpus-boom\/index\.js:2/, /Fix the error at this line/] },
  },
  {
    title: 'import of a TypeScript helper with a syntax error',
    name: 'migration_003_broken_helper.ts',
    content: (file, ws) => {
      fs.mkdirSync(path.join(ws, 'versions', 'helpers'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'versions', 'helpers', 'names.ts'), "export const prefix = 'app_';\nexport const = ;\n");
      fs.writeFileSync(file, `${HEADER}import './helpers/names';\n${CLASS3}${GET3}`);
    },
    expect: { stage: 'load', code: 'load-error', line: 2, says: [/names\.ts/, /\(2:\d+\)/, /Fix the error at this line/] },
  },
  {
    title: 'import.meta in a TypeScript module (works: mapped to its CommonJS equivalent)',
    name: 'migration_003_import_meta.ts',
    content: GOOD3.replace("'t3'", "require('node:path').basename(import.meta.filename, '.ts') === 'migration_003_import_meta' && import.meta.url.startsWith('file:') ? 't3' : 'wrong'"),
    expect: { stage: 'fine' },
  },
  {
    title: 'a file that writes to stdout on import (diverted to stderr; CLI --json stays parseable)',
    name: 'migration_003_prints.ts',
    content: `console.log('MM-CORPUS: hello from a migration');\n${GOOD3}`,
    expect: { stage: 'fine' },
    also: (ws, _file, output) => {
      assert.equal(output.stdout, '', 'nothing reached stdout');
      assert.match(output.stderr, /MM-CORPUS: hello from a migration/, 'the file\'s output went to stderr');
      const r = spawnSync(process.execPath, [CLI, 'validate', '--json', '--dir', ws], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { ok: true, problems: [] });
      assert.match(r.stderr, /MM-CORPUS: hello from a migration/);
    },
  },
  {
    title: 'a file that starts a timer on import (the CLI still exits)',
    name: 'migration_003_timer.ts',
    content: `setInterval(() => {}, 60_000);\nsetTimeout(() => {}, 600_000);\n${GOOD3}`,
    expect: { stage: 'fine' },
    also: (ws) => {
      const started = Date.now();
      const r = spawnSync(process.execPath, [CLI, 'validate', '--dir', ws], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, 'the CLI ended by itself, it was not killed by the time limit');
      assert.equal(r.status, 0, r.stderr);
      assert.ok(Date.now() - started < 30_000, 'and promptly');
    },
  },

  // --- versions, names and what sits in versions/ -----------------------------------------------
  {
    title: 'a non-numeric version: migration_abc_x.ts',
    name: 'migration_abc_x.ts',
    content: GOOD3,
    expect: { stage: 'name', says: [/version after "migration_" must be digits/, /Rename it, e\.g\. "migration_003_abc_x\.ts"/] },
  },
  {
    title: 'a version beyond Number.MAX_SAFE_INTEGER',
    name: 'migration_99999999999999999999_huge.ts',
    content: GOOD3,
    expect: { stage: 'name', says: [/99999999999999999999 is larger than the largest supported \(9007199254740991\)/, /Rename it, e\.g\. "migration_003_huge\.ts"/] },
  },
  {
    title: 'version zero',
    name: 'migration_000_zero.ts',
    content: GOOD3,
    expect: { stage: 'name', says: [/must be 1 or more/, /Rename it/] },
  },
  {
    title: 'upper case in the description',
    name: 'migration_003_AddThing.ts',
    content: GOOD3,
    expect: { stage: 'name', says: [/lower-case letters and digits/, /Rename it, e\.g\. "migration_003_add_thing\.ts"/] },
  },
  {
    title: 'an unsupported extension (.tsx)',
    name: 'migration_003_view.tsx',
    content: GOOD3,
    expect: { stage: 'name', says: [/extension "\.tsx" is not one of/, /Rename it, e\.g\. "migration_003_view\.ts"/] },
  },
  {
    title: 'a directory named like a migration',
    name: 'migration_003_folder.ts',
    content: (file) => fs.mkdirSync(file),
    expect: { stage: 'name', says: [/is a folder, not a migration file/, /rename or move it/] },
  },
  {
    title: 'a named pipe named like a migration (never opened, so no hang)',
    name: 'migration_003_pipe.ts',
    content: (file) => execFileSync('mkfifo', [file]),
    expect: { stage: 'name', says: [/not a regular file/, /remove it or replace it/] },
  },
  {
    title: 'a .d.ts declaration file',
    name: 'migration_003_types.d.ts',
    content: 'export declare function getMigration(): unknown;\n',
    expect: { stage: 'ignored' },
  },
  {
    title: 'a symlink pointing outside the workspace',
    name: 'migration_003_outside.ts',
    content: (file) => {
      const elsewhere = path.join(tempWorkspace({ 'shared/migration_003_outside.ts': GOOD3 }), 'shared', 'migration_003_outside.ts');
      fs.symlinkSync(elsewhere, file);
    },
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/outside the workspace/, /Copy the file into this folder/] },
  },
  {
    title: 'a dangling symlink',
    name: 'migration_003_dangling.ts',
    content: (file, ws) => fs.symlinkSync(path.join(ws, 'deleted.ts'), file),
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/target does not exist/, /Restore the target, or remove the link/] },
  },
  {
    title: 'a symlink to itself (a loop)',
    name: 'migration_003_loop_link.ts',
    content: symlinkLoop,
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/loop/, /Restore the target, or remove the link/] },
  },

  // --- bytes and encodings -------------------------------------------------------------------------
  {
    title: 'a binary file',
    name: 'migration_003_binary.ts',
    content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0xff, 0xfe]),
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/binary data/, /Save it as UTF-8 text/] },
  },
  {
    title: 'a Latin-1 (non-UTF-8) file',
    name: 'migration_003_latin1.ts',
    content: Buffer.from(`// caf\xe9 cr\xe8me\n${GOOD3}`, 'latin1'),
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/not valid UTF-8/, /Save it as UTF-8 text/] },
  },
  {
    title: 'a UTF-16 file',
    name: 'migration_003_utf16.ts',
    content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD3, 'utf16le')]),
    expect: { stage: 'static', code: 'unreadable', line: 1, says: [/UTF-16/, /Save it as UTF-8 text/] },
  },
  {
    title: 'a UTF-8 byte order mark',
    name: 'migration_003_bom.ts',
    content: `\ufeff${GOOD3}`,
    expect: { stage: 'fine' },
  },
  {
    title: 'a UTF-8 byte order mark in CommonJS',
    name: 'migration_003_bom_cjs.js',
    content: `\ufeff${CJS3}exports.getMigration = () => M3;\n`,
    expect: { stage: 'fine' },
  },
  {
    title: 'CRLF line endings',
    name: 'migration_003_crlf.ts',
    content: GOOD3.replace(/\n/g, '\r\n'),
    expect: { stage: 'fine' },
  },
  {
    title: 'classic Mac (CR only) line endings',
    name: 'migration_003_cr.ts',
    content: GOOD3.replace(/\n/g, '\r'),
    expect: { stage: 'fine' },
  },
  {
    title: `unreadable permissions (chmod 000)${process.getuid?.() === 0 ? ': running as root, which reads it anyway, so it applies' : ''}`,
    name: 'migration_003_no_access.ts',
    content: (file) => {
      fs.writeFileSync(file, GOOD3);
      fs.chmodSync(file, 0o000);
    },
    // Root (and Windows) read it regardless: then it is a good migration and applies.
    expect: (file) => (readable(file)
      ? { stage: 'fine' }
      : { stage: 'static', code: 'unreadable', line: 1, says: [/permission denied/, /Fix its permissions/] }),
  },
  {
    title: 'a 10,000-line file (fine, and fast)',
    name: 'migration_003_ten_thousand_lines.ts',
    content: TEN_THOUSAND,
    expect: { stage: 'fine' },
    also: async (ws) => {
      assert.equal(TEN_THOUSAND.split('\n').length - 1, 10_000);
      const e = engine(ws, { settings: settingsFrom({}) });
      const started = performance.now();
      e.invalidate();
      const [source] = e.sources();
      assert.deepEqual((await e.validate()), []);
      const ms = performance.now() - started;
      assert.equal(source.migrations.length, 3);
      assert.ok(ms < 3_000, `discovery and validate of a 10,000-line file took ${Math.round(ms)} ms`);
    },
  },
];

function readable(file: string): boolean {
  try {
    fs.closeSync(fs.openSync(file, 'r'));
    return true;
  } catch {
    return false;
  }
}

/** 1-based line of the first occurrence of `needle` in `text` (fails the test when absent). */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `fixture text should contain ${JSON.stringify(needle)}`);
  return text.slice(0, i).split(/\r\n?|\n/).length;
}

/** A message a user can act on: what is wrong, then what to do, never an internal dump. */
function assertClear(p: Problem, says: readonly RegExp[]): void {
  for (const re of says) assert.match(p.message, re);
  assert.match(p.message, /\b(Add|add|Rename|rename|Export|Fix|fix|Remove|remove|Restore|Save|Make|make|Move|move|Copy|Install|return|write)\b/, `says what to do: ${p.message}`);
  assert.ok(!p.message.includes('[object Object]'), p.message);
  assert.ok(!/\n\s+at /.test(p.message), `no stack trace: ${p.message}`);
  assert.ok(p.message.length < 400, `short enough to read: ${p.message}`);
  assert.ok(p.line >= 1 && p.column >= 1);
}

/** Captures writes to a stream until `restore()`; the loader must leave the stream as it found it. */
function capture(stream: NodeJS.WriteStream): { text: () => string; restore: () => void } {
  const original = stream.write;
  let text = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += String(chunk);
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
  const mine = stream.write;
  return {
    text: () => text,
    restore: () => {
      assert.equal(stream.write, mine, 'the stream is handed back as it was');
      stream.write = original;
    },
  };
}

async function check(kind: Kind): Promise<void> {
  const ws = tempWorkspace(migrationFiles([1, 2]));
  const file = path.join(ws, 'versions', kind.name);
  const good = [1, 2].map((v) => path.join(ws, 'versions', `migration_00${v}_create_t${v}.ts`));
  if (typeof kind.content === 'function') kind.content(file, ws);
  else fs.writeFileSync(file, kind.content);
  const text = typeof kind.content === 'string' ? kind.content : '';
  const expect = typeof kind.expect === 'function' ? kind.expect(file) : kind.expect;
  const lineOfExpect = (line: number | string) => (typeof line === 'number' ? line : lineOf(text, line));

  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  const exit = process.exit;
  const stderr = capture(process.stderr);
  const output: Output = { stdout: '', stderr: '' };
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    const [source, ...more] = e.sources();
    assert.equal(more.length, 0);
    const others = source.migrations.filter((m) => m.path !== file);
    assert.deepEqual(others.map((m) => m.path), good, 'the two good migrations are found');
    for (const m of others) assert.deepEqual(m.problems, [], `${path.basename(m.path)} stays clean`);
    const found = source.migrations.find((m) => m.path === file);
    const status = await e.status();
    const states = new Map(status.sources[0].migrations.map((m) => [m.path, m.status]));

    const stdout = capture(process.stdout);
    const started = Date.now();
    let validated: Problem[];
    try {
      validated = (await e.validate());
    } finally {
      output.stdout = stdout.text();
      stdout.restore();
    }
    assert.ok(Date.now() - started < 10 * LOAD_TIMEOUT_MS + 5_000, 'validate is bounded');

    switch (expect.stage) {
      case 'static':
      case 'load': {
        assert.ok(found, `${kind.name} is listed as a migration`);
        assert.deepEqual(source.problems, []);
        if (expect.stage === 'static') {
          assert.equal(found.problems.length, 1, JSON.stringify(found.problems, null, 2));
          assert.equal(states.get(file), 'invalid');
        } else {
          assert.deepEqual(found.problems, [], 'static checks cannot see it (they never run the file)');
          assert.equal(states.get(file), 'pending');
        }
        assert.equal(validated.length, 1, JSON.stringify(validated, null, 2));
        const [p] = validated;
        if (expect.stage === 'static') assert.deepEqual(p, found.problems[0], 'validate reports what discovery found');
        assert.equal(p.code, expect.code);
        assert.equal(p.severity, 'error');
        assert.equal(p.file, file);
        assert.equal(p.line, lineOfExpect(expect.line), `line of ${p.code}: ${p.message}`);
        assertClear(p, expect.says);
        // Everything to run is loaded before the first migration runs: nothing is applied.
        await assert.rejects(e.up(), (err: unknown) => {
          assert.ok(err instanceof InvalidMigrationsError, String(err));
          assert.deepEqual(err.problems, [p]);
          return true;
        });
        assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
        await applied(e, { to: 2 }, [1, 2]);
        break;
      }
      case 'name': {
        assert.equal(found, undefined, 'not a migration');
        assert.equal(source.problems.length, 1, JSON.stringify(source.problems, null, 2));
        const [p] = source.problems;
        assert.deepEqual(validated, [p]);
        assert.equal(p.code, 'bad-file-name');
        assert.equal(p.severity, 'warning');
        assert.equal(p.file, file);
        assert.equal(p.line, 1);
        assert.ok(p.message.includes(`"${kind.name}"`), 'names the file');
        assertClear(p, expect.says);
        await applied(e, {}, [1, 2]);
        break;
      }
      case 'ignored':
        assert.equal(found, undefined, 'not a migration');
        assert.deepEqual(source.problems, []);
        assert.deepEqual(validated, []);
        await applied(e, {}, [1, 2]);
        break;
      case 'fine':
        assert.ok(found, `${kind.name} is listed as a migration`);
        assert.deepEqual(found.problems, []);
        assert.deepEqual(source.problems, []);
        assert.deepEqual(validated, []);
        assert.deepEqual([...states.values()], ['pending', 'pending', 'pending']);
        await applied(e, {}, [1, 2, 3]);
        break;
    }
    if (kind.also) {
      output.stderr = stderr.text();
      await kind.also(ws, file, output);
    }
    // Anything the file did asynchronously (a rejected promise) has had its chance to surface.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    await e.close();
    stderr.restore();
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(rejections, [], 'no unhandled promise rejection');
  assert.equal(process.exit, exit, 'process.exit is restored');
  if (!kind.also) {
    assert.equal(output.stdout, '', 'nothing printed to stdout');
    assert.equal(stderr.text(), '', 'nothing printed to stderr');
  }
}

async function applied(e: ReturnType<typeof engine>, opts: { to?: number }, versions: number[]): Promise<void> {
  const report = await e.up(opts);
  assert.equal(report.ok, true);
  assert.deepEqual(report.steps.map((s) => [s.version, s.outcome]), versions.map((v) => [v, 'done']));
  assert.deepEqual(await userTables(DEFAULT_DB(e.workspace)), versions.map((v) => `t${v}`));
}

test(`corpus: ${KINDS.length} distinct kinds of bad migration files, each named once`, () => {
  assert.ok(KINDS.length >= 40, `${KINDS.length} kinds`);
  assert.equal(new Set(KINDS.map((k) => k.title)).size, KINDS.length, 'titles are unique');
  assert.equal(new Set(KINDS.map((k) => k.name)).size, KINDS.length, 'file names are unique');
});

for (const kind of KINDS) {
  test(`corpus: ${kind.title}`, { timeout: 60_000, skip: process.platform === 'win32' && /pipe|symlink|chmod/.test(kind.title) ? 'POSIX only' : false }, () => check(kind));
}

test('corpus: duplicate versions block the whole source, as DESIGN says', async () => {
  const ws = tempWorkspace({ ...migrationFiles([1, 2]), 'versions/migration_002_again.ts': tsMigration(2, 'again') });
  const e = engine(ws, { settings: settingsFrom({}) });
  try {
    const [source] = e.sources();
    const dupes = source.migrations.filter((m) => m.version === 2);
    assert.equal(dupes.length, 2);
    for (const m of dupes) {
      assert.equal(m.problems.length, 1);
      const [p] = m.problems;
      assert.equal(p.code, 'duplicate-version');
      assert.equal(p.file, m.path);
      assert.equal(p.line, 1);
      assertClear(p, [/Version 2 is also used by migration_002_/, /Rename one of them to a new version/]);
    }
    assert.deepEqual(source.migrations.find((m) => m.version === 1)?.problems, []);
    assert.deepEqual((await e.validate()).map((p) => p.code), ['duplicate-version', 'duplicate-version']);
    // Not even version 1, which is fine on its own: nothing in the source runs until it is fixed.
    for (const opts of [{}, { to: 1 }]) {
      await assert.rejects(e.up(opts), (err: unknown) => {
        assert.ok(err instanceof InvalidMigrationsError);
        assert.deepEqual(err.problems, dupes.map((m) => m.problems[0]), 'each duplicate once');
        return true;
      });
    }
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
    fs.renameSync(path.join(ws, 'versions', 'migration_002_again.ts'), path.join(ws, 'versions', 'migration_003_again.ts'));
    fs.writeFileSync(path.join(ws, 'versions', 'migration_003_again.ts'), tsMigration(3, 'again'));
    e.invalidate();
    assert.equal((await e.up()).ok, true);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['again', 't1', 't2']);
  } finally {
    await e.close();
  }
});
