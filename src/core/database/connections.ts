import type { Knex } from 'knex';
import type { DatabaseTarget } from './database';
import type { Dialect } from './dialect';

/**
 * A target's connections, opened when first needed: a read connection until the first write,
 * then one write connection for everything (a read-only SQLite handle would not see the switch
 * to WAL cleanly). An app's own Knex instance serves both and is never destroyed here.
 */
export class Connections {
  private writer?: Knex;
  private reader?: Knex;

  constructor(
    private readonly target: DatabaseTarget,
    private readonly dialect: Dialect,
  ) {}

  /** A write connection is open: reads go through it. */
  get writing(): boolean {
    return this.writer !== undefined;
  }

  /** The connection for a read; undefined for a SQLite file not made yet. */
  read(): Knex | undefined {
    if (this.writer) return this.writer;
    return (this.reader ??= this.dialect.open('read'));
  }

  write(): Knex {
    if (!this.writer) {
      if (this.reader !== this.target.instance) void this.reader?.destroy();
      this.reader = undefined;
      this.writer = this.dialect.open('write')!;
    }
    return this.writer;
  }

  /** A connection of its own for a dry run, and how to let it go. */
  dryRun(): { knex: Knex; done(): Promise<void> } {
    const knex = this.dialect.open('dry-run')!;
    return { knex, done: async () => (knex !== this.target.instance ? knex.destroy() : undefined) };
  }

  /** Closes what was opened here; they open again when next needed. */
  async close(): Promise<void> {
    const open = [this.writer, this.reader].filter((k): k is Knex => k !== undefined && k !== this.target.instance);
    this.writer = this.reader = undefined;
    await Promise.all(open.map((k) => k.destroy()));
  }
}
