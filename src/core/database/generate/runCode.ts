import type { Knex } from 'knex';
import { changesDatabase } from '../../model/statements';

/** The body of a generated `up(knex)` or `down(knex)` (generateMigration's code: our own text, never a workspace file). */
type Body = (knex: Knex) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (arg: string, body: string) => Body;

/** What a generated body sent: answered (it ran) and, when it failed, sent but never answered (whether it ran is not known). */
export interface RanStatements {
  readonly ran: string[];
  readonly unanswered: string[];
}

/**
 * Runs generated code as a migration file's method would run it, on `knex` (a transaction, or the
 * pool where DDL commits at once). `statements` fills as the database answers, so a caller whose
 * run failed still knows what ran. Kept as knex sent them, with placeholders.
 */
export async function runGenerated(knex: Knex | Knex.Transaction, code: string, statements: RanStatements): Promise<void> {
  const sent = (q: { sql: string }) => {
    if (changesDatabase(q.sql)) statements.unanswered.push(q.sql);
  };
  const settle = (q: { sql: string }) => {
    const i = statements.unanswered.indexOf(q.sql);
    if (i >= 0) statements.unanswered.splice(i, 1);
  };
  const answered = (_response: unknown, q: { sql: string }) => {
    if (!changesDatabase(q.sql)) return;
    settle(q);
    statements.ran.push(q.sql);
  };
  const refused = (_err: unknown, q: { sql: string }) => settle(q);
  knex.on('query', sent).on('query-response', answered).on('query-error', refused);
  try {
    await new AsyncFunction('knex', code)(knex as Knex);
  } finally {
    knex.removeListener('query', sent).removeListener('query-response', answered).removeListener('query-error', refused);
  }
}

/**
 * The SQL generated code would send, compiled by knex without executing anything: each
 * `knex.schema.…` call is compiled (toSQL) where the code awaits it. What knex decides only as it
 * runs (SQLite's table rebuilds, made from what the table holds then) is not in it.
 */
export async function compileGenerated(knex: Knex, code: string): Promise<string[]> {
  const sql: string[] = [];
  const builders = knex.schema as unknown as Record<string, (...args: unknown[]) => { toSQL(): { sql?: unknown; statementsProducer?: unknown; output?: unknown }[] }>;
  const schema = new Proxy({}, {
    get: (_target, method: string) => (...args: unknown[]) => {
      const builder = builders[method](...args);
      return {
        then(resolve: (value: undefined) => void, reject: (err: unknown) => void) {
          try {
            for (const q of builder.toSQL()) if (typeof q.sql === 'string' && !q.statementsProducer && !q.output && changesDatabase(q.sql)) sql.push(q.sql);
            resolve(undefined);
          } catch (err) {
            reject(err);
          }
        },
      };
    },
  });
  await new AsyncFunction('knex', code)({ schema, fn: knex.fn, raw: knex.raw.bind(knex) } as unknown as Knex);
  return sql;
}
