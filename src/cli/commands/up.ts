import { booleanFlag, stringsFlag, UsageError, type CliCommand } from '../command';
import { ALLOW_SUM_MISMATCH, SOURCE, TO } from '../flags';
import { finishRun, runOptions } from './shared';

const OUT_OF_ORDER = booleanFlag('out-of-order', { help: ['--out-of-order', 'also apply migrations older than the newest applied one'] });
/** Applies files that match the history of a source whose folder is gone (see UpTarget.notMoved). */
const NOT_MOVED = booleanFlag('not-moved', {
  onlyWithItsCommands: 'says what up may apply',
  help: ['--not-moved', "apply files that match the applied history of a folder no longer here\n(refused by default: a moved folder's migrations would run twice)"],
});
/** Repeatable, or comma-separated: of the tagged migrations, only those with one of these run. */
const TAG = stringsFlag(
  'tag',
  (raw) => {
    const tags = raw.flatMap((t) => t.split(',')).map((t) => t.trim());
    if (tags.some((t) => t === '')) throw new UsageError('--tag takes a tag name: --tag seed');
    return tags;
  },
  {
    onlyWithItsCommands: 'selects what up runs',
    help: ['--tag <tag>', 'of the tagged migrations, only those with this tag (repeatable); untagged ones\nalways run, other tagged ones are recorded as skipped'],
  },
);

export const up: CliCommand<{ source?: string; to?: number; outOfOrder: boolean; tags?: string[]; notMoved: boolean; allowSumMismatch: boolean }> = {
  name: 'up',
  usage: [['up [--to V]', 'apply pending migrations (up to version V)']],
  flags: [TO, SOURCE, OUT_OF_ORDER, NOT_MOVED, ALLOW_SUM_MISMATCH, TAG],
  cancellable: true,
  args: (_, flags) => ({
    source: flags.get(SOURCE),
    to: flags.get(TO),
    outOfOrder: flags.has(OUT_OF_ORDER),
    tags: flags.get(TAG),
    notMoved: flags.has(NOT_MOVED),
    allowSumMismatch: flags.has(ALLOW_SUM_MISMATCH),
  }),
  async run(engine, args, io) {
    const report = await engine.up({ ...runOptions(args.source, io), to: args.to, outOfOrder: args.outOfOrder, tags: args.tags, notMoved: args.notMoved || undefined, allowSumMismatch: args.allowSumMismatch || undefined });
    return finishRun(report, 'apply', io);
  },
};
