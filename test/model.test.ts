// The pure rules (history fold, statuses, plans, repair checks) on an in-memory history: no
// files, no database, so every case is stated in a few lines.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HistorySnapshot, MemoryHistory } from '../src/core/model/history';
import { planDown, planUp } from '../src/core/model/plan';
import { DRY_RUN_HEADER, historyOutcome, isPending, sqlPreviewText, summarize } from '../src/core/model/present';
import { manualRow, refuseHalfDone } from '../src/core/model/repair';
import type { MigrationFile, NewHistoryRow, Problem, Source } from '../src/core/model/types';

function file(version: number, opts: { checksum?: string; problems?: Problem[] } = {}): MigrationFile {
  return { version, name: `m${version}`, path: `/ws/versions/migration_00${version}_m${version}.ts`, checksum: opts.checksum ?? `c${version}`, problems: opts.problems ?? [], description: `M${version}` };
}

function source(id: string, ...files: MigrationFile[]): Source {
  return { id, dir: `/ws/${id}`, migrations: files, problems: [] };
}

let clock = 0;
function row(src: string, version: number, direction: 'up' | 'down', extra: Partial<NewHistoryRow> = {}): NewHistoryRow {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  return { source: src, version, description: `M${version}`, checksum: `c${version}`, direction, startedAt: at, finishedAt: at, durationMs: 1, success: true, error: null, transactional: true, ...extra };
}

async function historyOf(...rows: NewHistoryRow[]): Promise<HistorySnapshot> {
  const store = new MemoryHistory();
  await store.ensure();
  for (const r of rows) await store.append(r);
  return new HistorySnapshot(await store.rows());
}

const statuses = (h: HistorySnapshot, src: Source) => Object.fromEntries(h.states([src])[0].states.map((s) => [s.version, s.status]));

test('the in-memory history numbers rows in order, filters by source and hands out copies', async () => {
  const store = new MemoryHistory();
  await store.append(row('a', 1, 'up'));
  await store.append(row('b', 1, 'up'));
  const rows = await store.rows();
  assert.deepEqual(rows.map((r) => [r.id, r.source, r.partial, r.manual]), [[1, 'a', false, false], [2, 'b', false, false]]);
  assert.deepEqual((await store.rows('b')).map((r) => r.id), [2]);
  (rows[0] as { version: number }).version = 99;
  assert.equal((await store.rows())[0].version, 1);
});

test('statuses: applied, rolled back, failed after applied, modified, out of order, missing file, invalid', async () => {
  const src = source('versions', file(1), file(2, { checksum: 'edited' }), file(3), file(4), file(5, { problems: [{ file: 'x', line: 1, column: 1, severity: 'error', code: 'syntax-error', message: 'x' }] }));
  const h = await historyOf(
    row('versions', 1, 'up'),
    row('versions', 2, 'up'),
    row('versions', 4, 'up'),
    row('versions', 4, 'down'),
    row('versions', 6, 'up'),
    row('versions', 1, 'down', { success: false, error: 'boom' }),
  );
  // 3 sorts before the newest applied (6): out of order; 6 has no file: missing.
  assert.deepEqual(statuses(h, src), { 1: 'failed', 2: 'modified', 3: 'out-of-order', 4: 'out-of-order', 5: 'invalid', 6: 'missing' });
  const one = h.states([src])[0].states.find((s) => s.version === 1)!;
  assert.equal(one.applied, true);
  assert.equal(one.lastError, 'boom');
});

test('a half-done attempt outranks everything, and a run that would touch it is refused', async () => {
  const src = source('versions', file(1), file(2));
  const h = await historyOf(row('versions', 1, 'up'), row('versions', 2, 'up', { success: false, error: 'half', partial: true }));
  assert.deepEqual(statuses(h, src), { 1: 'applied', 2: 'failed-partial' });
  const steps = planUp(h.states([src]), {});
  assert.deepEqual(steps.map((s) => s.file.version), [2]);
  assert.throws(() => refuseHalfDone(steps, h), /failed-partial/);
  assert.doesNotThrow(() => refuseHalfDone(planDown(h.states([src]), { last: true }, (s) => h.appliedOrder(s)), h));
});

test('an attempt whose marker is its newest row is interrupted: refused under the lock, left to it on a read without; its outcome replaces it', async () => {
  const src = source('versions', file(1), file(2));
  const store = new MemoryHistory();
  await store.append(row('versions', 1, 'up'));
  const marker = row('versions', 2, 'up', { success: false, error: 'was interrupted', partial: true, transactional: false });
  await store.start(marker);
  let h = new HistorySnapshot(await store.rows());
  assert.deepEqual(statuses(h, src), { 1: 'applied', 2: 'interrupted' });
  assert.equal(h.states([src])[0].states[1].lastError, 'was interrupted');
  assert.deepEqual(summarize(h.states([src])[0].states), { pending: 0, invalid: 0, repair: 1, total: 2 });
  assert.equal(historyOutcome(h.rows[1]), 'interrupted, not rolled back');
  const steps = planUp(h.states([src]), {});
  assert.throws(() => refuseHalfDone(steps, h), /^MigrationsError: Migration 2 \(versions\) is interrupted: its last up\(\) never recorded how it ended .* Check what it changed and repair the database by hand/);
  assert.doesNotThrow(() => refuseHalfDone(steps, h, false), 'outside the lock it may be a live run');
  assert.equal(manualRow('up', [src], h, 2).row?.manual, true, 'mark-applied settles it');

  await store.finish({ ...marker, success: true, error: null, partial: false });
  h = new HistorySnapshot(await store.rows());
  assert.deepEqual(h.rows.map((r) => [r.id, r.version, r.success, r.running]), [[1, 1, true, false], [2, 2, true, false]]);
  assert.deepEqual(statuses(h, src), { 1: 'applied', 2: 'applied' });
});

test('plans: up in source order up to a version, out-of-order only when asked; down by apply order, to a version, or all', async () => {
  const a = source('a/versions', file(1), file(2), file(3));
  const b = source('b/versions', file(1), file(2));
  const h = await historyOf(row('a/versions', 1, 'up'), row('b/versions', 2, 'up'), row('a/versions', 2, 'up'));
  const states = h.states([a, b]);
  assert.deepEqual(planUp(states, {}).map((s) => `${s.source.id}:${s.file.version}`), ['a/versions:3']);
  assert.deepEqual(planUp(states, { outOfOrder: true }).map((s) => `${s.source.id}:${s.file.version}`), ['a/versions:3', 'b/versions:1']);
  assert.deepEqual(planUp(h.states([a]), { to: 2 }), []);
  // The last applied is the newest up row (a:2), not the highest version or the last source.
  const order = (s: { source: string; version: number }) => h.appliedOrder(s);
  assert.deepEqual(planDown(states, { last: true }, order).map((s) => `${s.source.id}:${s.file.version}:${s.direction}`), ['a/versions:2:down']);
  assert.deepEqual(planDown(h.states([a]), { to: 1 }, order).map((s) => s.file.version), [2]);
  assert.deepEqual(planDown(states, { all: true }, order).map((s) => `${s.source.id}:${s.file.version}`), ['b/versions:2', 'a/versions:2', 'a/versions:1']);
});

test('rolling back a migration whose file is gone is refused with what to do', async () => {
  const h = await historyOf(row('versions', 1, 'up'), row('versions', 2, 'up'));
  assert.throws(() => planDown(h.states([source('versions', file(1))]), { last: true }, (s) => h.appliedOrder(s)), /its file is gone.*Restore the file/);
});

test('mark-applied and forget: the row they would write, nothing when the history already agrees, errors for unknown or ambiguous versions', async () => {
  const a = source('a/versions', file(1), file(2));
  const b = source('b/versions', file(2));
  const h = await historyOf(row('a/versions', 1, 'up'));
  assert.equal(manualRow('up', [a], h, 1).row, undefined);
  const marked = manualRow('up', [a], h, 2).row!;
  assert.deepEqual([marked.source, marked.version, marked.direction, marked.manual, marked.checksum], ['a/versions', 2, 'up', true, 'c2']);
  assert.equal(manualRow('down', [a], h, 1).row?.direction, 'down');
  assert.equal(manualRow('down', [a], h, 2).row, undefined);
  assert.throws(() => manualRow('up', [a], h, 7), /no migration 7/);
  assert.throws(() => manualRow('up', [a, b], h, 2), /several sources/);
});

test('what both front ends show: pending excludes half-done and invalid; the last applied goes by apply order, not by time', async () => {
  const invalid = file(4, { problems: [{ file: 'x', line: 1, column: 1, severity: 'error', code: 'syntax-error', message: 'x' }] });
  const src = source('versions', file(1), file(2), file(3), invalid, file(5), file(6));
  // 2 was applied after 3 although its clock read earlier (a clock set back): order is the row's.
  const h = await historyOf(
    row('versions', 1, 'up'),
    row('versions', 3, 'up', { finishedAt: '2026-01-01T10:00:00.000Z' }),
    row('versions', 2, 'up', { finishedAt: '2026-01-01T09:00:00.000Z' }),
    row('versions', 5, 'up', { success: false, error: 'half', partial: true }),
    row('versions', 6, 'up', { success: false, error: 'rolled back' }),
  );
  const states = h.states([src])[0].states;
  assert.deepEqual(summarize(states), { pending: 1, invalid: 1, repair: 1, total: 6 });
  assert.deepEqual(states.filter(isPending).map((s) => s.version), [6]);
  assert.equal(h.lastApplied(states), 2);
});

test('history outcomes and the SQL preview read the same in the terminal and the editor', async () => {
  const h = await historyOf(row('v', 1, 'up'), row('v', 2, 'up', { success: false, partial: true }), row('v', 3, 'up', { success: false }), row('v', 4, 'up', { manual: true }), row('v', 4, 'down', { manual: true }));
  assert.deepEqual(h.rows.map(historyOutcome), ['ok', 'failed, not rolled back', 'failed, rolled back', 'marked applied', 'forgotten']);
  // A run the user cancelled is recorded as failed, and said as what it was.
  const cancelled = await historyOf(row('v', 5, 'up', { success: false, error: 'Migration 5 (v) was cancelled during up(): The operation was aborted. Its changes were rolled back; nothing needs fixing: run again to apply it.' }));
  assert.deepEqual(cancelled.rows.map(historyOutcome), ['cancelled, rolled back']);
  assert.equal(sqlPreviewText([]), '-- Nothing to run.');
  assert.equal(
    sqlPreviewText([{ step: { direction: 'up', source: 'versions', version: 2, description: 'Add x' }, sql: ['alter table a add x int', 'SAVEPOINT trx2;'] }]),
    `${DRY_RUN_HEADER}\n\n-- up versions 2: Add x\nalter table a add x int;\nSAVEPOINT trx2;`,
  );
});

test('a migration applied twice with no rollback between makes its source untrusted; a rollback between, a skip, a failure or a hand-recorded row do not', async () => {
  const fine = await historyOf(
    row('a', 1, 'up'), row('a', 1, 'down'), row('a', 1, 'up'),
    row('a', 2, 'up', { success: false, error: 'x' }), row('a', 2, 'up'),
    row('a', 3, 'up', { skipped: true }), row('a', 3, 'up'),
    row('a', 1, 'up', { manual: true }),
  );
  assert.deepEqual(fine.unreadable, []);
  const twice = await historyOf(row('a', 1, 'up'), row('b', 1, 'up'), row('a', 1, 'up'));
  assert.deepEqual(twice.unreadable, [{ source: 'a', duplicate: true, text: 'rows id 1 and 3 both record migration 1 of a as applied, with no rollback between' }]);
  assert.equal(twice.problemsOf({ id: 'b', dir: '/b', migrations: [], problems: [] } as unknown as Source).length, 0);
  assert.match(twice.problemsOf({ id: 'a', dir: '/a', migrations: [], problems: [] } as unknown as Source)[0].message, /cannot be trusted: rows id 1 and 3 .*a rollback would go out of order/);
});
