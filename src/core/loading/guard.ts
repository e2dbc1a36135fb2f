import * as vm from 'node:vm';
import { MigrationsError } from '../model/errors';

/** A migration file called process.exit() or process.abort() while it ran under `bounded`. */
export class ProcessExitError extends MigrationsError {
  constructor(call: string) {
    super(`it called ${call}, which would end the whole run. Remove that call; throw an Error to report a problem`);
  }
}

const RUN = Symbol.for('migration-manager.bounded');
// The script only calls back into the loader: what matters is that the call runs under vm's
// watchdog, which interrupts any synchronous JavaScript, even an endless loop no try/catch stops.
// Compiled on first use: a status executes no migration file, and a script costs every start.
let guard: vm.Script | undefined;
const GUARD = () => (guard ??= new vm.Script(`globalThis[Symbol.for('migration-manager.bounded')]()`, { filename: 'migration-manager-load-guard.js' }));

/**
 * Runs code of a migration file (its top-level code, getMigration()) with a time limit,
 * process.exit disarmed, timers it starts unable to keep the process alive, and stdout
 * diverted to stderr (the CLI's --json output goes to stdout and must stay parseable).
 * A timeout throws an error with code ERR_SCRIPT_EXECUTION_TIMEOUT.
 */
export function bounded<T>(timeoutMs: number, fn: () => T): T {
  // Inside boundedEach's batch, whose watchdog already covers this call.
  if (inBatch) return fn();
  const g = globalThis as unknown as Record<symbol, unknown> & typeof globalThis;
  const saved = { exit: process.exit, abort: process.abort, exitCode: process.exitCode, write: process.stdout.write, setTimeout: g.setTimeout, setInterval: g.setInterval };
  let result: { value: T } | undefined;
  g[RUN] = () => {
    result = { value: fn() };
  };
  process.exit = ((code?: unknown) => {
    throw new ProcessExitError(`process.exit(${code === undefined ? '' : String(code)})`);
  }) as typeof process.exit;
  process.abort = (() => {
    throw new ProcessExitError('process.abort()');
  }) as typeof process.abort;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  g.setTimeout = ((...args: Parameters<typeof setTimeout>) => saved.setTimeout(...args).unref()) as typeof setTimeout;
  g.setInterval = ((...args: Parameters<typeof setInterval>) => saved.setInterval(...args).unref()) as typeof setInterval;
  inBatch = true;
  try {
    GUARD().runInThisContext({ timeout: timeoutMs });
    return result!.value;
  } finally {
    inBatch = false;
    delete g[RUN];
    Object.assign(process, { exit: saved.exit, abort: saved.abort, exitCode: saved.exitCode });
    process.stdout.write = saved.write;
    g.setTimeout = saved.setTimeout;
    g.setInterval = saved.setInterval;
  }
}

let inBatch = false;

/**
 * `items.map(each)` under one watchdog instead of one per call: each watchdog is a thread,
 * and 1000 migration files paid two each (about 0.35 s in all). When the batch runs out of
 * time, the item it was on runs again alone under its own limit, so only a file that is slow
 * by itself is ever blamed; the batch then goes on from the next item with a fresh limit.
 */
export function boundedEach<T, R>(items: readonly T[], timeoutMs: number, each: (item: T) => R): R[] {
  const results: R[] = [];
  while (results.length < items.length) {
    try {
      bounded(timeoutMs, () => {
        while (results.length < items.length) results.push(each(items[results.length]));
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException | undefined)?.code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      results.push(each(items[results.length]));
    }
  }
  return results;
}
