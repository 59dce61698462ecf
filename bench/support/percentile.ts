/**
 * The nearest-rank p-th percentile of values sorted ascending: the smallest value with at least p% of the
 * values at or below it. At 100 samples p99 is the second largest (the largest is reported as max).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
