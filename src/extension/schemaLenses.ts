import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { explain, type SchemaChangesReport } from '../core';
import { EDITOR_TERMS } from './terms';
import { plural } from './words';
import type { MigrationsModel } from './model';

/** A source's declared schema file, as its folder's migrations.config.* names it. */
export interface DeclaredSchema {
  readonly folder: vscode.WorkspaceFolder;
  readonly source: string;
  readonly file: string;
}

/** Every declared schema file of every folder (from the project configs as last described). */
export function declaredSchemas(model: MigrationsModel): DeclaredSchema[] {
  return model.folders.flatMap((folder) => (model.project(folder)?.folders ?? []).flatMap((f) => (f.schema ? [{ folder, source: f.id, file: f.schema }] : [])));
}

export function declaredSchemaAt(model: MigrationsModel, uri: vscode.Uri): DeclaredSchema | undefined {
  return uri.scheme === 'file' ? declaredSchemas(model).find((d) => d.file === uri.fsPath) : undefined;
}

type Counted = { report: SchemaChangesReport } | { error: string };

/**
 * Above `defineSchema(` in a declared schema file: how many changes its migrations do not make yet
 * ("3 changes not in migrations — Generate Migration"), counted by the engine on a shadow database
 * (its schemaChanges: generate's comparison, nothing written). Trusted workspaces only: counting
 * executes the schema file and the migrations. A count is kept while the saved schema file, the
 * migration files and the database are the same, so the model's every refresh asks nothing new.
 */
class SchemaLenses implements vscode.CodeLensProvider {
  private readonly counts = new Map<string, { key: string; counted: Promise<Counted> }>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly model: MigrationsModel, private readonly log: vscode.LogOutputChannel) {}

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.isTrusted) return [];
    const declared = declaredSchemaAt(this.model, doc.uri);
    if (!declared) return [];
    const at = /\bdefineSchema\s*\(/.exec(doc.getText());
    const line = at ? doc.positionAt(at.index).line : 0;
    const range = new vscode.Range(line, 0, line, 0);
    const counted = await this.count(declared);
    // The count is of the file as saved: the engine reads it from disk.
    const saved = doc.isDirty ? ' (as saved)' : '';
    if ('error' in counted) return [new vscode.CodeLens(range, { title: `Schema not compared with its migrations${saved}: ${counted.error.split('\n')[0]}`, command: '' })];
    const n = counted.report.changes.length;
    if (n === 0) return [new vscode.CodeLens(range, { title: `The schema matches the migrations of ${declared.source}${saved}`, command: '' })];
    return [new vscode.CodeLens(range, {
      title: `${plural(n, 'change')} not in migrations${saved} — Generate Migration`,
      tooltip: counted.report.changes.join('\n'),
      command: 'migrations.generate',
      arguments: [doc.uri],
    })];
  }

  private count(declared: DeclaredSchema): Promise<Counted> {
    const key = this.keyOf(declared);
    const known = this.counts.get(declared.file);
    if (known && known.key === key) return known.counted;
    // An engine that cannot be made (a config that fails to load) is said on the lens too.
    const counted = Promise.resolve().then(() => this.model.engine(declared.folder).schemaChanges({ source: declared.source })).then(
      (report): Counted => ({ report }),
      (err): Counted => {
        const error = explain(err, EDITOR_TERMS);
        this.log.warn(`${vscode.workspace.asRelativePath(declared.file)}: ${error}`);
        return { error };
      },
    );
    this.counts.set(declared.file, { key, counted });
    return counted;
  }

  /** What a count belongs to: the schema file as saved, the source's migration files, the database. */
  private keyOf(declared: DeclaredSchema): string {
    let mtime = 0;
    try {
      mtime = fs.statSync(declared.file).mtimeMs;
    } catch {
      // No such file: the engine says so, and the key changes once it is written.
    }
    const stamp = this.model.stamp(declared.folder);
    const files = [...(stamp?.checksums ?? [])].filter(([k]) => k.startsWith(`${declared.source}\u241f`));
    return JSON.stringify([declared.source, mtime, stamp?.database, files]);
  }

  /** The model changed (files, database, config) or a schema file was saved: the lenses are asked again. */
  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerSchemaLenses(model: MigrationsModel, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const lenses = new SchemaLenses(model, log);
  return [
    lenses,
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'typescript' }, { scheme: 'file', language: 'javascript' }], lenses),
    model.onDidChange(() => lenses.refresh()),
    vscode.workspace.onDidSaveTextDocument((doc) => declaredSchemaAt(model, doc.uri) && lenses.refresh()),
  ];
}
