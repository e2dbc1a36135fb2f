import { drift, lint, schema, shadows, verify } from './checks';
import { history, lockHolder, unlock } from './history';
import { forget, markApplied, markAppliedUpTo, renameSource } from './record';
import { down, redo, up } from './run';
import { sql } from './sql';
import { status } from './status';
import { recordStopped } from './stopped';
import { load, validate } from './validate';
import { create, rehash } from './create';
import { generate, schemaChanges } from './generate';
import { docs } from './docs';
import { applyPluginSchema, pluginSchema } from './pluginSchema';
import type { Operation } from './operation';
import type { Source } from '../model/types';

/**
 * Every operation the engine performs, by name: what a front end calls (through MigrationEngine)
 * and what the runner child is asked to run. A new capability is one more file and one line here.
 */
export const OPS = { status, validate, load, up, down, redo, sql, history, lockHolder, unlock, markApplied, markAppliedUpTo, forget, renameSource, verify, lint, drift, schema, shadows, generate, schemaChanges, docs, recordStopped, pluginSchema, applyPluginSchema } as const;

export type OpName = keyof typeof OPS;
/* eslint-disable @typescript-eslint/no-explicit-any -- matched, not used: the table's own types come out */
type ArgsOf<O> = O extends Operation<infer A, any, any> ? A : never;
type PreOf<O> = O extends Operation<any, any, infer P> ? P : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * What the runner child is asked: an operation of the table, its checked arguments, its
 * precheck and the folder sources that precheck read (plain data); or the project config,
 * described for a parent that must not execute it.
 */
export type ChildRequest =
  | { [K in OpName]: { readonly op: K; readonly args: ArgsOf<(typeof OPS)[K]>; readonly precheck?: PreOf<(typeof OPS)[K]>; readonly discovered?: readonly Source[] } }[OpName]
  | { readonly op: 'project' };

/** The operations that neither read a database nor run code: called as they are, synchronously. */
export const LOCAL_OPS = { create, rehash } as const;
