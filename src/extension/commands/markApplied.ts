import { recordByHand } from './record';
import type { CommandSpec } from './shared';

/** Mark Applied: record the migration as applied without running it. */
export const markApplied: CommandSpec = {
  id: 'migrations.markApplied',
  run: (ctx, ...args) => recordByHand(ctx, args, 'markApplied'),
};
