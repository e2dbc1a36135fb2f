/** Statements that change nothing lasting: reads, and transaction or session control. */
const NO_CHANGE = /^\s*(select|show|explain|describe|desc|begin|commit|rollback|savepoint|release|set|pragma(?![^;]*=))\b/i;

/** Statements MySQL/MariaDB commits implicitly, with whatever the transaction had done before them. */
export const DDL = /^\s*(create|alter|drop|rename|truncate)\b/i;

/** A statement that may change the database (not a read, not our own bookkeeping): what a history row lists. */
export function changesDatabase(sql: string): boolean {
  return !NO_CHANGE.test(sql) && !/\bmigration_(lock|history)\b/.test(sql);
}
