import { findProjectConfig, type ProjectConfig } from '../config/project';
import { readWorkspaceSettings } from '../config/settings';
import { forkRunner, runInChild, type IsolateOptions } from '../run/isolated';
import { silentLogger, type Logger } from '../model/types';
import type { ChildRequest } from './table';

/**
 * The workspace's project config as plain data, executed in a child process: the editor's way
 * to read it, as it runs no workspace code itself. Undefined when the workspace has none.
 */
export async function readProjectInChild(workspace: string, isolate: IsolateOptions, logger: Logger = silentLogger): Promise<ProjectConfig | undefined> {
  if (!findProjectConfig(workspace)) return undefined;
  const config = { workspace, settings: readWorkspaceSettings(workspace), cache: false };
  const described = await runInChild<ProjectConfig | null, ChildRequest>(forkRunner(isolate), config, { op: 'project' }, { logger, timeoutMs: 0, recordStopped: async () => {} });
  return described ?? undefined;
}
