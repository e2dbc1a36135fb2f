import type { Problem, ProblemCode, Severity } from './types';

export function problem(file: string, line: number, column: number, severity: Severity, code: ProblemCode, message: string): Problem {
  return { file, line: Math.max(1, line), column: Math.max(1, column), severity, code, message };
}

/**
 * Static problems plus those found by loading, each code once (loading reports missing-down at another line).
 * A file that fails to load has one thing to fix first: its static missing-down warning is dropped.
 */
export function mergeProblems(found: readonly Problem[], loaded: readonly Problem[]): Problem[] {
  const failed = loaded.some((p) => p.severity === 'error');
  const seen = new Set(found.map((p) => p.code));
  return [...found.filter((p) => !(failed && p.code === 'missing-down')), ...loaded.filter((p) => !seen.has(p.code))];
}
