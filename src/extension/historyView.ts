import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { localTime, plural } from './words';
import { historyOutcome, type HistoryRow } from '../core';
import type { Context } from './commands/shared';

// Show History as a picture: a vertical timeline, newest at the top, one mark per history
// row. The page is one self-contained string (inline CSS and JS under a nonce, nothing
// loaded), so the policy can forbid everything else and a test can read what is drawn.

/** What the command returns: the page as set on the webview, and the rows it was drawn from. */
export interface HistoryShown {
  readonly html: string;
  readonly rows: readonly HistoryRow[];
}

export const HISTORY_VIEW_TYPE = 'migrations.history';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Descriptions, errors and source ids are user text: everything interpolated goes through this. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]);

// Hues away from red and green, which mean failed and passed here.
const HUES = [210, 275, 35, 185, 320, 55, 240, 165, 295, 195, 260, 45];

/** A source's hue from its name alone (FNV-1a), so it keeps its colour whatever else is shown. */
export function sourceHue(source: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 0x01000193);
  return HUES[(h >>> 0) % HUES.length];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local day and clock time; an unparseable stamp is shown as stored. */
function when(iso: string): { day: string; time: string; ms: number } {
  const d = new Date(iso);
  const ms = d.getTime();
  if (Number.isNaN(ms)) return { day: '', time: iso, ms };
  return { day: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`, ms };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** How the mark is drawn: manual and skipped rows ran nothing, so they are hollow, not pass/fail. */
function kind(row: HistoryRow): 'manual' | 'skipped' | 'ok' | 'failed' {
  if (row.manual) return 'manual';
  if (row.skipped) return 'skipped';
  return row.success ? 'ok' : 'failed';
}

function mark(row: HistoryRow, sourceIndex: number): string {
  const t = when(row.startedAt);
  const end = new Date(row.finishedAt).getTime();
  const outcome = historyOutcome(row);
  const hover = [`${row.direction} ${row.source} ${row.version}: ${row.description}`, `${outcome} · ${localTime(row.startedAt, vscode.env.language)} · ${formatDuration(row.durationMs)}${row.transactional ? '' : ' · no transaction'}`, ...(row.error ? [row.error] : [])].join('\n');
  // Duration bar: half a decade per step, so 2 ms and 20 s both stay visible.
  const bar = Math.min(9, Math.max(0, Math.ceil(Math.log10(row.durationMs + 1) * 2)));
  return `<li class="mark ${kind(row)} ${row.direction} src-${sourceIndex}" tabindex="0" data-id="${row.id}" data-source="${escapeHtml(row.source)}" data-version="${row.version}" data-direction="${row.direction}" data-outcome="${kind(row)}" data-day="${t.day}" data-start="${Number.isNaN(t.ms) ? '' : t.ms}" data-end="${Number.isNaN(end) ? '' : end}" title="${escapeHtml(hover)}">
<time datetime="${escapeHtml(row.startedAt)}">${escapeHtml(t.time)}</time><span class="dot" aria-hidden="true">${row.direction === 'up' ? '▲' : '▼'}</span><div class="card">
<div class="line"><span class="dir">${row.direction}</span><span class="src">${escapeHtml(row.source)}</span><span class="ver">${row.version}</span><span class="desc">${escapeHtml(row.description)}</span><span class="outcome">${escapeHtml(outcome)}</span><span class="dur"><span class="bar b${bar}"></span>${formatDuration(row.durationMs)}</span></div>${row.error ? `
<div class="err">${escapeHtml(row.error.split('\n')[0])}</div>` : ''}</div></li>`;
}

/**
 * The whole page. `cspSource` (the webview's resource origin) is deliberately not in the
 * policy: the page loads nothing, not even from the extension, so nothing but its own
 * nonce'd inline style and script may run.
 */
export function historyHtml(folderName: string, rows: readonly HistoryRow[], nonce: string, cspSource: string): string {
  void cspSource;
  const sources = [...new Set(rows.map((r) => r.source))].sort();
  const index = new Map(sources.map((s, i) => [s, i]));
  // History ids are insertion order, which is time order even when two stamps tie.
  const marks = [...rows].sort((a, b) => b.id - a.id).map((r) => mark(r, index.get(r.source)!));
  const count = (s: string) => rows.filter((r) => r.source === s).length;
  const filter = sources.map((s, i) => `<label class="src-${i}"><input type="checkbox" data-filter="${escapeHtml(s)}" checked><span class="swatch"></span>${escapeHtml(s)} <span class="n">${count(s)}</span></label>`).join('\n');
  const colours = sources.map((s, i) => `.src-${i} { --src: hsl(${sourceHue(s)} 65% var(--src-l)); }`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>History: ${escapeHtml(folderName)}</title>
<style nonce="${nonce}">${STYLE}
${colours}
</style>
</head>
<body>
<header>
<h1>Migration history: ${escapeHtml(folderName)}</h1>
<p><span id="count">${plural(rows.length, 'run')}</span>, newest at the top. Hover a mark for its details and error.</p>
${rows.length === 0 ? '' : `<fieldset id="sources"><legend>Sources</legend>
${filter}
</fieldset>
<p class="legend"><span class="key ok">▲</span> ok <span class="key failed">▲</span> failed <span class="key manual">▲</span> by hand (mark applied / forget) <span class="key skipped">▲</span> skipped · ▲ up ▼ down</p>`}
</header>
${rows.length === 0 ? '<p class="empty">No migration has run yet.</p>' : `<ol id="timeline">
${marks.join('\n')}
</ol>`}
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
body { --src-l: 62%; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 24px; }
body.vscode-light { --src-l: 40%; }
h1 { font-size: 1.3em; font-weight: 600; margin: 14px 0 4px; }
header p { color: var(--vscode-descriptionForeground); margin: 4px 0; }
fieldset { border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); border-radius: 4px; display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; padding: 4px 10px 6px; }
legend { color: var(--vscode-descriptionForeground); padding: 0 4px; }
fieldset label { align-items: center; cursor: pointer; display: inline-flex; gap: 5px; }
input[type=checkbox] { accent-color: var(--src); margin: 0; }
.swatch { background: var(--src); border-radius: 2px; display: inline-block; height: 10px; width: 10px; }
.n { color: var(--vscode-descriptionForeground); }
.key { display: inline-grid; place-items: center; width: 16px; height: 16px; border-radius: 50%; font-size: 8px; margin-left: 10px; }
ol { list-style: none; margin: 12px 0 0; padding: 0; position: relative; }
/* The time axis, through the centre of the dots. */
ol::before { content: ''; position: absolute; top: 0; bottom: 0; left: calc(5.5em + 11px); border-left: 2px solid var(--vscode-editorIndentGuide-background, var(--vscode-panel-border)); }
.sep { color: var(--vscode-descriptionForeground); margin: 10px 0 4px calc(5.5em + 26px); font-size: 0.9em; }
.sep.day { color: var(--vscode-foreground); font-weight: 600; margin-top: 16px; }
.sep.gap { font-style: italic; }
.mark { align-items: flex-start; display: flex; margin: 3px 0; position: relative; }
.mark[hidden] { display: none; }
.mark:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
time { color: var(--vscode-descriptionForeground); flex: 0 0 5.5em; font-variant-numeric: tabular-nums; padding-top: 4px; text-align: right; }
.dot, .key { background: var(--c); border: 2px solid var(--c); color: var(--vscode-editor-background); }
.dot { border-radius: 50%; box-sizing: border-box; display: grid; flex: 0 0 20px; font-size: 9px; height: 20px; margin: 2px 6px 0 2px; place-items: center; z-index: 1; }
.ok { --c: var(--vscode-testing-iconPassed); }
.failed { --c: var(--vscode-testing-iconFailed); }
.manual { --c: var(--vscode-foreground); }
.skipped { --c: var(--vscode-testing-iconSkipped, var(--vscode-disabledForeground)); }
/* Nothing ran: hollow marks, dashed for a hand-made record, dotted for a pass-over. */
.manual .dot, .skipped .dot, .key.manual, .key.skipped { background: var(--vscode-editor-background); color: var(--c); }
.manual .dot, .key.manual { border-style: dashed; }
.skipped .dot, .key.skipped { border-style: dotted; }
.card { background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-widget-border, transparent); border-left: 4px solid var(--src); border-radius: 3px; flex: 1; min-width: 0; padding: 3px 8px; }
.skipped .card, .manual .card { background: transparent; border-style: dashed; border-left-style: solid; }
.skipped .card { opacity: 0.75; }
.line { align-items: baseline; display: flex; gap: 8px; white-space: nowrap; }
.dir { color: var(--vscode-descriptionForeground); width: 2.6em; }
.src { color: var(--src); font-weight: 600; }
.ver { font-variant-numeric: tabular-nums; font-weight: 600; }
.desc { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
.outcome { color: var(--c); }
.dur { color: var(--vscode-descriptionForeground); font-variant-numeric: tabular-nums; min-width: 9em; text-align: right; }
.bar { background: var(--src); border-radius: 1px; display: inline-block; height: 6px; margin-right: 6px; opacity: 0.7; vertical-align: middle; }
${Array.from({ length: 10 }, (_, i) => `.b${i} { width: ${i * 6}px; }`).join(' ')}
.err { color: var(--vscode-errorForeground); font-family: var(--vscode-editor-font-family); font-size: 0.9em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.empty { color: var(--vscode-descriptionForeground); margin-top: 24px; }`;

// Filtering happens here, in the page; the day headings and pauses between runs are drawn
// for the marks shown, so hiding a source never leaves a heading or a pause that is not true.
// The filter lives in the webview's state, so it survives the page being redrawn.
const SCRIPT = `
const api = acquireVsCodeApi();
const boxes = [...document.querySelectorAll('#sources input')];
const marks = [...document.querySelectorAll('#timeline .mark')];
const off = new Set((api.getState() || {}).off || []);
for (const box of boxes) {
  box.checked = !off.has(box.dataset.filter);
  box.addEventListener('change', draw);
}
function span(ms) {
  const m = Math.round(ms / 60000), h = Math.floor(m / 60), d = Math.floor(h / 24);
  const two = (a, ua, b, ub) => a + ' ' + ua + (b ? ' ' + b + ' ' + ub : '');
  return d > 0 ? two(d, 'd', h % 24, 'h') : h > 0 ? two(h, 'h', m % 60, 'min') : m + ' min';
}
function sep(cls, text) {
  const li = document.createElement('li');
  li.className = 'sep ' + cls;
  li.textContent = text;
  return li;
}
function draw() {
  const hidden = boxes.filter((b) => !b.checked).map((b) => b.dataset.filter);
  api.setState({ off: hidden });
  for (const s of document.querySelectorAll('#timeline .sep')) s.remove();
  let prev, shown = 0;
  for (const m of marks) {
    m.hidden = hidden.includes(m.dataset.source);
    if (m.hidden) continue;
    shown++;
    if (m.dataset.day && (!prev || prev.dataset.day !== m.dataset.day)) m.before(sep('day', m.dataset.day));
    else if (prev && prev.dataset.start && m.dataset.end && prev.dataset.start - m.dataset.end >= 60000) m.before(sep('gap', span(prev.dataset.start - m.dataset.end) + ' earlier'));
    prev = m;
  }
  const count = document.getElementById('count');
  if (count) count.textContent = shown === marks.length ? marks.length + (marks.length === 1 ? ' run' : ' runs') : shown + ' of ' + marks.length + (marks.length === 1 ? ' run' : ' runs') + ' shown';
}
draw();`;

/** One panel per workspace folder: Show History reveals it again, and it follows the model while open. */
export class HistoryPanels implements vscode.Disposable {
  private readonly open = new Map<string, HistoryPanel>();

  constructor(private readonly ctx: Context) {}

  async show(folder: vscode.WorkspaceFolder): Promise<HistoryShown> {
    const key = folder.uri.toString();
    const existing = this.open.get(key);
    if (existing) {
      existing.reveal();
      return existing.refresh();
    }
    const panel = new HistoryPanel(this.ctx, folder, () => this.open.delete(key));
    this.open.set(key, panel);
    try {
      return await panel.refresh();
    } catch (err) {
      // No history to draw (say, the database is unreachable): no empty panel left behind either.
      panel.dispose();
      throw err;
    }
  }

  dispose(): void {
    for (const panel of [...this.open.values()]) panel.dispose();
  }
}

class HistoryPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Bumped per refresh, so a slow read never draws over a newer one. */
  private generation = 0;
  /** The model changed while the panel was hidden: redraw when it shows again. */
  private stale = false;
  private disposed = false;

  constructor(private readonly ctx: Context, private readonly folder: vscode.WorkspaceFolder, onDispose: () => void) {
    this.panel = vscode.window.createWebviewPanel(HISTORY_VIEW_TYPE, `History: ${folder.name}`, vscode.ViewColumn.Active, { enableScripts: true, enableFindWidget: true, localResourceRoots: [] });
    this.subscriptions.push(
      ctx.model.onDidChange(() => this.changed()),
      this.panel.onDidChangeViewState(() => {
        if (this.panel.visible && this.stale) this.background();
      }),
      this.panel.onDidDispose(() => {
        this.disposed = true;
        onDispose();
        for (const s of this.subscriptions) s.dispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  async refresh(): Promise<HistoryShown> {
    const generation = ++this.generation;
    this.stale = false;
    const rows = await this.ctx.model.engine(this.folder).history();
    const html = historyHtml(this.folder.name, rows, randomBytes(16).toString('base64url'), this.panel.webview.cspSource);
    if (generation === this.generation && !this.disposed) this.panel.webview.html = html;
    return { html, rows };
  }

  dispose(): void {
    this.panel.dispose();
  }

  private changed(): void {
    // The folder was closed: its history has nothing left to follow.
    if (!this.ctx.model.folders.some((f) => f.uri.toString() === this.folder.uri.toString())) return this.dispose();
    if (this.panel.visible) this.background();
    else this.stale = true;
  }

  /** A redraw nobody awaits: a failed read keeps the last picture and says why in the log. */
  private background(): void {
    this.refresh().catch((err: unknown) => this.ctx.log.warn(`Show History (${this.folder.name}): ${err instanceof Error ? err.message : String(err)}`));
  }
}
