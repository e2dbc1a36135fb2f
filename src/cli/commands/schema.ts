import * as path from 'node:path';
import { type CliCommand } from '../command';

export const schema: CliCommand<undefined> = {
  name: 'schema',
  usage: [['schema', "write the database's schema to schema.sql (migrations.schemaFile) and print it"]],
  flags: [],
  args: () => undefined,
  async run(engine, _, io) {
    const dumped = await engine.schema({ write: true });
    io.show({ path: dumped.path, written: dumped.written, schema: dumped.model }, () =>
      `${dumped.text}\n-- ${dumped.written ? 'Written to' : 'Unchanged:'} ${dumped.path ? path.relative(engine.workspace, dumped.path) : '(migrations.schemaFile is off)'}`,
    );
    return 0;
  },
};
