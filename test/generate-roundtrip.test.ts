// The migration generator's proof, on each real database: random pairs of declared schemas (A, B).
// From empty, the generated migration makes A; A → B's up() makes B and its down() makes A again;
// A's down() leaves nothing. "Makes" means what introspection reads equals the declared model
// (diffSchemas: the comparison verify uses). A server that does not answer FAILS (CI has both).
// MM_ROUNDTRIP_SEED=<n> replays a run; MM_ROUNDTRIP_PAIRS=<n> changes how many pairs.
import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Knex } from 'knex';
import type { Catalog } from '../src/core/database/catalog';
import { MYSQL_CATALOG } from '../src/core/database/dialects/mysql';
import { POSTGRES_CATALOG } from '../src/core/database/dialects/postgres';
import { SQLITE_CATALOG } from '../src/core/database/dialects/sqlite';
import { introspect } from '../src/core/database/introspect';
import type { SchemaDialect } from '../src/core/database/generate/columnTypes';
import { declaredModel, defineSchema, type Column, type TableDeclaration } from '../src/core/database/generate/declaredSchema';
import { generateMigration, type GenerateResult } from '../src/core/database/generate/migrationCode';
import type { SchemaModel } from '../src/core/model/schema';
import { describeChanges, diffSchemas } from '../src/core/model/schemaDiff';
import { sqliteKnex, tempWorkspace } from './helpers';
import { probe, SERVERS, TestDatabase } from './servers';
import { randomSchemaPair, type Rng, seededRng } from './randomSchemas';

const PAIRS = Number(process.env.MM_ROUNDTRIP_PAIRS ?? 200);
const SEED = Number(process.env.MM_ROUNDTRIP_SEED ?? 20260522);

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (arg: string, body: string) => (knex: Knex) => Promise<void>;

const CATALOGS: Record<SchemaDialect, Catalog> = { sqlite: SQLITE_CATALOG, pg: POSTGRES_CATALOG, mysql: MYSQL_CATALOG };

/** Runs generated migration code as a migration file's method body would. */
async function run(knex: Knex, code: string): Promise<void> {
  await new AsyncFunction('knex', code)(knex);
}

function generated(result: GenerateResult, what: string): Extract<GenerateResult, { ok: true }> {
  if (!result.ok) assert.fail(`${what} was refused:\n${result.refusals.map((r) => `  ${r.reason}`).join('\n')}`);
  return result;
}

async function expectSchema(knex: Knex, dialect: SchemaDialect, expected: SchemaModel, what: string, context: () => string): Promise<void> {
  const actual = await introspect(knex, CATALOGS[dialect]);
  const differs = describeChanges(diffSchemas(expected, actual));
  if (differs.length > 0) assert.fail(`${what}: the database differs from the declared schema (declared → read):\n  ${differs.join('\n  ')}\n${context()}`);
}

/** Every table gone, whatever a failed pair left (foreign keys first). */
async function clear(knex: Knex, dialect: SchemaDialect): Promise<void> {
  const model = await introspect(knex, CATALOGS[dialect]);
  for (const table of model.tables) {
    if (table.foreignKeys.length > 0 && dialect !== 'sqlite') await knex.schema.alterTable(table.name, (t) => { for (const f of table.foreignKeys) t.dropForeign(f.columns, `${table.name}_${f.columns.join('_')}_foreign`); });
  }
  for (const table of model.tables) await knex.schema.dropTableIfExists(table.name);
}

const describeTables = (tables: Record<string, TableDeclaration>): string => JSON.stringify(
  Object.fromEntries(Object.entries(tables).map(([name, t]) => [name, { ...t, columns: Object.fromEntries(Object.entries(t.columns).map(([c, col]) => [c, (col as Column).state])) }])),
);

/** The round trip on one database; returns the time taken and what was covered. */
async function roundTrips(knex: Knex, dialect: SchemaDialect): Promise<{ ms: number; steps: Map<string, number> }> {
  const rng: Rng = seededRng(SEED + dialect.length);
  const steps = new Map<string, number>();
  const started = Date.now();
  await clear(knex, dialect);
  for (let pair = 0; pair < PAIRS; pair++) {
    const { a, b, renames } = randomSchemaPair(rng, dialect);
    const context = (code = '') => `seed ${SEED} (MM_ROUNDTRIP_SEED=${SEED}), ${dialect}, pair ${pair}\nA: ${describeTables(a)}\nB: ${describeTables(b)}\nrenames: ${JSON.stringify(renames)}\n${code}`;
    try {
      const modelA = declaredModel(defineSchema({ tables: a }), dialect);
      const modelB = declaredModel(defineSchema({ tables: b }), dialect);
      const makeA = generated(generateMigration({ tables: [] }, modelA, { dialect }), 'empty → A');
      await run(knex, makeA.up);
      await expectSchema(knex, dialect, modelA, 'empty → A up()', () => context(makeA.up));
      const change = generated(generateMigration(modelA, modelB, { dialect, renames, allowDestructive: true }), 'A → B');
      const code = `up():\n${change.up}\ndown():\n${change.down}`;
      await run(knex, change.up);
      await expectSchema(knex, dialect, modelB, 'A → B up()', () => context(code));
      await run(knex, change.down);
      await expectSchema(knex, dialect, modelA, 'A → B down()', () => context(code));
      await run(knex, makeA.down);
      await expectSchema(knex, dialect, { tables: [] }, 'empty → A down()', () => context(makeA.down));
      for (const c of change.changes) steps.set(c.kind, (steps.get(c.kind) ?? 0) + 1);
      if (Object.keys(renames).length > 0) steps.set('column-renamed', (steps.get('column-renamed') ?? 0) + 1);
    } catch (err) {
      const message = err instanceof assert.AssertionError ? err.message : `${(err as Error).message}\n${context()}`;
      throw new Error(`Round trip failed (replay with MM_ROUNDTRIP_SEED=${SEED}): ${message}`, { cause: err });
    }
  }
  return { ms: Date.now() - started, steps };
}

function report(dialect: string, result: { ms: number; steps: Map<string, number> }): void {
  // The figure the issue asks for: the time of the whole property run per database.
  console.log(`${dialect}: ${PAIRS} pairs in ${(result.ms / 1000).toFixed(1)} s; changes covered: ${[...result.steps].map(([k, n]) => `${k} ${n}`).join(', ')}`);
}

test(`SQLite: ${PAIRS} random schema pairs round-trip through generated migrations`, { timeout: 600_000 }, async () => {
  const knex = sqliteKnex(path.join(tempWorkspace(), 'roundtrip.db'));
  try {
    const result = await roundTrips(knex, 'sqlite');
    report('SQLite', result);
    for (const kind of ['table-added', 'table-removed', 'column-added', 'column-removed', 'column-changed', 'index-added', 'index-removed', 'foreign-key-added', 'foreign-key-removed', 'column-renamed']) {
      assert.ok((result.steps.get(kind) ?? 0) >= 5, `the random pairs covered ${kind} only ${result.steps.get(kind) ?? 0} times`);
    }
  } finally {
    await knex.destroy();
  }
});

for (const server of SERVERS) {
  describe(server.name, () => {
    let database: TestDatabase | undefined;
    after(() => database?.drop());

    test(`${server.name}: ${PAIRS} random schema pairs round-trip through generated migrations`, { timeout: 600_000 }, async () => {
      const unavailable = await probe(server);
      assert.equal(unavailable, undefined, unavailable);
      database = await TestDatabase.create(server);
      const dialect: SchemaDialect = server.client === 'pg' ? 'pg' : 'mysql';
      const result = await roundTrips(database.db, dialect);
      report(server.name, result);
      assert.ok((result.steps.get('column-changed') ?? 0) >= 5 && (result.steps.get('foreign-key-added') ?? 0) >= 5, `too little covered: ${[...result.steps].join(' ')}`);
    });
  });
}
