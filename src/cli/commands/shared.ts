import { runError, type RunEvents, type RunReport } from '../../core';
import { UsageError, wholeNumber, type CommandIo } from '../command';
import { formatRun } from '../format';
import { CLI_TERMS } from '../terms';

/** What up, down and redo pass the engine besides their target. */
export function runOptions(source: string | undefined, io: CommandIo) {
  return { source, events: io.json ? undefined : progress(io.err), signal: io.signal };
}

/** A run's report: the documented keys (ok, steps, error, cancelled) with the error's advice in the terminal's terms, or its lines. */
export function finishRun(report: RunReport, verb: string, io: CommandIo): number {
  io.show({ ...report, error: runError(report, CLI_TERMS), errorText: undefined }, () => formatRun(report, verb));
  return report.ok ? 0 : 1;
}

/** A version given as an argument: `migrations <name> 3`. */
export function versionArgument(name: string, raw: string): number {
  return wholeNumber(name, raw, 1, 'a version, ');
}

/** The version a check may be narrowed to (verify, lint): `migrations <name> [3]`. */
export function optionalVersion(name: string, positionals: readonly string[]): number | undefined {
  if (positionals.length > 1) throw new UsageError(`${name} takes at most one version: migrations ${name} [3] [--source versions]`);
  return positionals.length === 1 ? versionArgument(name, positionals[0]) : undefined;
}

/** One updating line on a terminal; nothing when output is piped. */
function progress(err: CommandIo['err']): RunEvents | undefined {
  if (!err.isTTY) return undefined;
  return {
    beforeMigration: (s, i, total) => err.write(`\r\x1b[K[${i + 1}/${total}] ${s.direction} ${s.source} ${s.version} ${s.description}`),
    afterMigration: (s, i, total) => {
      if (i + 1 === total || s.outcome === 'failed') err.write('\r\x1b[K');
    },
  };
}
