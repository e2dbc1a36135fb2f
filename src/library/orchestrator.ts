import { describeError, MigrationsError } from '../core';
import type { MigrationService, ServiceReport } from './services';

export interface OrchestratorReport {
  readonly ok: boolean;
  /** Every service in the order it ran (or would have): after a failure, the rest are `not-run`. */
  readonly services: readonly (ServiceReport | { readonly service: string; readonly ok: false; readonly notRun: true; readonly steps: readonly [] })[];
}

/**
 * Runs every service by priority (higher first; the database's 100 unless configured) and stops
 * at the first that fails: an app's start-up, with its database migrated before its plugins.
 */
export class MigrationOrchestrator {
  private readonly services: MigrationService[] = [];

  constructor(services: readonly MigrationService[] = []) {
    for (const s of services) this.register(s);
  }

  register(service: MigrationService): void {
    if (this.services.some((s) => s.name === service.name)) throw new MigrationsError(`A migration service named "${service.name}" is registered already.`, { code: 'config' });
    this.services.push(service);
  }

  /** The services in run order: priority, then name. */
  get order(): readonly MigrationService[] {
    return [...this.services].sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  }

  async runAll(): Promise<OrchestratorReport> {
    const reports: OrchestratorReport['services'][number][] = [];
    let failed = false;
    for (const service of this.order) {
      if (failed) {
        reports.push({ service: service.name, ok: false, notRun: true, steps: [] });
        continue;
      }
      const report = await service.runMigrations().catch((err: unknown): ServiceReport => ({ service: service.name, ok: false, steps: [], error: describeError(err) }));
      reports.push(report);
      failed = !report.ok;
    }
    return { ok: !failed, services: reports };
  }
}
