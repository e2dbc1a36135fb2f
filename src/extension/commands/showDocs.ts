import * as vscode from 'vscode';
import type { DocsReport } from '../../core';
import type { SqlPreviews } from '../sqlPreviews';
import { cancellableProgress, requireTrust, targetOf, type CommandSpec } from './shared';

/**
 * Show Migration Docs: the engine's docs (each source's migrations, status, applied time, schema
 * effect replayed on a shadow, an ER diagram) as a Markdown preview of a read-only document, so
 * showing them again refreshes the same one. Replays migrations: trusted workspaces only.
 */
export function showDocs(previews: SqlPreviews): CommandSpec {
  return {
    id: 'migrations.showDocs',
    async run(ctx, ...args) {
      requireTrust();
      const { folder } = await targetOf(ctx, args[0]);
      const engine = ctx.model.engine(folder);
      const report = await cancellableProgress(`Migration Docs: replaying the migrations of ${folder.name} on a shadow database`, (signal) => engine.docs({ signal }));
      const uri = previews.put([folder.name, 'migration docs'], report.text, 'md');
      await vscode.commands.executeCommand('markdown.showPreview', uri);
      ctx.log.info(`Migration Docs of ${folder.name}: ${report.text.split('\n').length} lines shown.`);
      return { ...report, uri } satisfies DocsReport & { uri: vscode.Uri };
    },
  };
}
