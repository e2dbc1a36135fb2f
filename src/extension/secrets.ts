import type * as vscode from 'vscode';
import type { PasswordProvider, Settings } from '../core';

/**
 * The secret-storage key of a server password: per folder and per connection, so pointing a
 * folder at another server never sends it the old server's password.
 */
export function passwordKey(folder: vscode.Uri, client: Settings['client'], c: Settings['connection']): string {
  return `migrations.password ${folder.toString()} ${client}://${c.user ?? ''}@${c.host ?? '127.0.0.1'}:${c.port ?? ''}/${c.database ?? ''}`;
}

/** The engine's password lookup for a folder (used only when `migrations.passwordEnv` is unset). */
export function passwordProvider(secrets: vscode.SecretStorage, folder: vscode.Uri, settings: Settings): PasswordProvider {
  return async () => (await secrets.get(passwordKey(folder, settings.client, settings.connection))) || undefined;
}
