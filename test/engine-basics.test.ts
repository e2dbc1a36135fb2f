import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { MigrationsError } from '../src/core';
import { DEFAULT_DB, engine, sampleWorkspace, userTables } from './helpers';

test('sample workspace: status before any run is all pending and creates no database', async () => {
  const ws = sampleWorkspace();
  const e = engine(ws);
  try {
    const report = await e.status();
    assert.deepEqual(report.sources.map((s) => s.id), ['versions']);
    assert.deepEqual(report.sources[0].migrations.map((m) => [m.version, m.status]), [[1, 'pending'], [2, 'pending'], [3, 'pending']]);
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
  } finally {
    await e.close();
  }
});

test('sample workspace: up applies all three, down --all removes every table', async () => {
  const ws = sampleWorkspace();
  const e = engine(ws);
  try {
    const up = await e.up();
    assert.equal(up.ok, true);
    assert.deepEqual(up.steps.map((s) => [s.version, s.outcome]), [[1, 'done'], [2, 'done'], [3, 'done']]);
    assert.deepEqual(await userTables(DEFAULT_DB(ws)), ['chat_messages', 'chat_users']);
    const down = await e.down({ all: true });
    assert.deepEqual(down.steps.map((s) => [s.version, s.direction, s.outcome]), [[3, 'down', 'done'], [2, 'down', 'done'], [1, 'down', 'done']]);
  } finally {
    await e.close();
  }
  assert.deepEqual(await userTables(DEFAULT_DB(ws)), []);
});

test('the API refuses what it cannot do as asked, as usage errors, creating nothing: history limit 0, up to a version there is not, an unknown source', async () => {
  const ws = sampleWorkspace();
  const e = engine(ws);
  const usage = (says: RegExp) => (err: unknown) => err instanceof MigrationsError && err.code === 'usage' && says.test(err.message);
  try {
    await assert.rejects(e.history({ limit: 0 }), usage(/limit must be a whole number of 1 or more, not 0/));
    await assert.rejects(e.up({ to: 99 }), usage(/There is no migration 99 in versions; its versions are 1, 2, 3\./));
    await assert.rejects(e.down({ to: 99 }), usage(/There is no migration 99 in versions/));
    await assert.rejects(e.up({ source: 'nope' }), usage(/No migration source "nope"/));
    assert.equal(fs.existsSync(DEFAULT_DB(ws)), false);
    assert.deepEqual((await e.up({ to: 2 })).steps.map((s) => s.version), [1, 2]);
    assert.deepEqual((await e.down({ to: 0 })).steps.map((s) => s.version), [2, 1], 'down to 0 is everything');
  } finally {
    await e.close();
  }
});
