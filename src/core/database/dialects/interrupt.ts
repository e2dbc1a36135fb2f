import type { Knex } from 'knex';

/** A server cancels a statement from another connection. */
export async function cancel(knex: Knex, trx: Knex.Transaction): Promise<void> {
  await (knex.client as unknown as { cancelQuery?(c: unknown): Promise<void> }).cancelQuery?.(await connectionOf(trx));
}

/** The driver connection a knex transaction runs on (its client always hands out that one). */
export function connectionOf(trx: Knex.Transaction): Promise<unknown> {
  return (trx.client as unknown as { acquireConnection(): Promise<unknown> }).acquireConnection();
}
