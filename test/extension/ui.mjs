// UI end-to-end: packages the VSIX, installs it into code-server, opens a copy of the
// sample workspace in Chromium and drives the workbench as a user would: the activity
// bar, the tree, the view's title action, the command palette, a broken file's squiggle.
// Then a day of use in a fresh workspace (create, type, save, apply, fix a failure, Verify, roll
// back past its warning, switch to PostgreSQL, preview, an empty folder), a screenshot per step.
// Screenshots go to test-results/ (git-ignored); the diagnostic one becomes media/screenshot.png
// and the Show History one media/history.png when missing or UPDATE_SCREENSHOT is set; the day's
// kept in media/ (media/day-*.png) are refreshed when UPDATE_SCREENSHOT is set.
//
//   node test/extension/ui.mjs     (after `node scripts/build.mjs`)
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { installVsix, launchChromium, packageVsix, profileDirs, ROOT, startCodeServer, tempDir, waitFor, workbenchUrl } from '../../scripts/vscode-host.mjs';

const RESULTS = path.join(ROOT, 'test-results');
const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'sample');
const EXTENSION_ID = 'migration-manager.migration-manager';
const SAMPLE_ROWS = ['001 Create chat_users and chat_messages', '002 Add is_spammer flag to chat_users', '003 Add JSON metadata to chat_users'];
/** The database servers on loopback, reached as their trusted admin users (as test/servers.ts does). */
const SERVERS = [
  { name: 'PostgreSQL', client: 'pg', port: 5432, user: 'postgres', adminDatabase: 'postgres' },
  { name: 'MariaDB', client: 'mysql2', port: 3306, user: 'root' },
];

/** knex on `database` as the server's admin, from the repository's node_modules (the test's, not the extension's). */
async function serverKnex(server, database) {
  const { default: knex } = await import('knex');
  return knex({ client: server.client, connection: { host: '127.0.0.1', port: server.port, user: server.user, database }, pool: { min: 0, max: 1 } });
}

/** `2025-01-02 03:04:05.678` (local time, as VS Code logs) to epoch ms. */
function logTime(line) {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})/.exec(line);
  return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime() : undefined;
}

/** When the extension host activated the extension, from its log (undefined when not logged). */
function activationTime(userData) {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (/exthost\.log$/i.test(e.name)) files.push(path.join(dir, e.name));
    }
  };
  walk(path.join(userData, 'logs'));
  for (const file of files) {
    const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.includes(`ExtensionService#_doActivateExtension ${EXTENSION_ID}`));
    if (line) return logTime(line);
  }
  return undefined;
}

/** A migration file whose up() runs `up` (one line) and whose down() does nothing. */
function migrationFile(name, version, description, up) {
  return `import type { Knex } from 'knex';

export class ${name} {
  readonly version = ${version};
  readonly description = '${description}';

  async up(knex: Knex): Promise<void> {
    ${up}
  }

  async down(): Promise<void> {}
}

export function getMigration() {
  return ${name};
}
`;
}

/** Drags the side bar's edge so the tree's labels are not cut in the screenshots. */
async function widenSideBar(page) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 180, y, { steps: 5 });
  await page.mouse.up();
}

/** Runs the UI steps; every step is one counted test, and the ones after a failure count as failed. */
export async function runUiTest({ print = console.log } = {}) {
  const tests = [];
  const metrics = {};
  let broken;
  const step = async (title, fn) => {
    const started = Date.now();
    if (broken) {
      tests.push({ title, state: 'failed', error: `not run: "${broken}" failed before it` });
      return;
    }
    try {
      await fn();
      tests.push({ title, state: 'passed', durationMs: Date.now() - started });
    } catch (err) {
      broken = title;
      tests.push({ title, state: 'failed', error: err.stack ?? String(err) });
    }
  };

  fs.mkdirSync(RESULTS, { recursive: true });
  const base = tempDir('mm-ui-');
  const dirs = profileDirs(path.join(base, 'profile'));
  const workspace = path.join(base, 'workspace');
  fs.cpSync(path.join(SAMPLE, 'versions'), path.join(workspace, 'versions'), { recursive: true });
  // A test profile: no welcome page, and no TypeScript squiggles about `knex` (the sample has no node_modules).
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'typescript.validate.enable': false,
    'editor.minimap.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    // The day types code into the editor: what is typed is what lands in the file (no closing
    // bracket or quote added, no suggestion accepted, no indentation redone).
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'editor.autoSurround': 'never',
    'editor.autoIndent': 'none',
    'editor.formatOnType': false,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.parameterHints.enabled': false,
  }, null, 2));

  let server;
  /** The day's PostgreSQL admin connection, once it made the day's database (dropped at the end). */
  let dayAdmin;
  let codeServer;
  let browser;
  let page;
  const shot = async (name) => {
    const file = path.join(RESULTS, `ui-${name}.png`);
    await page.screenshot({ path: file });
    // The day's pictures kept in media/ (for the README) are refreshed when asked; which are kept is chosen by hand.
    const kept = path.join(ROOT, 'media', `${name}.png`);
    if (name.startsWith('day-') && process.env.UPDATE_SCREENSHOT && fs.existsSync(kept)) fs.copyFileSync(file, kept);
    return file;
  };
  const row = (label) => page.locator('.monaco-list-row', { hasText: label });
  const statusOf = async (label) => (await row(label).locator('.label-description').first().textContent({ timeout: 1000 }))?.trim();
  const rowStatus = (label, status, timeoutMs = 20_000) => waitFor(`the tree row "${label}" to show ${status}`, async () => (await statusOf(label).catch(() => undefined)) === status, { timeoutMs });

  try {
    /**
     * F1, then `text` typed into the quick input. A key press that lands while the workbench is still
     * moving focus (a quick input closing, an editor opening) can be dropped, and a quick input opened
     * just then can close again before it is filled (each seen once in a clean-clone run, at the first
     * edit after Create Migration opened its file): the press is repeated until the input shows and
     * takes the text. Pressing F1 on an open palette keeps it open.
     */
    const quickInput = async (text) => {
      const input = page.locator('.quick-input-widget input');
      const until = Date.now() + 20_000;
      for (;;) {
        await page.keyboard.press('F1');
        try {
          await input.waitFor({ timeout: 2_000 });
          await input.fill(text, { timeout: 2_000 });
          return input;
        } catch (error) {
          if (Date.now() > until) throw error;
        }
      }
    };
    /** Runs a command from the palette; returns the quick input, where its prompt then asks. */
    const paletteCommand = async (title) => {
      const input = await quickInput(`>${title}`);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      return input;
    };

    await step('the VSIX packages with no native binary and installs into code-server', async () => {
      const packed = packageVsix(base);
      metrics.vsixBytes = packed.bytes;
      metrics.vsixFiles = packed.files;
      await installVsix(packed.vsix, dirs);
      const installed = fs.readdirSync(dirs.extensions).find((d) => d.startsWith(`${EXTENSION_ID}-`));
      if (!installed) throw new Error(`not installed in ${dirs.extensions}: ${fs.readdirSync(dirs.extensions).join(', ')}`);
      const native = fs.readdirSync(path.join(dirs.extensions, installed), { recursive: true }).filter((f) => String(f).endsWith('.node'));
      if (native.length > 0) throw new Error(`the installed extension holds native binaries: ${native.join(', ')}`);
    });

    await step('the workbench opens the sample and the Migrations view draws the tree', async () => {
      server = codeServer = await startCodeServer({ dirs });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const opened = Date.now();
      await page.goto(workbenchUrl(server, workspace));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      metrics.workbenchVisibleMs = Date.now() - opened;
      const entry = page.locator('.activitybar [aria-label^="Migrations"]');
      await entry.first().waitFor({ timeout: 30_000 });
      await entry.first().click();
      await widenSideBar(page);
      for (const label of SAMPLE_ROWS) {
        await page.getByText(label, { exact: true }).waitFor({ timeout: 60_000 });
        await rowStatus(label, 'pending');
      }
      const drawn = Date.now();
      metrics.openToTreeMs = drawn - opened;
      const activated = activationTime(dirs.userData);
      // Includes the test opening the view and widening the side bar; the suite measures the extension alone.
      if (activated !== undefined) metrics.activationToRowsSeenMs = drawn - activated;
      await shot('1-tree-pending');
    });

    await step('"Apply All Pending" in the view title applies the three migrations', async () => {
      await page.locator('.monaco-action-bar .action-label[aria-label="Apply All Pending"]').first().click();
      // Once run, labels show the description each migration declares.
      for (const label of ['001 Create chat_users and chat_messages', '002 Add is_spammer flag to chat_users', '003 Add JSON metadata to chat_users']) await rowStatus(label, 'applied');
      await page.getByText('Apply all pending: applied 3 migrations').first().waitFor({ timeout: 20_000 });
      await shot('2-applied');
    });

    await step('Esc on a prompt ends the command quietly: no "Cancelled." error', async () => {
      await paletteCommand('Migrations: Create Migration');
      await page.getByText('Describe the migration').first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Escape');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
      // A later command's toast: once it shows, one raised by the Esc would show too (they stack).
      // Nothing is pending, so the view's Apply button is hidden: the palette's command says so.
      await paletteCommand('Migrations: Apply All Pending');
      await page.getByText('Apply all pending: nothing to do.').first().waitFor({ timeout: 20_000 });
      const errors = await page.locator('.notification-toast', { hasText: 'Cancelled' }).count();
      if (errors > 0) throw new Error(`Esc showed ${errors} "Cancelled." notification(s)`);
    });

    await step('"Migrations: Create Migration" from the palette writes, opens and lists migration 004', async () => {
      const input = await paletteCommand('Migrations: Create Migration');
      await page.getByText('Describe the migration').first().waitFor({ timeout: 10_000 });
      await input.fill('add index');
      await page.keyboard.press('Enter');
      await page.locator('.tab', { hasText: 'migration_004_add_index.ts' }).waitFor({ timeout: 20_000 });
      await page.locator('.view-lines', { hasText: "readonly description = 'add index';" }).first().waitFor({ timeout: 20_000 });
      await rowStatus('004 add index', 'pending');
      if (!fs.existsSync(path.join(workspace, 'versions', 'migration_004_add_index.ts'))) throw new Error('migration_004_add_index.ts is not on disk');
      await shot('3-created');
    });

    await step('a broken migration file gets an error squiggle and a Problems entry', async () => {
      const broken = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'files', 'no-get-migration.ts.txt'), 'utf8').replace('{{version}}', '5');
      fs.writeFileSync(path.join(workspace, 'versions', 'migration_005_add_nicknames.ts'), broken);
      await rowStatus('005 Add nicknames', 'invalid');
      await row('005 Add nicknames').click();
      await page.locator('.tab', { hasText: 'migration_005_add_nicknames.ts' }).waitFor({ timeout: 20_000 });
      await page.locator('.squiggly-error').first().waitFor({ timeout: 20_000 });
      await page.keyboard.press('Control+Shift+M');
      await page.locator('.markers-panel').getByText(/No getMigration export/).first().waitFor({ timeout: 20_000 });
      const file = await shot('4-diagnostic');
      // The README's image: written when missing or asked for, so a test run leaves the tree clean.
      const readmeShot = path.join(ROOT, 'media', 'screenshot.png');
      if (!fs.existsSync(readmeShot) || process.env.UPDATE_SCREENSHOT) fs.copyFileSync(file, readmeShot);
    });

    await step('"Migrations: Show History" draws the runs as a timeline, a colour per source, filterable in the page, following new runs', async () => {
      const applyAll = page.locator('.monaco-action-bar .action-label[aria-label="Apply All Pending"]').first();
      fs.rmSync(path.join(workspace, 'versions', 'migration_005_add_nicknames.ts'));
      await row('005 Add nicknames').waitFor({ state: 'detached', timeout: 20_000 });
      await applyAll.click();
      await rowStatus('004 add index', 'applied');
      // Then a second source whose second migration fails: two colours and an error in the picture.
      // It moves in whole, as a checkout or a copy brings it.
      const staged = path.join(base, 'staged', 'billing');
      fs.mkdirSync(path.join(staged, 'versions'), { recursive: true });
      fs.writeFileSync(path.join(staged, 'versions', 'migration_001_create_invoices.ts'), migrationFile('CreateInvoices', 1, 'Create invoices', "await knex.schema.createTable('invoices', (t) => { t.increments('id'); t.integer('total_cents'); });"));
      fs.writeFileSync(path.join(staged, 'versions', 'migration_002_backfill_invoice_totals.ts'), migrationFile('BackfillTotals', 2, 'Backfill invoice totals', "await knex.raw('update invoices set total_cents = amount * 100');"));
      fs.renameSync(staged, path.join(workspace, 'billing'));
      await rowStatus('002 Backfill invoice totals', 'pending');
      await applyAll.click();
      await rowStatus('001 Create invoices', 'applied');
      await rowStatus('002 Backfill invoice totals', 'failed');
      // Room for the page: no Problems panel, no toasts over it.
      await paletteCommand('View: Toggle Panel Visibility');
      await paletteCommand('Notifications: Clear All Notifications');
      await paletteCommand('Migrations: Show History');
      await page.locator('.tab', { hasText: 'History: workspace' }).waitFor({ timeout: 20_000 });
      // A webview is an iframe inside an iframe: the frame holding the timeline is the page.
      // A redraw swaps the inner frame, so it is looked up afresh each time.
      const marks = (f) => f.locator('#timeline .mark');
      const timeline = async () => {
        for (const f of page.frames()) if (!f.isDetached() && (await marks(f).count().catch(() => 0)) > 0) return f;
        return undefined;
      };
      const frame = await waitFor('the history webview to draw its timeline', timeline);
      const drawn = await marks(frame).evaluateAll((els) => els.map((e) => `${e.dataset.direction} ${e.dataset.source} ${e.dataset.version} ${e.dataset.outcome}`));
      const expected = ['up versions 1 ok', 'up versions 2 ok', 'up versions 3 ok', 'up versions 4 ok', 'up billing/versions 1 ok', 'up billing/versions 2 failed'];
      if (drawn.length !== expected.length || !expected.every((m) => drawn.includes(m))) throw new Error(`the timeline shows ${JSON.stringify(drawn)}`);
      const hover = await marks(frame).filter({ hasText: 'Backfill invoice totals' }).getAttribute('title');
      if (!/no such column: amount/.test(hover ?? '')) throw new Error(`the failed mark's hover lacks its error: ${hover}`);
      // The filter works in the page: billing off hides its two marks, on brings them back.
      const billingBox = frame.locator('#sources input[data-filter="billing/versions"]');
      await billingBox.uncheck();
      await waitFor('billing/versions to be filtered out', async () => (await frame.locator('#timeline .mark:visible').count()) === 4, { timeoutMs: 5000 });
      await billingBox.check();
      await waitFor('billing/versions to come back', async () => (await frame.locator('#timeline .mark:visible').count()) === 6, { timeoutMs: 5000 });
      const file = await shot('history');
      const readmeShot = path.join(ROOT, 'media', 'history.png');
      if (!fs.existsSync(readmeShot) || process.env.UPDATE_SCREENSHOT) fs.copyFileSync(file, readmeShot);
      // The open page follows the model: another (failing) run adds its mark without reopening it.
      await applyAll.click();
      await waitFor('the open history to draw the new run', async () => (await marks(await timeline()).count()) === 7, { timeoutMs: 20_000 });
    });

    // The installed extension has no node_modules: the runner child must bring its own drivers
    // (issue: "Cannot find module 'pg'" after Select Database → PostgreSQL). Each server gets a
    // fresh workspace copy whose settings name a fresh database on loopback.
    for (const dbServer of SERVERS) {
      await step(`on ${dbServer.name}, the installed VSIX previews SQL, applies and checks drift (its drivers are bundled)`, async () => {
        const name = `mm_ui_${process.pid}_${dbServer.client === 'pg' ? 'pg' : 'my'}`;
        const admin = await serverKnex(dbServer, dbServer.adminDatabase);
        try {
          await admin.raw(`drop database if exists ${name}`);
          await admin.raw(`create database ${name}`);
          const ws = path.join(base, `workspace-${dbServer.client}`);
          fs.cpSync(path.join(SAMPLE, 'versions'), path.join(ws, 'versions'), { recursive: true });
          fs.mkdirSync(path.join(ws, '.vscode'));
          fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({
            'migrations.client': dbServer.client,
            'migrations.connection': { host: '127.0.0.1', port: dbServer.port, user: dbServer.user, database: name },
          }, null, 2));
          await page.goto(workbenchUrl(codeServer, ws));
          await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
          await page.locator('.activitybar [aria-label^="Migrations"]').first().click();
          for (const label of SAMPLE_ROWS) await rowStatus(label, 'pending', 60_000);

          await paletteCommand('Migrations: Preview SQL');
          if (dbServer.client === 'pg') {
            await page.locator('.view-lines', { hasText: 'create table "chat_users"' }).first().waitFor({ timeout: 30_000 });
          } else {
            // MySQL commits DDL as it goes: the dry run is refused by design, with its reason.
            await page.locator('.notification-toast', { hasText: 'A dry run is not available on MySQL/MariaDB' }).first().waitFor({ timeout: 30_000 });
          }
          await paletteCommand('Notifications: Clear All Notifications');

          await page.locator('.monaco-action-bar .action-label[aria-label="Apply All Pending"]').first().click();
          for (const label of SAMPLE_ROWS) await rowStatus(label, 'applied', 60_000);
          // The history on the server itself says so, not only the tree.
          const db = await serverKnex(dbServer, name);
          try {
            const n = Number(Object.values((await db('migration_history').where({ success: true }).count({ n: '*' }))[0])[0]);
            if (n !== 3) throw new Error(`${name}.migration_history holds ${n} success rows, not 3`);
          } finally {
            await db.destroy();
          }

          await paletteCommand('Migrations: Check Drift');
          await page.getByText('No drift: the database is what its migrations make.').first().waitFor({ timeout: 60_000 });
          const missing = await page.locator('.notification-toast', { hasText: /Cannot find module|npm install/ }).count();
          if (missing > 0) throw new Error('a notification says a driver module is missing');
          await shot(`${dbServer.client}-applied`);
        } finally {
          await admin.raw(dbServer.client === 'pg' ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`).catch(() => {});
          await admin.destroy();
        }
      });
    }

    // A day of use (issue 20's proof), in a fresh copy of the sample on SQLite, then PostgreSQL:
    // the user's own keystrokes and clicks, a screenshot per step (test-results/ui-day-*.png).
    const day = path.join(base, 'workspace-day');
    const dayVersions = path.join(day, 'versions');
    const dayFile = (n, name) => path.join(dayVersions, `migration_${String(n).padStart(3, '0')}_${name}.ts`);
    const dayDatabase = `mm_ui_${process.pid}_day`;
    const pgServer = SERVERS.find((s) => s.client === 'pg');
    const applyAll = async () => {
      await page.locator('.monaco-action-bar .action-label[aria-label="Apply All Pending"]').first().click();
      // Off the title bar: once nothing is pending the button hides, and Roll Back Last slides under the pointer.
      await page.mouse.move(1300, 470);
    };
    const problems = page.locator('.markers-panel');
    const sidebar = page.locator('.part.sidebar');
    // The engine's own check of a folder's migrations.sum against its files (the core as the test build transpiled it; not in the package's public entry).
    const { checkSum } = createRequire(import.meta.url)(path.join(ROOT, 'out', 'src', 'core', 'index.js'));
    const migrationFiles = () => fs.readdirSync(dayVersions).filter((f) => f.startsWith('migration_')).map((f) => ({ path: path.join(dayVersions, f) }));
    /** A day's screenshot once the run's progress notification has closed (it outlives its result a moment), the mouse off the view. */
    const dayShot = async (name) => {
      await page.locator('.notification-toast .monaco-button', { hasText: /^Cancel$/ }).first().waitFor({ state: 'detached', timeout: 20_000 });
      await page.mouse.move(1300, 470);
      return shot(name);
    };
    /** Creates a migration as the user does: the palette, its description typed; returns its file once open. */
    const createInEditor = async (version, description, name) => {
      const input = await paletteCommand('Migrations: Create Migration');
      await page.getByText('Describe the migration').first().waitFor({ timeout: 10_000 });
      await input.fill(description);
      await page.keyboard.press('Enter');
      const file = dayFile(version, name);
      await page.locator('.tab', { hasText: path.basename(file) }).waitFor({ timeout: 20_000 });
      await rowStatus(`${String(version).padStart(3, '0')} ${description}`, 'pending');
      return file;
    };
    /**
     * Replaces the line of `file` holding `marker` by `text` (its indentation kept) by typing in its
     * editor, then saves with Ctrl+S; returns once the file on disk holds the typed line.
     */
    const typeOver = async (file, marker, text) => {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.includes(marker));
      if (at < 0) throw new Error(`${path.basename(file)} has no line holding ${marker}`);
      await page.locator('.tab', { hasText: path.basename(file) }).click();
      // Its editor has the focus (a file just opened takes it a moment later, closing a quick input opened before).
      await page.locator('.editor-group-container.active .monaco-editor.focused').first().waitFor({ timeout: 10_000 });
      // Go to Line (":<line>" in the quick input), the line's text selected, typed over.
      await quickInput(`:${at + 1}`);
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.type(text);
      await page.keyboard.press('Control+S');
      const expected = `${/^\s*/.exec(lines[at])[0]}${text}`;
      await waitFor(`${path.basename(file)} saved with the typed line`, () => fs.readFileSync(file, 'utf8').split('\n')[at] === expected, { timeoutMs: 10_000 });
      await page.locator('.tab.dirty', { hasText: path.basename(file) }).waitFor({ state: 'detached', timeout: 10_000 });
    };

    await step('day 1: "Create Migration" from the palette in a fresh workspace opens migration 004', async () => {
      fs.cpSync(path.join(SAMPLE, 'versions'), dayVersions, { recursive: true });
      await page.goto(workbenchUrl(codeServer, day));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.activitybar [aria-label^="Migrations"]').first().click();
      for (const label of SAMPLE_ROWS) await rowStatus(label, 'pending', 60_000);
      // Wide enough for "pending · irreversible" beside its label (the width may carry over from the first window).
      if (((await sidebar.boundingBox())?.width ?? 0) < 400) await widenSideBar(page);
      const file = await createInEditor(4, 'add loyalty points', 'add_loyalty_points');
      await page.locator('.view-lines', { hasText: "readonly description = 'add loyalty points';" }).first().waitFor({ timeout: 20_000 });
      if (!fs.existsSync(path.join(dayVersions, 'migrations.sum'))) throw new Error('Create Migration wrote no migrations.sum');
      if (!fs.readFileSync(file, 'utf8').includes('async up(')) throw new Error(`${file} holds no up()`);
      await dayShot('day-1-create');
    });

    await step('day 2: its up() and down() typed in the editor and saved: migrations.sum follows, no sum problem, no squiggle', async () => {
      const file = dayFile(4, 'add_loyalty_points');
      const sumFile = path.join(dayVersions, 'migrations.sum');
      const sumBefore = fs.readFileSync(sumFile, 'utf8');
      // The Problems panel open, as it stays all day.
      await page.keyboard.press('Control+Shift+M');
      await problems.waitFor({ timeout: 20_000 });
      await typeOver(file, '// e.g.', "await knex.schema.alterTable('chat_users', (t) => { t.integer('loyalty_points'); });");
      await typeOver(file, '// Undo exactly', "await knex.schema.alterTable('chat_users', (t) => { t.dropColumn('loyalty_points'); });");
      // The save of a migration applied nowhere rewrites the sum (the editor's doing, no rehash asked)...
      await waitFor('migrations.sum to agree with the saved file', () => checkSum(dayVersions, migrationFiles()).length === 0 && fs.readFileSync(sumFile, 'utf8') !== sumBefore, { timeoutMs: 10_000 });
      // ...so nothing is left to report: no "sum-edited … run `migrations rehash`" on line 1.
      await problems.getByText('No problems have been detected in the workspace.').waitFor({ timeout: 20_000 });
      const squiggles = await page.locator('.editor-group-container.active .squiggly-error, .editor-group-container.active .squiggly-warning').count();
      if (squiggles > 0) throw new Error(`the saved migration shows ${squiggles} squiggle(s)`);
      await rowStatus('004 add loyalty points', 'pending');
      await dayShot('day-2-edited');
    });

    await step('day 3: "Apply All Pending" applies 001-004 (a sum problem would have blocked it)', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      await applyAll();
      for (const label of [...SAMPLE_ROWS, '004 add loyalty points']) await rowStatus(label, 'applied');
      await page.getByText('Apply all pending: applied 4 migrations').first().waitFor({ timeout: 20_000 });
      await dayShot('day-3-applied');
    });

    await step('day 4: a failing migration shows "failed"; fixed in the editor and applied, its row reads "applied", nothing stale', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      const file = await createInEditor(5, 'backfill loyalty points', 'backfill_loyalty_points');
      await typeOver(file, '// e.g.', "await knex.raw('update chat_users set loyalty_points = points * 10');");
      await applyAll();
      await rowStatus('005 backfill loyalty points', 'failed');
      await page.locator('.notification-toast', { hasText: 'no such column: points' }).first().waitFor({ timeout: 20_000 });
      await dayShot('day-4-failed');
      await paletteCommand('Notifications: Clear All Notifications');
      await typeOver(file, 'points * 10', "await knex.raw('update chat_users set loyalty_points = 100');");
      await applyAll();
      await rowStatus('005 backfill loyalty points', 'applied');
      await page.getByText('Apply all pending: applied 005 backfill loyalty points').first().waitFor({ timeout: 20_000 });
      await problems.getByText('No problems have been detected in the workspace.').waitFor({ timeout: 20_000 });
      await dayShot('day-4-fixed');
    });

    await step('day 5: Verify on a migration whose down() leaves a column: the finding is in the Problems panel and on its row', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      const file = await createInEditor(6, 'add nickname', 'add_nickname');
      // up() adds a column; down() is left as the template has it (it undoes nothing).
      await typeOver(file, '// e.g.', "await knex.schema.alterTable('chat_users', (t) => { t.string('nickname'); });");
      // From the palette, Verify checks the migration open in the editor.
      await paletteCommand('Migrations: Verify (Reversible on a Shadow Database)');
      await rowStatus('006 add nickname', 'pending · irreversible', 60_000);
      const toast = page.locator('.notification-toast', { hasText: 'down() leaves column chat_users.nickname' }).first();
      await toast.waitFor({ timeout: 20_000 });
      await toast.locator('.monaco-button', { hasText: 'Show Problems' }).click();
      await problems.getByText(/down\(\) leaves column chat_users\.nickname/).first().waitFor({ timeout: 20_000 });
      await page.locator('.editor-group-container.active .squiggly-warning').first().waitFor({ timeout: 20_000 });
      await dayShot('day-5-verify');
    });

    await step('day 6: applied, then Roll Back Last warns in its dialog that 006 is irreversible; accepted, the row reads "pending"', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      await applyAll();
      await rowStatus('006 add nickname', 'applied');
      await page.locator('.monaco-action-bar .action-label[aria-label="Roll Back Last"]').first().click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 20_000 });
      const said = (await dialog.textContent()) ?? '';
      if (!/006 add nickname/.test(said) || !/irreversible/.test(said) || !/chat_users\.nickname/.test(said)) throw new Error(`the rollback dialog says: ${said}`);
      await dayShot('day-6-rollback-warning');
      await dialog.locator('.monaco-button', { hasText: /^Roll Back$/ }).click();
      await dialog.waitFor({ state: 'detached', timeout: 10_000 });
      // Exactly "pending": the verify result of before the apply does not come back.
      await rowStatus('006 add nickname', 'pending');
      await page.getByText('Roll back last: rolled back 006 add nickname').first().waitFor({ timeout: 20_000 });
    });

    await step('day 7: Select Database → PostgreSQL: the SQLite drift and verify results leave the view', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      // On SQLite: the column down() left is drift, and Verify (from the row) flags 006 again.
      await paletteCommand('Migrations: Check Drift');
      await sidebar.locator('.monaco-list-row', { hasText: 'exists only in the database: column chat_users.nickname' }).waitFor({ timeout: 60_000 });
      await row('006 add nickname').hover();
      await row('006 add nickname').locator('.action-label[aria-label^="Verify"]').click();
      await rowStatus('006 add nickname', 'pending · irreversible', 60_000);
      await problems.getByText(/down\(\) leaves column chat_users\.nickname/).first().waitFor({ timeout: 20_000 });
      // The tree and the Problems panel say it all: no toasts over them.
      await page.locator('.notification-toast .monaco-button', { hasText: /^Cancel$/ }).first().waitFor({ state: 'detached', timeout: 20_000 });
      await paletteCommand('Notifications: Clear All Notifications');
      await dayShot('day-7-sqlite-results');
      dayAdmin = await serverKnex(pgServer, pgServer.adminDatabase);
      await dayAdmin.raw(`drop database if exists ${dayDatabase}`);
      await dayAdmin.raw(`create database ${dayDatabase}`);
      await paletteCommand('Notifications: Clear All Notifications');
      await paletteCommand('Migrations: Select Database');
      const input = page.locator('.quick-input-widget input');
      const title = page.locator('.quick-input-widget .quick-input-title');
      const answer = async (asked, value) => {
        await title.filter({ hasText: asked }).waitFor({ timeout: 10_000 });
        if (value !== undefined) await input.fill(value);
        await page.keyboard.press('Enter');
      };
      await title.filter({ hasText: /^Migrations database for/ }).waitFor({ timeout: 10_000 });
      await input.fill('PostgreSQL');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'PostgreSQL' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await answer(/^Host$/);
      await answer(/^Port$/);
      await answer(/^User$/, pgServer.user);
      await answer(/^Database$/, dayDatabase);
      await answer(/^Password/);
      await page.locator('.notification-toast', { hasText: `Migrations database: pg` }).first().waitFor({ timeout: 20_000 });
      // The new database has nothing applied: every row exactly "pending", no "· irreversible"...
      for (const label of [...SAMPLE_ROWS, '004 add loyalty points', '005 backfill loyalty points', '006 add nickname']) await rowStatus(label, 'pending', 60_000);
      // ...and no SQLite drift.
      const stale = await sidebar.locator('.monaco-list-row', { hasText: /^(Drift|No drift)|chat_users\.nickname/ }).count();
      if (stale > 0) throw new Error(`${stale} row(s) still show the SQLite drift`);
      // ...nor its Verify finding in the Problems panel.
      await problems.getByText('No problems have been detected in the workspace.').waitFor({ timeout: 20_000 });
      const settings = JSON.parse(fs.readFileSync(path.join(day, '.vscode', 'settings.json'), 'utf8'));
      if (settings['migrations.client'] !== 'pg' || settings['migrations.connection']?.database !== dayDatabase) throw new Error(`.vscode/settings.json holds ${JSON.stringify(settings)}`);
      await dayShot('day-7-postgres');
    });

    await step('day 8: Preview SQL is a read-only SQL view, and previewing again reuses its tab', async () => {
      await paletteCommand('Notifications: Clear All Notifications');
      const previewTab = page.locator('.tab', { hasText: 'up 006 add nickname.sql' });
      const preview = async () => {
        await row('006 add nickname').hover();
        await row('006 add nickname').locator('.action-label[aria-label="Preview SQL"]').click();
        await page.locator('.tab.active', { hasText: 'up 006 add nickname.sql' }).waitFor({ timeout: 60_000 });
      };
      await preview();
      await page.locator('.view-lines', { hasText: 'create table "chat_users"' }).first().waitFor({ timeout: 30_000 });
      await page.locator('#status\\.editor\\.mode', { hasText: 'SQL' }).waitFor({ timeout: 10_000 });
      // Kept open (not a preview tab), so a second tab could not hide by replacing it.
      await paletteCommand('View: Keep Editor');
      // A keystroke is refused: the view is read-only (no untitled document to be asked to save).
      await page.locator('.editor-group-container.active .view-lines').first().click({ position: { x: 40, y: 185 } });
      await page.keyboard.type('x');
      await page.getByText('Cannot edit in read-only editor').first().waitFor({ timeout: 10_000 });
      if (await page.locator('.tab.dirty').count() > 0) throw new Error('a tab is dirty after typing in the preview');
      await dayShot('day-8-preview');
      // Another editor active, then the same preview again: its tab comes back, no second one.
      await page.locator('.tab', { hasText: 'migration_006_add_nickname.ts' }).click();
      await preview();
      const tabs = await previewTab.count();
      if (tabs !== 1) throw new Error(`previewing twice left ${tabs} tabs`);
    });

    await step('day 9: an empty folder shows the welcome view: "No migrations yet" and Create Migration', async () => {
      const empty = path.join(base, 'workspace-empty');
      fs.mkdirSync(empty);
      await page.goto(workbenchUrl(codeServer, empty));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.activitybar [aria-label^="Migrations"]').first().click();
      const welcome = page.locator('.welcome-view-content');
      await welcome.getByText(/No migrations yet/).waitFor({ timeout: 60_000 });
      await welcome.locator('.monaco-button', { hasText: 'Create Migration' }).waitFor({ timeout: 10_000 });
      if (await page.locator('.monaco-action-bar .action-label[aria-label="Apply All Pending"]').count() > 0) throw new Error('the empty view shows Apply All Pending');
      await dayShot('day-9-empty');
    });
  } finally {
    if (broken && page) await shot('failure').catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    if (dayAdmin) {
      await dayAdmin.raw(`drop database if exists mm_ui_${process.pid}_day with (force)`).catch(() => {});
      await dayAdmin.destroy();
    }
    if (!process.env.KEEP_VSCODE_TEMP) fs.rmSync(base, { recursive: true, force: true });
  }
  const passed = tests.filter((t) => t.state === 'passed').length;
  const result = { suite: 'ui', passed, failed: tests.length - passed, tests, metrics };
  if (result.failed > 0 && server) print(server.output().split('\n').slice(-30).join('\n'));
  return result;
}

if (path.resolve(process.argv[1] ?? '') === import.meta.filename) {
  const result = await runUiTest();
  for (const t of result.tests) console.log(`  ${t.state === 'passed' ? '✔' : '✖'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}${t.error ? `\n${t.error.replace(/^/gm, '      ')}` : ''}`);
  for (const [k, v] of Object.entries(result.metrics)) console.log(`ui ${k}: ${v}`);
  console.log(`\n${result.passed} passed, ${result.failed} failed`);
  process.exitCode = result.failed > 0 || result.passed === 0 ? 1 : 0;
}
