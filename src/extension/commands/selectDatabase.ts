import * as vscode from 'vscode';
import { CLIENTS, isSqlite, MigrationsError, type Settings } from '../../core';
import { passwordKey } from '../secrets';
import { Cancelled, requireTrust, targetOf, type CommandSpec } from './shared';

/** What Select Database settles on; tests and other extensions may pass it instead of answering prompts. */
export interface DatabaseChoice {
  readonly client: Settings['client'];
  /** SQLite file, relative to the workspace folder. */
  readonly database?: string;
  readonly connection?: Settings['connection'];
  /** Kept in secret storage, never in settings; `''` forgets a stored one. */
  readonly password?: string;
  readonly knexfile?: string;
  readonly environment?: string;
}

const DEFAULT_PORTS = { pg: 5432, mysql2: 3306 } as const;

/**
 * Select Database: writes the folder's `migrations.*` settings (never a password) and keeps
 * a server password in VS Code's secret storage, where the engine looks it up when it connects.
 */
export const selectDatabase: CommandSpec = {
  id: 'migrations.selectDatabase',
  async run(ctx, ...args) {
    // The settings written here decide what a run connects to (a knexfile is executed).
    requireTrust();
    const target = await targetOf(ctx, args[0]);
    const declared = ctx.model.project(target.folder);
    if (declared && (declared.database || declared.settings.knexfile)) {
      // Settings written here would be overruled by the config: say where the database is chosen.
      throw new MigrationsError(`The database of ${target.folder.name} is declared in ${declared.file}; change it there.`);
    }
    const choice = choiceOf(args) ?? (await ask(target.folder));
    const config = vscode.workspace.getConfiguration('migrations', target.folder.uri);
    const set = (key: string, value: unknown) => config.update(key, value, vscode.ConfigurationTarget.WorkspaceFolder);
    // One setting at a time would have the model read the database from half of them (a pg
    // client with the old connection: "no PostgreSQL user name specified"): it reads once, after.
    await ctx.model.holdingRefresh(async () => {
    await set('client', choice.client);
    await set('knexfile', choice.knexfile || undefined);
    await set('environment', choice.knexfile ? choice.environment || undefined : undefined);
    if (isSqlite(choice.client)) await set('database', choice.database || undefined);
    else if (!choice.knexfile) {
      const connection = { ...choice.connection, port: choice.connection?.port ?? DEFAULT_PORTS[choice.client] };
      await set('connection', connection);
      if (choice.password !== undefined) {
        const key = passwordKey(target.folder.uri, choice.client, connection);
        if (choice.password === '') await ctx.secrets.delete(key);
        else await ctx.secrets.store(key, choice.password);
      }
    }
    });
    // The tree re-reads on its own; the command does not wait for a server that may be slow to answer.
    ctx.model.reset();
    const label = ctx.model.engine(target.folder).databaseLabel;
    ctx.log.info(`${target.folder.name}: database is now ${label}`);
    void vscode.window.showInformationMessage(`Migrations database: ${label}`);
    return label;
  },
};

async function ask(folder: vscode.WorkspaceFolder): Promise<DatabaseChoice> {
  const kinds = [
    { label: 'SQLite', description: "a file in the workspace, Node's built-in SQLite (the default)", client: 'sqlite' as const },
    { label: 'PostgreSQL', description: 'pg', client: 'pg' as const },
    { label: 'MySQL / MariaDB', description: 'mysql2', client: 'mysql2' as const },
    { label: 'knexfile', description: 'the connection of an existing knexfile', client: undefined },
  ];
  const kind = required(await vscode.window.showQuickPick(kinds, { title: `Migrations database for ${folder.name}` }));
  const config = vscode.workspace.getConfiguration('migrations', folder.uri);
  if (kind.client === 'sqlite') {
    const database = required(await input('SQLite file, relative to the workspace folder', config.get<string>('database') ?? '.migrations/dev.sqlite3'));
    return { client: 'sqlite', database };
  }
  if (!kind.client) return askKnexfile(config);
  // The current connection is a starting point only for the same kind of server: its port (and
  // user) mean nothing to another (MySQL after PostgreSQL pre-fills 3306, not 5432).
  const current = connectionDefaults(kind.client, config.get<Settings['client']>('client'), config.get<Settings['connection']>('connection'));
  const host = required(await input('Host', current.host ?? '127.0.0.1'));
  const port = Number(required(await input('Port', String(current.port ?? DEFAULT_PORTS[kind.client]), (v) => (/^\d+$/.test(v) ? undefined : 'A port number, e.g. 5432'))));
  const user = required(await input('User', current.user ?? ''));
  const database = required(await input('Database', current.database ?? ''));
  const password = await vscode.window.showInputBox({
    title: 'Password (kept in VS Code secret storage; leave empty for none)',
    password: true,
    ignoreFocusOut: true,
  });
  if (password === undefined) throw new Cancelled();
  return { client: kind.client, connection: { host, port, user, database }, password };
}

/** What the connection prompts start from: the current connection when the client stays, else its host and the client's port. */
export function connectionDefaults(client: 'pg' | 'mysql2', currentClient: Settings['client'] | undefined, current: Settings['connection'] | undefined): NonNullable<Settings['connection']> {
  if (currentClient === client) return { ...current, port: current?.port ?? DEFAULT_PORTS[client] };
  return { host: current?.host, port: DEFAULT_PORTS[client] };
}

async function askKnexfile(config: vscode.WorkspaceConfiguration): Promise<DatabaseChoice> {
  const files = await vscode.workspace.findFiles('**/knexfile.{js,cjs,ts}', '**/node_modules/**', 20);
  if (files.length === 0) throw new MigrationsError('No knexfile (knexfile.js, .cjs or .ts) in this workspace; create one, or choose SQLite, PostgreSQL or MySQL.');
  const picked = required(await vscode.window.showQuickPick(files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, false), uri })), { title: 'knexfile' }));
  const environment = required(await input('knexfile environment', config.get<string>('environment') ?? 'development'));
  // The knexfile names its own client; this one is kept only for when the knexfile is unset.
  const client = config.get<Settings['client']>('client') ?? 'sqlite';
  return { client, knexfile: picked.label, environment };
}

function input(title: string, value: string, validateInput?: (v: string) => string | undefined): Thenable<string | undefined> {
  return vscode.window.showInputBox({ title, value, ignoreFocusOut: true, validateInput });
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Cancelled();
  return value;
}

const CHOICE_KEYS = new Set(['client', 'database', 'connection', 'password', 'knexfile', 'environment']);

/** A DatabaseChoice among the arguments, checked against its shape (an object with other keys is refused, not guessed at). */
function choiceOf(args: readonly unknown[]): DatabaseChoice | undefined {
  const arg = args.find((a) => typeof a === 'object' && a !== null && !(a instanceof vscode.Uri) && !Array.isArray(a) && 'client' in a) as Record<string, unknown> | undefined;
  if (!arg) return undefined;
  const stray = Object.keys(arg).filter((k) => !CHOICE_KEYS.has(k));
  if (stray.length > 0 || !(CLIENTS as readonly unknown[]).includes(arg.client)) {
    throw new MigrationsError(`Select Database was given ${stray.length > 0 ? `${stray.join(', ')}, which it does not take` : `client ${JSON.stringify(arg.client)}`}; it takes client (${CLIENTS.join(', ')}), database, connection, password, knexfile and environment.`);
  }
  return arg as unknown as DatabaseChoice;
}
