import type { DatabaseSync } from 'node:sqlite';
import { historyNotATable } from '../model/errors';
import { checkHistoryColumns, HISTORY_TABLE, historyColumns, readHistoryRows } from './history';
import { LOCK_ID, LOCK_TABLE, lockHolderOf } from './lock';
import { loadNodeSqlite, sqliteCall } from './nodeSqliteClient';
import type { HistoryRead } from '../model/history';

/**
 * Reads the history and the lock row straight through node:sqlite, read-only, without knex: a
 * status (or an `up` with nothing to do) then never loads knex, about 0.2 s of a CLI start. Same
 * checks and row parsing as HistoryStore; the file must exist.
 */
export function readSqlite(filename: string, where: string, source?: string): HistoryRead {
  const { DatabaseSync } = loadNodeSqlite();
  const db: DatabaseSync = sqliteCall(() => new DatabaseSync(filename, { readOnly: true }));
  try {
    return sqliteCall(() => {
      db.exec('PRAGMA busy_timeout = 5000');
      const objects = db.prepare("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name IN (?, ?)").all(HISTORY_TABLE, LOCK_TABLE);
      // A view in the history's place is not our history (see historyKind).
      const view = objects.find((o) => o.name === HISTORY_TABLE && o.type === 'view');
      if (view) throw historyNotATable(where, 'view');
      const tables = new Set(objects.filter((o) => o.type === 'table').map((o) => o.name));
      let read: HistoryRead = { rows: [], unreadable: [] };
      if (tables.has(HISTORY_TABLE)) {
        const present = checkHistoryColumns(db.prepare(`PRAGMA table_info(${HISTORY_TABLE})`).all().map((c) => String(c.name)), where);
        const select = `SELECT ${historyColumns(present).map((c) => `"${c}"`).join(', ')} FROM ${HISTORY_TABLE}`;
        const raw = source === undefined ? db.prepare(`${select} ORDER BY id`).all() : db.prepare(`${select} WHERE source = ? ORDER BY id`).all(source);
        read = readHistoryRows(raw as Record<string, unknown>[], where);
      }
      const lock = tables.has(LOCK_TABLE) ? lockHolderOf(db.prepare(`SELECT * FROM ${LOCK_TABLE} WHERE id = ?`).get(LOCK_ID) as Record<string, unknown> | undefined) : undefined;
      return { ...read, lock };
    });
  } finally {
    db.close();
  }
}
