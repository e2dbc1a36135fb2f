import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
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
