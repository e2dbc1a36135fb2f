import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { ChildEngineConfig, ChildMessage, ParentMessage, RunnerProcess, StoppedStep } from './isolated';

/** What a process says, and leaves to be recorded, as it ends itself with its runner thread. */
export interface LastResort {
  readonly message: string;
  /** The migration that was running: a helper process records it once this process is gone. */
  readonly record?: StoppedRecord;
}

/** A stopped migration to record from another process (plain data: it crosses as JSON). */
export interface StoppedRecord {
  readonly pid: number;
  readonly config: ChildEngineConfig;
  readonly stopped: StoppedStep;
}

/** The environment variable that makes `runner.js` the helper that records a StoppedRecord. */
export const RECORD_STOPPED_ENV = 'MIGRATIONS_RECORD_STOPPED';

/**
 * The runner on a worker thread, as a RunnerProcess. `kill()` terminates the thread, which stops
 * JavaScript at once; a thread inside one native call (node:sqlite cannot interrupt a statement)
 * is only terminated when that call returns, and a process cannot exit before its threads do, so
 * past `graceMs` the process kills itself: the database rolls the transaction back, and a
 * detached helper records the migration once the process is gone (its lock with it).
 */
export class RunnerThread extends EventEmitter implements RunnerProcess {
  connected = true;
  /** The thread's process: what its shadow databases are named after (see openShadow). */
  readonly pid = process.pid;
  private killed = false;
  private readonly worker: Worker;

  constructor(
    private readonly entry: string,
    private readonly graceMs: number,
    maxYoungGenerationSizeMb?: number,
  ) {
    super();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    // What migration code prints is not this process's output: its stdout goes to stderr, so
    // that stdout carries only the front end's own (`--json` stays parseable).
    this.worker = new Worker(entry, { resourceLimits: maxYoungGenerationSizeMb ? { maxYoungGenerationSizeMb } : undefined, stdout: true, stderr: false });
    this.worker.stdout.pipe(process.stderr, { end: false });
    this.worker.on('message', (m: ChildMessage) => this.emit('message', m));
    this.worker.once('error', (err) => this.emit('error', err));
    this.worker.once('exit', (code) => {
      this.connected = false;
      this.emit('exit', code, this.killed ? 'SIGKILL' : null);
    });
  }

  send(message: ParentMessage<unknown>): void {
    if (this.connected) this.worker.postMessage(message);
  }

  kill(_signal?: NodeJS.Signals, lastResort?: () => LastResort): void {
    if (this.killed || !this.connected) return;
    this.killed = true;
    void this.worker.terminate();
    // Without a last resort (a runner that has already answered) the thread is only terminated.
    if (!lastResort) return;
    const last = setTimeout(() => {
      const words = lastResort();
      // The database stays locked by the stuck statement until this process is gone, so the
      // record is written by a helper that waits for that (runner.js as a detached process).
      if (words.record) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { spawn } = require('node:child_process') as typeof import('node:child_process');
        spawn(process.execPath, [this.entry], { detached: true, stdio: 'ignore', env: { ...process.env, [RECORD_STOPPED_ENV]: JSON.stringify(words.record) } }).unref();
      }
      // Synchronous on Linux pipes, files and terminals: written before the process goes.
      process.stderr.write(`error: ${words.message}\n`);
      process.kill(process.pid, 'SIGKILL');
    }, this.graceMs);
    this.worker.once('exit', () => clearTimeout(last));
  }
}
