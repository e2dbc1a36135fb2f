import * as assert from 'node:assert/strict';
import { suite, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { HistoryRow } from '../../../src/core';
// The module as compiled beside this suite: the same code as the bundle's, in this host.
import { escapeHtml, HISTORY_VIEW_TYPE, historyHtml, type HistoryShown } from '../../../src/extension/historyView';
import { api, folder, states, waitFor } from './helpers';

// Runs after run.test.js, which leaves ups, downs, failures (with errors) and Mark Applied /
// Forget rows in the sample's history: the page is checked against that history as read.

interface Mark {
  readonly classes: string[];
  readonly id: number;
  readonly source: string;
  readonly version: number;
  readonly direction: string;
  readonly outcome: string;
  readonly title: string;
}

/** The marks in page order, read from their attributes (the page's contract with its script and tests). */
function marks(html: string): Mark[] {
  const re = /<li class="mark ([^"]*)"[^>]*? data-id="(\d+)" data-source="([^"]*)" data-version="(\d+)" data-direction="(\w+)" data-outcome="(\w+)"[^>]*? title="([^"]*)">/g;
  return [...html.matchAll(re)].map((m) => ({ classes: m[1].split(' '), id: +m[2], source: m[3], version: +m[4], direction: m[5], outcome: m[6], title: m[7] }));
}

const outcomeOf = (r: HistoryRow) => (r.manual ? 'manual' : r.skipped ? 'skipped' : r.success ? 'ok' : 'failed');
const filterSources = (html: string) => [...html.matchAll(/<input type="checkbox" data-filter="([^"]*)"/g)].map((m) => m[1]);
const historyTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(HISTORY_VIEW_TYPE));

function row(id: number, over: Partial<HistoryRow>): HistoryRow {
  return {
    id, source: 'versions', version: id, description: `migration ${id}`, checksum: null, direction: 'up',
    startedAt: `2025-01-02T03:04:0${id}.000Z`, finishedAt: `2025-01-02T03:04:0${id}.010Z`, durationMs: 10,
    success: true, error: null, transactional: true, partial: false, manual: false, skipped: false, running: false, ...over,
  };
}

suite('Show History', () => {
  suiteTeardown(async () => {
    for (const tab of historyTabs()) await vscode.window.tabGroups.close(tab);
  });

  test('draws one mark per history row, newest at the top, each with its source, version, direction and outcome; a failure carries its error on hover', async () => {
    const { model } = await api();
    const rows = await model.engine(folder()).history();
    assert.ok(rows.some((r) => !r.success && r.error) && rows.some((r) => r.manual), `run.test.js left no failure or manual row: ${rows.length} row(s)`);
    const shown = await vscode.commands.executeCommand<HistoryShown>('migrations.showHistory');
    assert.ok(shown, 'the command returned nothing (it failed: see the Migrations log)');
    assert.deepEqual(shown.rows.map((r) => r.id), rows.map((r) => r.id));
    const drawn = marks(shown.html);
    const newestFirst = [...rows].sort((a, b) => b.id - a.id);
    assert.deepEqual(drawn.map((m) => [m.id, m.source, m.version, m.direction, m.outcome]), newestFirst.map((r) => [r.id, escapeHtml(r.source), r.version, r.direction, outcomeOf(r)]));
    for (const [i, r] of newestFirst.entries()) {
      assert.ok(drawn[i].classes.includes(outcomeOf(r)) && drawn[i].classes.includes(r.direction), `mark ${r.id} is not drawn as ${outcomeOf(r)} ${r.direction}: ${drawn[i].classes}`);
      if (r.error) assert.ok(drawn[i].title.includes(escapeHtml(r.error)), `mark ${r.id}'s hover lacks its error: ${drawn[i].title}`);
    }
    assert.ok(drawn.some((m) => m.outcome === 'failed' && m.title.includes('explode: intentional failure in up()')));
  });

  test('the source filter lists exactly the sources in the rows', async () => {
    const shown = await vscode.commands.executeCommand<HistoryShown>('migrations.showHistory');
    assert.ok(shown);
    assert.deepEqual(filterSources(shown.html), [...new Set(shown.rows.map((r) => r.source))].sort().map(escapeHtml));
  });

  test('the page runs only its own nonce\'d style and script: nothing remote, no handlers in attributes', async () => {
    const shown = await vscode.commands.executeCommand<HistoryShown>('migrations.showHistory');
    assert.ok(shown);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(shown.html)?.[1];
    assert.ok(csp, 'no Content-Security-Policy meta tag');
    const nonce = /'nonce-([A-Za-z0-9+/_=-]{16,})'/.exec(csp)?.[1];
    assert.ok(nonce, `no nonce in ${csp}`);
    assert.match(csp, /default-src 'none'/);
    assert.equal(csp, `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';`);
    assert.doesNotMatch(csp, /https?:|\*|unsafe|self/);
    assert.deepEqual([...shown.html.matchAll(/<(script|style)\b([^>]*)>/g)].map((m) => `${m[1]}${m[2]}`), [`style nonce="${nonce}"`, `script nonce="${nonce}"`]);
    assert.doesNotMatch(shown.html, /\s(src|href|style|on\w+)=/i, 'a resource, an inline style attribute or an event-handler attribute');
  });

  test('user text is escaped: <script> in a source, description or error is text, never markup', () => {
    const evil = '</li><script>alert("x")</script><img src=x onerror=alert(1)>';
    const html = historyHtml('<b>folder</b>', [
      row(1, { source: `s"${evil}`, description: evil }),
      row(2, { description: `it's ${evil}`, success: false, error: `boom ${evil}\nsecond "line"` }),
    ], 'abcdefghijklmnopqrstuv', 'https://*.vscode-cdn.net');
    assert.equal(html.match(/<script/g)?.length, 1, 'a <script> other than the page\'s own');
    assert.doesNotMatch(html, /<img|<b>|<\/li><script/);
    assert.doesNotMatch(html, /vscode-cdn/, 'the webview\'s resource origin is in the page');
    const drawn = marks(html);
    assert.deepEqual(drawn.map((m) => m.source), [escapeHtml('versions'), escapeHtml(`s"${evil}`)]);
    assert.ok(drawn[0].title.includes(escapeHtml(`boom ${evil}\nsecond "line"`)));
    assert.ok(html.includes(`<span class="desc">${escapeHtml(`it's ${evil}`)}</span>`));
    assert.deepEqual(filterSources(html), [escapeHtml(`s"${evil}`), 'versions']);
  });

  test('manual and skipped rows are drawn apart from runs that passed or failed; no rows is said so', () => {
    const html = historyHtml('f', [
      row(1, {}), row(2, { success: false, error: 'x', partial: true }), row(3, { manual: true }), row(4, { manual: true, direction: 'down' }), row(5, { skipped: true, durationMs: 0 }),
    ], 'abcdefghijklmnopqrstuv', '');
    assert.deepEqual(marks(html).map((m) => `${m.id} ${m.classes.slice(0, 2).join(' ')}`), ['5 skipped up', '4 manual down', '3 manual up', '2 failed up', '1 ok up']);
    for (const words of ['skipped', 'forgotten', 'marked applied', 'failed, not rolled back', 'ok']) assert.ok(html.includes(`<span class="outcome">${words}</span>`), words);
    const empty = historyHtml('f', [], 'abcdefghijklmnopqrstuv', '');
    assert.match(empty, /No migration has run yet/);
    assert.deepEqual([marks(empty).length, filterSources(empty).length], [0, 0]);
  });

  test('running it again reuses the folder\'s one panel and redraws it with the history as it is now', async () => {
    const { model } = await api();
    const engine = model.engine(folder());
    await vscode.commands.executeCommand<HistoryShown>('migrations.showHistory');
    assert.equal(states(model).get(4)?.status, 'applied', 'run.test.js should leave 4 applied');
    // Two more rows, and the state as it was: 4 rolled back and applied again.
    assert.equal((await engine.down({ source: 'versions', last: true })).ok, true);
    assert.equal((await engine.up({ source: 'versions', to: 4 })).ok, true);
    await model.refresh();
    const shown = await vscode.commands.executeCommand<HistoryShown>('migrations.showHistory');
    assert.ok(shown);
    assert.deepEqual(marks(shown.html).slice(0, 2).map((m) => `${m.direction} ${m.version} ${m.outcome}`), ['up 4 ok', 'down 4 ok']);
    const tabs = await waitFor('the history tab', () => (historyTabs().length > 0 ? historyTabs() : undefined));
    assert.equal(tabs.length, 1, `history tabs: ${tabs.map((t) => t.label).join(', ')}`);
    assert.equal(tabs[0].label, `History: ${folder().name}`);
    assert.equal(tabs[0].isActive, true);
  });
});
