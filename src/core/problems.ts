import type { Problem } from './types';

/** Static problems plus those found by loading, each code once (loading reports missing-down at another line). */
export function mergeProblems(found: readonly Problem[], loaded: readonly Problem[]): Problem[] {
  const seen = new Set(found.map((p) => p.code));
  return [...found, ...loaded.filter((p) => !seen.has(p.code))];
}
