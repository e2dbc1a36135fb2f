import { Console } from 'node:console';
import * as path from 'node:path';
import { parseCli, USAGE, UsageError, type CliArgs } from './cli/args';
import { formatCheck, formatHistory, formatProblems, formatRun, formatShadows, formatStatus } from './cli/format';
import { describeError, explain, loadProjectConfig, render, runError, InvalidMigrationsError, MigrationEngine, MigrationsError, ResultCache, sqlPreviewText, SUM_CODES, type Logger, type RunEvents, type RunReport } from './core';
import { CLI_TERMS } from './cli/terms';

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failure or invalid file, 2 usage). */
export async function main(argv: readonly string[], io = { out: process.stdout, err: process.stderr, cwd: process.cwd() }): Promise<number> {
  let args: CliArgs | 'help';
  try {
    args = parseCli(argv, io.cwd);
  } catch (err) {
    io.err.write(usageLine(describeError(err)));
    return 2;
  }
  if (args === 'help') {
    io.out.write(USAGE + '\n');
    return 0;
  }
  const write = (text: string) => io.out.write(text.endsWith('\n') ? text : text + '\n');
  // Code run in this process for the user (migrations.config.*, its hooks) prints through console:
  // to stderr, so that stdout carries only this command's output (`--json` stays parseable).
  const restoreConsole = io.out === process.stdout ? consoleTo(io.err) : undefined;
  const logger: Logger = { info: () => {}, debug: () => {}, warn: (m) => io.err.write(`warning: ${m}\n`), error: () => {} };
  let engine: MigrationEngine | undefined;
  const interrupt = CANCELLABLE.has(args.command) ? onInterrupt(io.err) : undefined;
  try {
    // MIGRATIONS_CACHE=0 turns the parse/transpile cache off (e.g. to measure a cold run).
    const cache = process.env.MIGRATIONS_CACHE === '0' ? undefined : ResultCache.forWorkspace(args.dir);
    engine = new MigrationEngine({
      // The terminal is trusted, as for a knexfile: the project config is executed here.
      project: loadProjectConfig(args.dir),
      environment: args.env,
      // DATABASE_URL, as Prisma, dbmate and golang-migrate read it: only when nothing else names a database.
      workspace: args.dir, db: args.db, databaseUrl: process.env.DATABASE_URL || undefined, logger, runner: 'cli', templatesDir: path.join(__dirname, '..', 'templates'), cache,
      // Migration files run on a worker thread, which a migration past migrationTimeoutMs ends: one
      // process (the editor's child costs a second Node heap). A smaller young generation keeps
      // the thread's peak memory down at no cost in time (bench).
      isolate: { execPath: process.execPath, entry: path.join(__dirname, 'runner.js'), thread: { maxYoungGenerationSizeMb: 6 } },
    });
    const code = await run(engine, args, write, io.err, interrupt?.signal);
    return interrupt?.signal.aborted ? 130 : code;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(usageLine(err.message));
      return 2;
    }
    const problems = err instanceof InvalidMigrationsError ? err.problems : undefined;
    const code = err instanceof MigrationsError ? err.code : 'error';
    const message = explain(err, CLI_TERMS);
    if (args.json) write(JSON.stringify({ ok: false, code, error: message, problems }, null, 2));
    else if (code === 'usage') io.err.write(usageLine(message));
    else if (err instanceof InvalidMigrationsError) {
      const advice = err.advice ? [render(err.advice, CLI_TERMS)] : [];
      io.err.write(`error: ${[err.lead ?? 'Fix these migration files first; nothing was run:', ...formatProblems(err.problems, args.dir), ...advice].join('\n')}\n`);
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

async function run(engine: MigrationEngine, args: CliArgs, write: (t: string) => void, err: NodeJS.WritableStream, signal?: AbortSignal): Promise<number> {
  const json = (value: unknown) => write(JSON.stringify(value, null, 2));
  const runOpts = { source: args.source, events: args.json ? undefined : progress(err), signal };
  const finish = (report: RunReport, verb: string): number => {
    // The documented keys (ok, steps, error, cancelled), the error's advice in the terminal's terms.
    if (args.json) json({ ...report, error: runError(report, CLI_TERMS), errorText: undefined });
    else write(formatRun(report, verb));
    return report.ok ? 0 : 1;
  };
  switch (args.command) {
    case 'status': {
      const report = await engine.status(args.source);
      if (args.json) json(report);
      else write(formatStatus(report, engine.workspace));
      // A file that cannot run, or files that differ from their migrations.sum (which block up), fail the status.
      const sumProblem = (p: { code: string }) => SUM_CODES.includes(p.code as never);
      return report.sources.some((s) => s.problems.some(sumProblem) || s.migrations.some((m) => m.status === 'invalid' || m.problems.some(sumProblem))) ? 1 : 0;
    }
    case 'up':
      return finish(await engine.up({ ...runOpts, to: args.to, outOfOrder: args.outOfOrder, tags: args.tags, notMoved: args.notMoved || undefined, allowSumMismatch: args.allowSumMismatch || undefined }), 'apply');
    case 'down':
      return finish(await engine.down({ ...runOpts, ...(args.to !== undefined ? { to: args.to } : args.all ? { all: true as const } : { last: true as const }) }), 'roll back');
    case 'redo':
      return finish(await engine.redo(runOpts), 'redo');
    case 'create': {
      const description = args.positionals.join(' ');
      if (!description.trim()) throw new UsageError('create needs a description: migrations create "add index to users"');
      const created = engine.create(description, { source: args.source, js: args.js });
      if (args.json) json(created);
      else write(`Created ${path.relative(engine.workspace, created.path)}`);
      return 0;
    }
    case 'history': {
      const rows = await engine.history({ source: args.source, limit: args.limit });
      if (args.json) json(rows);
      else write(formatHistory(rows));
      return 0;
    }
    case 'validate': {
      const problems = await engine.validate(args.source, { allowSumMismatch: args.allowSumMismatch });
      const errors = problems.filter((p) => p.severity === 'error').length;
      if (args.json) json({ ok: errors === 0, problems });
      else write(problems.length === 0 ? 'All migration files are valid.' : [...formatProblems(problems, engine.workspace), `${errors} error(s), ${problems.length - errors} warning(s).`].join('\n'));
      return errors > 0 ? 1 : 0;
    }
    case 'sql': {
      const direction = args.positionals[0];
      if (direction !== 'up' && direction !== 'down') throw new UsageError('sql needs a direction: migrations sql up|down [--to V] [--all]');
      const report = await engine.sql(direction, { source: args.source, to: args.to, all: args.all });
      if (args.json) json(report);
      else write(sqlPreviewText(report.steps));
      return 0;
    }
    case 'mark-applied':
    case 'forget': {
      if (args.command === 'mark-applied' && args.version === undefined && args.to !== undefined) {
        const marked = await engine.markAppliedUpTo({ source: args.source, to: args.to });
        if (args.json) json(marked);
        else if (marked.versions.length === 0) write(`Every migration up to ${marked.to} in ${marked.source} is already applied; nothing was recorded.`);
        else write(`Migration${marked.versions.length > 1 ? 's' : ''} ${marked.versions.join(', ')} (${marked.source}) ${marked.versions.length > 1 ? 'are' : 'is'} now recorded as applied. Nothing was run.`);
        return 0;
      }
      const forget = args.command === 'forget';
      const target = { source: args.source, version: args.version! };
      const result = forget ? await engine.forget(target) : await engine.markApplied(target);
      const which = `Migration ${result.version} (${result.source})`;
      if (args.json) json(result);
      else if (!result.recorded) write(`${which} is already ${forget ? 'not applied' : 'applied'} (status ${result.status}); nothing was recorded.`);
      else write(`${which} is now recorded as ${forget ? 'not applied' : 'applied'} (status ${result.status}). Nothing was run.`);
      return 0;
    }
    case 'rename-source': {
      const [from, to] = args.positionals;
      const moved = await engine.renameSource(from, to);
      if (args.json) json(moved);
      else write(`Moved the history of ${moved.from} to ${moved.to}: migration(s) ${moved.versions.join(', ')} are applied there. Nothing was run.`);
      return 0;
    }
    case 'verify':
    case 'lint': {
      const report = await engine[args.command]({ source: args.source, version: args.version, signal });
      if (args.json) json(report);
      else write(formatCheck(report, args.command, engine.workspace));
      return report.ok ? 0 : 1;
    }
    case 'drift': {
      const report = await engine.drift({ signal });
      if (args.json) json(report);
      else write(report.drifted ? [`The database differs from its applied migrations (replayed on ${report.shadow}):`, ...report.changes.map((c) => `  ${c.summary}`)].join('\n') : `No drift: the database's schema is what its applied migrations make (replayed on ${report.shadow}).`);
      return report.drifted ? 1 : 0;
    }
    case 'schema': {
      const dumped = await engine.schema({ write: true });
      if (args.json) json({ path: dumped.path, written: dumped.written, schema: dumped.model });
      else write(`${dumped.text}\n-- ${dumped.written ? 'Written to' : 'Unchanged:'} ${dumped.path ? path.relative(engine.workspace, dumped.path) : '(migrations.schemaFile is off)'}`);
      return 0;
    }
    case 'rehash': {
      const written = engine.rehash(args.source);
      if (args.json) json(written);
      else write(written.length === 0 ? 'No migration folder to hash.' : written.map((w) => `${w.changed ? 'Rewrote' : 'Unchanged:'} ${path.relative(engine.workspace, w.path)}`).join('\n'));
      return 0;
    }
    case 'shadows': {
      const report = await engine.shadows({ drop: args.drop });
      if (args.json) json(report);
      else write(formatShadows(report, args.drop));
      // A shadow kept because it is in use or not ours is no failure; one that could not be dropped is.
      return report.shadows.some((s) => s.failed) ? 1 : 0;
    }
    case 'unlock': {
      const released = await engine.unlock(args.force);
      if (args.json) json({ released: released ?? null });
      else write(released ? `Released the lock held by ${released.holder} (pid ${released.pid} on ${released.host}).` : 'The database is not locked.');
      return 0;
    }
  }
}

/** A usage error as printed: its one line, and where the usage is (not all of it: the line would scroll away). */
function usageLine(message: string): string {
  return `${message}\nSee "migrations --help".\n`;
}

/** The commands that run migrations, which Ctrl-C stops cleanly rather than kills. */
const CANCELLABLE = new Set<CliArgs['command']>(['up', 'down', 'redo', 'verify', 'lint', 'drift']);

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

/** One updating line on a terminal; nothing when output is piped. */
function progress(err: NodeJS.WritableStream & { isTTY?: boolean }): RunEvents | undefined {
  if (!err.isTTY) return undefined;
  return {
    beforeMigration: (s, i, total) => err.write(`\r\x1b[K[${i + 1}/${total}] ${s.direction} ${s.source} ${s.version} ${s.description}`),
    afterMigration: (s, i, total) => {
      if (i + 1 === total || s.outcome === 'failed') err.write('\r\x1b[K');
    },
  };
}

// Run by dist/cli.js (which turns on the compile cache first), or directly from out/ in development.
if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
