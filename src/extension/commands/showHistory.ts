import type { HistoryPanels } from '../historyView';
import { targetOf, type CommandSpec } from './shared';

/** Show History: the folder's runs as a timeline in a webview (one panel per folder, reused); returns its HTML and rows. */
export function showHistory(panels: HistoryPanels): CommandSpec {
  return {
    id: 'migrations.showHistory',
    async run(ctx, ...args) {
      const target = await targetOf(ctx, args[0]);
      return panels.show(target.folder);
    },
  };
}
