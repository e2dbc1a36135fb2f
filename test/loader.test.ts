import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Discovery, loadMigration, settingsFrom, type Problem } from '../src/core';
import { loadMigrations } from '../src/core/loading/loader';
import { engine, tempWorkspace, tsMigration } from './helpers';

/** 1-based line of the first occurrence of `needle` in `text` (fails the test when absent). */
function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `fixture text should contain ${JSON.stringify(needle)}`);
  return text.slice(0, i).split('\n').length;
}

/** Validates a workspace holding one migration file and returns its problems (statically clean is asserted). */
async function validateOne(fileName: string, text: string): Promise<{ problems: Problem[]; file: string }> {
  const ws = tempWorkspace({ [`versions/${fileName}`]: text });
  const file = path.join(ws, 'versions', fileName);
  const [source] = new Discovery(ws).discover();
  assert.deepEqual(source.migrations[0].problems.filter((p) => p.severity === 'error'), [],
    'the file must look fine statically, so the problem can only come from loading it');
  return { problems: await engine(ws, { settings: settingsFrom({}) }).validate(), file };
}

function single(problems: readonly Problem[], code: string): Problem {
  assert.deepEqual(problems.map((p) => p.code), [code], JSON.stringify(problems, null, 2));
  return problems[0];
}

/** The errors only (a file without down() also gets a missing-down warning). */
function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}

const BODY = `  readonly description = 'loader test';
  async up() {}
  async down() {}`;

test('loader: getMigration() that throws is get-migration-threw with the thrown text, at the throw', async () => {
  const text = `export class M1 {
  readonly version = 1;
${BODY}
}
export function getMigration(): typeof M1 {
  if (M1) throw new Error('factory exploded: missing config');
  return M1;
}
`;
  const { problems, file } = (await validateOne('migration_001_throws.ts', text));
  const p = single(problems, 'get-migration-threw');
  assert.equal(p.severity, 'error');
  assert.equal(p.file, file);
  assert.match(p.message, /factory exploded: missing config/);
  assert.equal(p.line, lineOf(text, "throw new Error('factory exploded"));
});

test('loader: a module that throws while loading is load-error at the line of the throw', async () => {
  const text = `import type { Knex } from 'knex';

const settings: Record<string, string> = {};
if (!settings.url) {
  throw new Error('top-level kaboom');
}
${tsMigration(1, 'never').replace("import type { Knex } from 'knex';\n", '')}`;
  const { problems, file } = (await validateOne('migration_001_load_throws.ts', text));
  const p = single(problems, 'load-error');
  assert.equal(p.severity, 'error');
  assert.equal(p.file, file);
  assert.match(p.message, /top-level kaboom/);
  assert.equal(p.line, lineOf(text, "throw new Error('top-level kaboom')"));
});

test('loader: a JavaScript module that throws while loading reports the right line too', async () => {
  const text = `'use strict';
const fs = require('fs');

fs.readFileSync('/definitely/not/here/mm-config.json');

exports.getMigration = () => ({ version: 1, description: 'js', up() {}, down() {} });
`;
  const { problems } = (await validateOne('migration_001_js_load_throws.js', text));
  const p = single(problems, 'load-error');
  assert.match(p.message, /ENOENT/);
  assert.equal(p.line, lineOf(text, 'fs.readFileSync('));
});

test('loader: getMigration() returning undefined, a number or a class without up() is bad-shape', async () => {
  const returnsUndefined = `export function getMigration() {
  return undefined;
}
`;
  const a = single(errorsOf((await validateOne('migration_001_undefined.ts', returnsUndefined)).problems), 'bad-shape');
  assert.equal(a.severity, 'error');
  assert.match(a.message, /undefined/);
  assert.equal(a.line, lineOf(returnsUndefined, 'getMigration'));

  const returnsNumber = `// a number is not a migration
exports.getMigration = () => 42;
`;
  const b = single(errorsOf((await validateOne('migration_001_number.js', returnsNumber)).problems), 'bad-shape');
  assert.match(b.message, /number/);
  assert.equal(b.line, 2);

  const noUp = `export class NoUp {
  readonly version = 1;
  readonly description = 'no up';
  async down() {}
}
export function getMigration() { return NoUp; }
`;
  const c = single(errorsOf((await validateOne('migration_001_no_up.ts', noUp)).problems), 'bad-shape');
  assert.match(c.message, /\bup\b/);
  assert.equal(c.line, lineOf(noUp, 'export function getMigration'));
});

test('loader: an async getMigration() is bad-shape mentioning the Promise', async () => {
  const text = `export class M1 {
  readonly version = 1;
${BODY}
}
export async function getMigration() { return M1; }
`;
  const p = single((await validateOne('migration_001_async.ts', text)).problems, 'bad-shape');
  assert.equal(p.severity, 'error');
  assert.match(p.message, /Promise/);
  assert.match(p.message, /async/);
});

test('loader: a version only known at run time that differs from the file name is version-mismatch', async () => {
  const text = `export class M1 {
  readonly version = 2 + 1;
${BODY}
}
export function getMigration() { return M1; }
`;
  const p = single((await validateOne('migration_001_computed.ts', text)).problems, 'version-mismatch');
  assert.equal(p.severity, 'error');
  assert.match(p.message, /\b3\b/, 'names the version the class really has');
  assert.match(p.message, /\b1\b/, 'names the version in the file name');
  assert.ok(!/version 2\b/.test(p.message), 'does not claim the class declares 2');
});

test('loader: a thrown plain object never shows as [object Object]', async () => {
  const fromFactory = `export class M1 {
  readonly version = 1;
${BODY}
}
export function getMigration() {
  throw { code: 42 };
}
`;
  const a = single((await validateOne('migration_001_throw_object.ts', fromFactory)).problems, 'get-migration-threw');
  assert.ok(!a.message.includes('[object Object]'), a.message);
  assert.match(a.message, /42/);
  assert.match(a.message, /code/);

  const atLoad = `throw { code: 43, reason: 'no database url' };
exports.getMigration = () => ({ version: 1, description: 'x', up() {}, down() {} });
`;
  const b = single((await validateOne('migration_001_throw_object_at_load.js', atLoad)).problems, 'load-error');
  assert.ok(!b.message.includes('[object Object]'), b.message);
  assert.match(b.message, /43/);
  assert.match(b.message, /no database url/);
});

test('loader: getMigration() may return an instance, and loadMigration returns it', () => {
  const text = `class M1 { constructor() { this.version = 1; this.description = 'instance'; } up() {} down() {} }
const instance = new M1();
exports.getMigration = () => instance;
`;
  const ws = tempWorkspace({ 'versions/migration_001_instance.js': text });
  const [source] = new Discovery(ws).discover();
  const result = loadMigration(source.migrations[0]);
  assert.deepEqual(result.problems, []);
  assert.equal(result.migration?.version, 1);
  assert.equal(result.migration?.description, 'instance');
  assert.equal(typeof result.migration?.up, 'function');
});

test('loader: loadMigration never loads a file with static errors', () => {
  const ws = tempWorkspace({ 'versions/migration_001_static_error.ts': tsMigration(5, 'five') });
  const [source] = new Discovery(ws).discover();
  const result = loadMigration(source.migrations[0]);
  assert.equal(result.migration, undefined);
  assert.deepEqual(result.problems.map((p) => p.code), ['version-mismatch']);
});

test('files loaded together share one time limit, yet a batch that runs out blames only a file slow by itself', () => {
  // Each file busies its import for 150 ms: three together pass the 400 ms limit, each alone does not.
  const slow = (v: number) => tsMigration(v, `t${v}`).replace('export function getMigration', 'const until = Date.now() + 150;\nwhile (Date.now() < until) { /* busy */ }\nexport function getMigration');
  const loop = (v: number) => tsMigration(v, `t${v}`).replace('export function getMigration', 'while (true) { /* never ends */ }\nexport function getMigration');
  const ws = tempWorkspace({
    'versions/migration_001_a.ts': slow(1), 'versions/migration_002_b.ts': slow(2), 'versions/migration_003_c.ts': loop(3),
    'versions/migration_004_d.ts': slow(4), 'versions/migration_005_e.ts': slow(5), 'versions/migration_006_f.ts': slow(6),
  });
  const [source] = new Discovery(ws).discover();
  const results = loadMigrations(source.migrations, undefined, 400);
  assert.deepEqual(results.map((r) => (r.migration ? 'ok' : r.problems.map((p) => p.code).join())), ['ok', 'ok', 'load-error', 'ok', 'ok', 'ok']);
  assert.match(results[2].problems[0].message, /did not finish loading within 0.4 s/);
  assert.equal(results[2].problems[0].file, path.join(ws, 'versions', 'migration_003_c.ts'));
});
