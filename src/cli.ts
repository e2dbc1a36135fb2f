import { Console } from 'node:console';
import * as path from 'node:path';
import { UsageError } from './cli/command';
import { formatProblems } from './cli/format';
import { parseCli, type Invocation } from './cli/parse';
import { CLI_TERMS } from './cli/terms';
import { usage } from './cli/usage';
import { describeError, explain, loadProjectConfig, render, InvalidMigrationsError, MigrationEngine, MigrationsError, ResultCache, type Logger } from './core';

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failure or invalid file, 2 usage, 130 stopped). */
export async function main(argv: readonly string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; cwd: string; ask?: (question: string) => Promise<string> } = { out: process.stdout, err: process.stderr, cwd: process.cwd(), ask: terminalQuestion() }): Promise<number> {
  let call: Invocation | 'help';
  try {
    call = parseCli(argv, io.cwd);
  } catch (err) {
    io.err.write(usageLine(describeError(err)));
    return 2;
  }
  if (call === 'help') {
    io.out.write(usage() + '\n');
    return 0;
  }
  const write = (text: string) => io.out.write(text.endsWith('\n') ? text : text + '\n');
  // Code run in this process for the user (migrations.config.*, its hooks) prints through console:
  // to stderr, so that stdout carries only this command's output (`--json` stays parseable).
  const restoreConsole = io.out === process.stdout ? consoleTo(io.err) : undefined;
  const logger: Logger = { info: () => {}, debug: () => {}, warn: (m) => io.err.write(`warning: ${m}\n`), error: () => {} };
  let engine: MigrationEngine | undefined;
  const interrupt = call.command.cancellable ? onInterrupt(io.err) : undefined;
  try {
    // MIGRATIONS_CACHE=0 turns the parse/transpile cache off (e.g. to measure a cold run).
    const cache = process.env.MIGRATIONS_CACHE === '0' ? undefined : ResultCache.forWorkspace(call.dir);
    engine = new MigrationEngine({
      // The terminal is trusted, as for a knexfile: the project config is executed here.
      project: loadProjectConfig(call.dir),
      environment: call.env,
      // DATABASE_URL, as Prisma, dbmate and golang-migrate read it: only when nothing else names a database.
      workspace: call.dir, db: call.db, databaseUrl: process.env.DATABASE_URL || undefined, logger, runner: 'cli', templatesDir: path.join(__dirname, '..', 'templates'), cache,
      // Migration files run on a worker thread, which a migration past migrationTimeoutMs ends: one
      // process (the editor's child costs a second Node heap). A smaller young generation keeps
      // the thread's peak memory down at no cost in time (bench).
      isolate: { execPath: process.execPath, entry: path.join(__dirname, 'runner.js'), thread: { maxYoungGenerationSizeMb: 6 } },
    });
    const json = call.json;
    const show = (value: unknown, text: () => string) => write(json ? JSON.stringify(value, null, 2) : text());
    const code = await call.command.run(engine, call.args, { json, show, err: io.err, signal: interrupt?.signal, ask: json ? undefined : io.ask });
    return interrupt?.signal.aborted ? 130 : code;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(usageLine(err.message));
      return 2;
    }
    const problems = err instanceof InvalidMigrationsError ? err.problems : undefined;
    const code = err instanceof MigrationsError ? err.code : 'error';
    const message = explain(err, CLI_TERMS);
    if (call.json) write(JSON.stringify({ ok: false, code, error: message, problems }, null, 2));
    else if (code === 'usage') io.err.write(usageLine(message));
    else if (err instanceof InvalidMigrationsError) {
      const advice = err.advice ? [render(err.advice, CLI_TERMS)] : [];
      io.err.write(`error: ${[err.lead ?? 'Fix these migration files first; nothing was run:', ...formatProblems(err.problems, call.dir), ...advice].join('\n')}\n`);
    } else io.err.write(`error: ${message}\n`);
    // Anything not raised on purpose is a bug: keep its stack for the report, after the message.
    if (!(err instanceof MigrationsError) && process.env.MIGRATIONS_DEBUG) io.err.write(`${(err as Error).stack}\n`);
    // An incomplete or ambiguous request is a usage error wherever the engine finds it out.
    return interrupt?.signal.aborted ? 130 : code === 'usage' ? 2 : 1;
  } finally {
    await engine?.close();
    interrupt?.dispose();
    restoreConsole?.();
  }
}

/** Sends the global console's output (log and info included) to `stream`; returns the undo. */
function consoleTo(stream: NodeJS.WritableStream): () => void {
  const before = globalThis.console;
  globalThis.console = new Console({ stdout: stream, stderr: stream });
  return () => {
    globalThis.console = before;
  };
}

/** A usage error as printed: its one line, and where the usage is (not all of it: the line would scroll away). */
function usageLine(message: string): string {
  return `${message}\nSee "migrations --help".\n`;
}

/**
 * Ctrl-C (or SIGTERM) stops a run as the editor's Cancel does, leaving nothing behind: the running
 * migration is rolled back and recorded as failed, a temporary shadow database dropped, the lock
 * freed. A second Ctrl-C kills the process at once, as a crash would: the database rolls the
 * migration back (it stays pending), and the next run takes the stale lock over.
 */
function onInterrupt(err: NodeJS.WritableStream): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    // Not process.exit(): it waits for the runner thread, which may be inside one SQLite statement.
    if (controller.signal.aborted) return void process.kill(process.pid, 'SIGKILL');
    err.write(`\nStopping (${signal}); press Ctrl-C again to quit at once.\n`);
    controller.abort();
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', stop).off('SIGTERM', stop) };
}

// Run by dist/cli.js (which turns on the compile cache first), or directly from out/ in development.
if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/** A question answered in the terminal, when there is one to type in (not in CI, not from a pipe). */
function terminalQuestion(): ((question: string) => Promise<string>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}
