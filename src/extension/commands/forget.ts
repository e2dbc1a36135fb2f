import { recordByHand } from './record';
import type { CommandSpec } from './shared';

/** Forget: record the migration as not applied without running its down(). */
export const forget: CommandSpec = {
  id: 'migrations.forget',
  run: (ctx, ...args) => recordByHand(ctx, args, 'forget'),
};
