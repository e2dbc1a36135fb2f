import * as vscode from 'vscode';

/**
 * Preview SQL's documents (and Generate Migration's schema before and after, the migration docs): virtual and
 * read-only (a content provider), one per folder, source and target, so previewing the same
 * migration again refreshes its tab instead of adding an untitled, dirty one that asks to be saved on close.
 */
export class SqlPreviews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'migrations-sql';
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(SqlPreviews.scheme, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '-- This preview is gone: run Preview SQL again.';
  }

  /** Shows `text` under a name made of `parts` (the path ends in .sql, so it opens highlighted as SQL). */
  async show(parts: readonly string[], text: string): Promise<vscode.TextDocument> {
    const doc = await vscode.workspace.openTextDocument(this.put(parts, text));
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  /** Keeps `text` under a name made of `parts`, without opening it (a diff's side, a Markdown preview's source): its URI. */
  put(parts: readonly string[], text: string, extension = 'sql'): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SqlPreviews.scheme, path: `/${parts.map((p) => p.replace(/[\\/]/g, '_')).join('/')}.${extension}` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
