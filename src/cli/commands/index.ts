import type { CliCommand } from '../command';
import { create } from './create';
import { down } from './down';
import { docs } from './docs';
import { drift } from './drift';
import { forget } from './forget';
import { generate } from './generate';
import { history } from './history';
import { lint } from './lint';
import { markApplied } from './markApplied';
import { redo } from './redo';
import { rehash } from './rehash';
import { renameSource } from './renameSource';
import { schema } from './schema';
import { shadows } from './shadows';
import { sql } from './sql';
import { status } from './status';
import { unlock } from './unlock';
import { up } from './up';
import { validate } from './validate';
import { verify } from './verify';

/** Every command of the CLI, in the order `migrations --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  status, up, down, redo, create, generate, history, validate, sql, unlock,
  markApplied, forget, renameSource, verify, lint, drift, schema, docs, rehash, shadows,
];
