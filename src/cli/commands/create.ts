import * as path from 'node:path';
import { booleanFlag, UsageError, type CliCommand } from '../command';
import { SOURCE } from '../flags';

const JS = booleanFlag('js');

export const create: CliCommand<{ description: string; source?: string; js: boolean }> = {
  name: 'create',
  usage: [['create "<description>" [--source <source>] [--js]', 'write a new migration file (--js: JavaScript)']],
  flags: [SOURCE, JS],
  args(positionals, flags) {
    const description = positionals.join(' ');
    if (!description.trim()) throw new UsageError('create needs a description: migrations create "add index to users"');
    return { description, source: flags.get(SOURCE), js: flags.has(JS) };
  },
  async run(engine, args, io) {
    const created = engine.create(args.description, { source: args.source, js: args.js });
    io.show(created, () => `Created ${path.relative(engine.workspace, created.path)}`);
    return 0;
  },
};
