// `migrations docs`: what the CLI writes, replayed on a shadow, on real SQLite files.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, engine, migrationFiles, sampleWorkspace, tempWorkspace } from './helpers';

test('docs on the sample: each migration with its status and schema effect, and the ER diagram; the same bytes every time', () => {
  const ws = sampleWorkspace();
  assert.equal(cli(['up', '--to', '2', '--dir', ws]).code, 0);
  const r = cli(['docs', '--dir', ws]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `Wrote ${path.join('docs', 'migrations.md')}`);
  const text = fs.readFileSync(path.join(ws, 'docs', 'migrations.md'), 'utf8');
  const rows = text.split('\n').filter((l) => /^\| \d/.test(l)).map((l) => l.replace(/\| 20\d\d-[^|]*Z \|/, '| <time> |'));
  assert.deepEqual(rows, [
    '| 1 | Create chat_users and chat_messages | applied | <time> | added table chat_messages; added table chat_users |',
    '| 2 | Add is_spammer flag to chat_users | applied | <time> | added column chat_users.is_spammer |',
    '| 3 | Add JSON metadata to chat_users | pending |  | added column chat_users.metadata |',
  ]);
  assert.match(text, /```mermaid\nerDiagram\n {2}chat_messages \{/);
  assert.match(text, /chat_messages }o--\|\| chat_users : "user_id"/);
  // Deterministic: the same migrations and history, the same bytes (so its diff in review is the change).
  assert.equal(cli(['docs', '--out', '-', '--dir', ws]).stdout, text);
  assert.equal(cli(['docs', '--out', '-', '--dir', ws]).stdout, text);
});

test('docs on 1000 migrations: every one documented, the same bytes twice', () => {
  const ws = tempWorkspace(migrationFiles(Array.from({ length: 1000 }, (_, i) => i + 1)));
  const first = cli(['docs', '--out', '-', '--dir', ws]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.split('\n').filter((l) => /^\| \d+ \|.*\| pending \|  \| added table t\d+ \|$/.test(l)).length, 1000);
  assert.equal(cli(['docs', '--out', '-', '--dir', ws]).stdout, first.stdout);
});

test('docs: a migration that fails on the shadow leaves the rest "not replayed", the schema unknown, and nothing outside the workspace is written', async () => {
  const ws = tempWorkspace(migrationFiles([1, 2, 3], { 2: { up: "throw new Error('boom');" } }));
  const report = await engine(ws).docs();
  assert.match(report.text, /\| 1 \| .* \| pending \| {2}\| added table t1 \|/);
  assert.match(report.text, /\| 2 \| .* \| not replayed \|/);
  assert.match(report.text, /Unknown: migration 2 \(versions\) failed on the shadow \(.*boom.*\)/);
  const outside = cli(['docs', '--out', '../escaped.md', '--dir', ws]);
  assert.notEqual(outside.code, 0);
  assert.equal(fs.existsSync(path.join(ws, '..', 'escaped.md')), false);
  // In an untrusted workspace docs runs no migration code.
  await assert.rejects(engine(ws, { untrusted: true }).docs(), /not trusted/);
});
