import type { Terms } from '../core';

/** The engine's advice in the editor's words: the commands and the view that do it. */
export const EDITOR_TERMS: Terms = (a) => {
  switch (a.do) {
    case 'mark-applied':
      return `use "Mark Applied" on migration ${a.version} (${a.source}) in the Migrations view`;
    case 'forget':
      return `use "Forget" on migration ${a.version} (${a.source}) in the Migrations view`;
    case 'unlock':
      return 'use "Force Unlock" on the lock in the Migrations view';
    case 'name-source':
      return 'run the command from that source\'s migration in the Migrations view';
    case 'see-status':
      return 'the Migrations view shows what was applied';
    case 'choose-database':
      return 'choose the right file with "Migrations: Select Database"';
    case 'choose-workspace':
      return 'open an existing folder';
    case 'rename-source':
      return `use "Move Its Old History Here" on ${a.to} in the Migrations view`;
    case 'override':
      // The editor has no such switch: the terminal's command says it explicitly.
      return `run "migrations ${a.flag === 'allow-destructive' ? 'generate' : 'up'} --${a.flag}" in a terminal`;
    case 'rehash':
      return 'use "Migrations: Rehash migrations.sum"';
  }
};
