// Verify and lint act on what was asked, and one source's failure neither stops nor hides the others.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { MigrationEngine, VerifyReport } from '../src/core';
import { cli, engine as makeEngine, tempWorkspace, tsMigration } from './helpers';

const closing: MigrationEngine[] = [];
after(() => Promise.all(closing.map((e) => e.close())));

const outcomes = (report: VerifyReport) => report.migrations.map((m) => `${m.source} ${m.version} ${m.outcome}`);

/** Two sources: billing's first pending migration fails, versions' are fine. */
function twoSources(): MigrationEngine {
  const e = makeEngine(twoSourceFiles());
  closing.push(e);
  return e;
}

function twoSourceFiles(): string {
  return tempWorkspace({
    'billing/versions/migration_001_invoices.ts': tsMigration(1, 'invoices', { up: "throw new Error('billing is broken');" }),
    'billing/versions/migration_002_payments.ts': tsMigration(2, 'payments'),
    'versions/migration_001_users.ts': tsMigration(1, 'users'),
    'versions/migration_007_notes.ts': tsMigration(7, 'notes'),
  });
}

test('verify of everything: a failing source stops only its own later migrations; the other source is still verified', async () => {
  const report = await twoSources().verify();
  assert.deepEqual(outcomes(report).sort(), ['billing/versions 1 failed', 'billing/versions 2 not-run', 'versions 1 reversible', 'versions 7 reversible']);
});

test('verify and lint of one source, or one migration of it: another source\'s failure is neither run nor reported', async () => {
  const e = twoSources();
  assert.deepEqual(outcomes(await e.verify({ source: 'versions', version: 7 })), ['versions 7 reversible']);
  assert.deepEqual(outcomes(await e.verify({ source: 'versions' })), ['versions 1 reversible', 'versions 7 reversible']);
  const lint = await e.lint({ source: 'versions', version: 7 });
  assert.deepEqual(outcomes(lint), ['versions 7 checked']);
  assert.equal(lint.ok, true);
  // The failing source asked about: its own failure is what is said.
  assert.deepEqual(outcomes(await e.verify({ source: 'billing/versions', version: 2 })), ['billing/versions 1 failed', 'billing/versions 2 not-run']);
});

test('the CLI\'s last line counts what was checked and what was not, never "no errors" over migrations that did not run', () => {
  const ws = twoSourceFiles();
  const lint = cli(['lint'], { cwd: ws });
  assert.equal(lint.code, 1);
  assert.match(lint.stdout, /\nNo lint errors in 2 migrations; 2 not linted \(1 failed on the shadow, 1 after a failed migration of the same source\)\.\n?$/);
  const verify = cli(['verify'], { cwd: ws });
  assert.equal(verify.code, 1);
  assert.match(verify.stdout, /\n2 of 3 migrations reversible; 1 not verified \(after a failed migration of the same source\)\.\n?$/);
  assert.match(cli(['verify', '--source', 'versions'], { cwd: ws }).stdout, /\nEvery migration is reversible\.\n?$/);
});
