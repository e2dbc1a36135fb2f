import * as path from 'node:path';
import type { GenerateReport, RenameQuestion } from '../../core';
import { booleanFlag, stringFlag, stringsFlag, UsageError, type CliCommand } from '../command';
import { SOURCE } from '../flags';

const ALLOW_DESTRUCTIVE = booleanFlag('allow-destructive', {
  onlyWithItsCommands: 'lets generate write drops and narrowing',
  help: ['--allow-destructive', 'write drops of tables and columns and narrowed types (data in them is lost)'],
});
const FROM_DATABASE = booleanFlag('from-database', { onlyWithItsCommands: 'makes generate read the changes from the database' });
const SCHEMA = stringFlag('schema', (raw, cwd) => {
  if (!raw.trim()) throw new UsageError('--schema takes a file: --schema db/schema.ts');
  return path.resolve(cwd, raw);
}, { onlyWithItsCommands: 'names the declared schema generate reads' });
/** `--rename users.nick=users.nickname` (renamed), `--rename users.nick=` (dropped and added: not a rename). */
const RENAME = stringsFlag('rename', (raw) => Object.fromEntries(raw.map((r) => {
  const m = /^([^.=\s]+\.[^.=\s]+)=([^.=\s]+\.[^.=\s]+)?$/.exec(r);
  if (!m) throw new UsageError(`--rename takes table.column=table.column (e.g. users.nick=users.nickname), or table.column= for "not renamed"; not "${r}"`);
  return [m[1], m[2] ?? null];
})), { onlyWithItsCommands: 'answers generate\'s rename questions' });
const JS = booleanFlag('js');

type Args = { description: string; source?: string; schema?: string; allowDestructive: boolean; fromDatabase: boolean; renames: Record<string, string | null>; js: boolean };

export const generate: CliCommand<Args> = {
  name: 'generate',
  usage: [
    ['generate "<description>"', 'write the next migration from the declared schema, proved on a shadow database\n(--allow-destructive, --rename t.a=t.b, --schema <file>, --source, --js)'],
    ['generate "<description>" --from-database', 'turn changes made by hand in the database into a migration, recorded as applied'],
  ],
  flags: [SOURCE, SCHEMA, ALLOW_DESTRUCTIVE, FROM_DATABASE, RENAME, JS],
  cancellable: true,
  args(positionals, flags) {
    const description = positionals.join(' ');
    if (!description.trim()) throw new UsageError('generate needs a description: migrations generate "add nickname to users"');
    return { description, source: flags.get(SOURCE), schema: flags.get(SCHEMA), allowDestructive: flags.has(ALLOW_DESTRUCTIVE), fromDatabase: flags.has(FROM_DATABASE), renames: flags.get(RENAME) ?? {}, js: flags.has(JS) };
  },
  async run(engine, args, io) {
    let renames = args.renames;
    let report: GenerateReport;
    for (;;) {
      report = await engine.generate({ ...args, renames, signal: io.signal } as Parameters<typeof engine.generate>[0]);
      if (report.questions.length === 0) break;
      // drizzle-kit's question, asked here; without a terminal the flags answer it.
      if (!io.ask) throw new UsageError(`generate needs to know: ${report.questions.map(questionText).join('; ')} Answer with ${report.questions.map((q) => `--rename ${q.table}.${q.from}=${q.table}.${q.to}`).join(' ')} (renamed), or --rename ${report.questions[0].table}.${report.questions[0].from}= (dropped and added).`);
      const answers: Record<string, string | null> = { ...renames };
      for (const q of report.questions) {
        const answer = (await io.ask(`${questionText(q)} [y/N] `)).trim().toLowerCase();
        answers[`${q.table}.${q.from}`] = answer === 'y' || answer === 'yes' ? `${q.table}.${q.to}` : null;
      }
      renames = answers;
    }
    io.show(report, () => {
      if (!report.created) return report.message;
      const lint = report.verify?.lint ?? [];
      return [
        `Created ${path.relative(engine.workspace, report.created.path)}`,
        ...report.changes.map((c) => `  ${c}`),
        `verify: ${report.verify?.outcome ?? 'not run'}`,
        `lint: ${lint.length === 0 ? 'no findings' : lint.map((f) => `\n  ${f.severity} [${f.code}] ${f.message}`).join('')}`,
        report.message,
      ].join('\n');
    });
    // Written and proved; lint's findings are printed for review (the file was asked for as it is).
    return 0;
  },
};

const questionText = (q: RenameQuestion) => `was ${q.table}.${q.from} renamed to ${q.table}.${q.to}?`;
