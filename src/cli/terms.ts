import type { Terms } from '../core';

/** The engine's advice in the terminal's words: the command and flags to type. */
export const CLI_TERMS: Terms = (a) => {
  switch (a.do) {
    case 'mark-applied':
      return `run "migrations mark-applied ${a.version} --source ${a.source}"`;
    case 'forget':
      return `run "migrations forget ${a.version} --source ${a.source}"`;
    case 'unlock':
      return a.force ? 'run "migrations unlock --force"' : 'run "migrations unlock"';
    case 'name-source':
      return 'pass --source <folder>';
    case 'see-status':
      return '"migrations status" shows what was applied';
    case 'choose-database':
      return 'point --db or migrations.database at the right file';
    case 'choose-workspace':
      return 'pass an existing folder with --dir';
    case 'rename-source':
      return `run "migrations rename-source ${a.from} ${a.to}"`;
    case 'override':
      return `pass --${a.flag}`;
    case 'rehash':
      return 'run "migrations rehash"';
  }
};
