import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import type { Catalog } from '../database/catalog';
import { introspect } from '../database/introspect';
import { sha256 } from '../model/checksum';
import type { TableModel } from '../model/schema';
import { dumpHeader, dumpSchema, dumpTable } from '../model/schemaDiff';

const FORMAT = 1;

/** A table as the last dump saw it. */
interface TableEntry {
  /** Its fingerprint then (see Catalog.fingerprints). */
  readonly fp: string;
  /** Offset and length of its part in the file; absent for a table the dump leaves out (bookkeeping). */
  readonly at?: number;
  readonly length?: number;
  /** Fingerprints then of the tables its foreign keys name (null: no such table): its part shows their primary keys. */
  readonly refs: Record<string, string | null>;
}

/** What the last dump written to a schema file was made of, kept outside the workspace. */
interface DumpRecord {
  readonly format: number;
  readonly file: string;
  /** SHA-256 of the text it describes: a file holding any other text (edited, checked out, dumped elsewhere) is dumped afresh. */
  readonly hash: string;
  readonly tables: Record<string, TableEntry>;
}

/**
 * The text `dumpSchema(introspect(knex))` gives, for the schema file `file`, reading again only
 * the tables whose definition changed since the dump the record file `record` describes. At 1000
 * tables a full read costs ~40 ms after every run that applied one migration; the catalog query
 * that tells which tables changed, ~3. A full read on servers, without `record`, or when the file
 * is not byte for byte the recorded text. The record is updated for the returned text (whether
 * or not the caller then writes it: a file holding other text is never trusted).
 */
export async function dumpForFile(knex: Knex, catalog: Catalog, dialectName: string, database: string, file: string, record?: string): Promise<string> {
  if (record === undefined || !catalog.fingerprints) return dumpSchema(await introspect(knex, catalog), dialectName, database);
  // One read transaction: the fingerprints and the tables read describe the same schema.
  return knex.transaction(async (trx) => {
    const fingerprints = await catalog.fingerprints!(trx);
    if (!fingerprints) return dumpSchema(await introspect(trx, catalog), dialectName, database);
    const previous = readPrevious(file, record);
    // Keyed by table names, which may be any text (`__proto__` too): no prototype.
    const entries: Record<string, TableEntry> = Object.create(null);
    const recorded = (name: string) => (previous && Object.hasOwn(previous.record.tables, name) ? previous.record.tables[name] : undefined);
    const kept: { name: string; text: string; table?: TableModel }[] = [];
    const changed: string[] = [];
    for (const [name, fp] of fingerprints) {
      const entry = recorded(name);
      if (!entry || entry.fp !== fp || Object.entries(entry.refs).some(([ref, refFp]) => (fingerprints.get(ref) ?? null) !== refFp)) changed.push(name);
      else if (entry.at === undefined) entries[name] = entry;
      else kept.push({ name, text: previous!.text.slice(entry.at, entry.at + entry.length!) });
    }
    const fresh = previous ? await readTables(trx, catalog, changed) : (await introspect(trx, catalog)).tables;
    const parts = [...kept, ...fresh.map((table) => ({ name: table.name, text: dumpTable(table), table }))];
    parts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let text = dumpHeader(dialectName, database);
    for (const part of parts) {
      const fp = fingerprints.get(part.name);
      const was = recorded(part.name);
      if (fp !== undefined) entries[part.name] = { fp, refs: part.table ? refsOf(part.table, fingerprints) : was!.refs, at: text.length, length: part.text.length };
      text += part.text;
    }
    text += '\n';
    // Tables the dump leaves out (bookkeeping) are recorded too: not read again until they change.
    for (const name of changed) entries[name] ??= { fp: fingerprints.get(name)!, refs: {} };
    writeRecord(record, { format: FORMAT, file, hash: sha256(text), tables: entries });
    return text;
  });
}

/**
 * The named tables as a whole-schema read gives them: a foreign key that names no columns shows
 * the other table's primary key, so the tables they reference are read with them.
 */
async function readTables(knex: Knex, catalog: Catalog, names: readonly string[]): Promise<readonly TableModel[]> {
  if (names.length === 0) return [];
  const wanted = new Set(names);
  const first = await introspect(knex, catalog, { tables: names });
  const others = [...new Set(first.tables.flatMap((t) => t.foreignKeys.map((f) => f.table)))].filter((t) => !wanted.has(t));
  if (others.length === 0) return first.tables;
  return (await introspect(knex, catalog, { tables: [...names, ...others] })).tables.filter((t) => wanted.has(t.name));
}

function refsOf(table: TableModel, fingerprints: ReadonlyMap<string, string>): Record<string, string | null> {
  return Object.fromEntries(table.foreignKeys.map((f) => [f.table, fingerprints.get(f.table) ?? null]));
}

/** The file's text and its record, when the record describes exactly that text. */
function readPrevious(file: string, recordFile: string): { text: string; record: DumpRecord } | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as DumpRecord;
    if (record?.format !== FORMAT || record.file !== file || typeof record.tables !== 'object' || record.tables === null) return undefined;
    const text = fs.readFileSync(file, 'utf8');
    if (sha256(text) !== record.hash) return undefined;
    const fits = Object.values(record.tables).every((e) => typeof e?.fp === 'string' && typeof e.refs === 'object' && e.refs !== null &&
      (e.at === undefined || (Number.isSafeInteger(e.at) && Number.isSafeInteger(e.length) && e.at >= 0 && e.at + e.length! <= text.length)));
    return fits ? { text, record } : undefined;
  } catch {
    // No record or no file yet, or one unreadable: a full read.
    return undefined;
  }
}

/** Atomically; a record that cannot be written only costs the next run a full read. */
function writeRecord(file: string, record: DumpRecord): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, file);
  } catch {
    // See above.
  }
}
