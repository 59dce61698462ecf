import { sortNonNegativeFloat64 } from './radix-sort';

export interface DurationSummary {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
}

const INTEGER_TOLERANCE = 1e-9;

/**
 * The p-quantile of sorted values as the inverse of the empirical distribution function, averaging where it
 * is flat at p (R's quantile type 2): the value the Kaplan–Meier rule gives when nothing is censored, so the
 * "resolvedOnly" figures and the `km` ones agree on uncensored data.
 */
export function empiricalQuantile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const position = n * p;
  const nearest = Math.round(position);
  if (Math.abs(position - nearest) <= INTEGER_TOLERANCE * Math.max(1, position)) {
    if (nearest <= 0) return sorted[0];
    if (nearest >= n) return sorted[n - 1];
    return (sorted[nearest - 1] + sorted[nearest]) / 2;
  }
  return sorted[Math.min(n - 1, Math.ceil(position) - 1)];
}

/** Over resolved durations only (the labelled "resolvedOnly" figures): null fields when empty. */
export function describeDurations(values: ArrayLike<number>): DurationSummary {
  const copy = Float64Array.from(values);
  let negative = false;
  for (let i = 0; i < copy.length; i++) {
    if (!Number.isFinite(copy[i])) throw new RangeError(`values[${i}] = ${copy[i]} is not finite`);
    if (copy[i] < 0) negative = true;
    copy[i] += 0;
  }
  // Durations are never negative unless business times were recorded out of order; sort those natively.
  return describeSortedDurations(negative ? copy.sort() : sortNonNegativeFloat64(copy));
}

/** describeDurations of values already sorted ascending (and finite). */
export function describeSortedDurations(sorted: ArrayLike<number>): DurationSummary {
  const count = sorted.length;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i];
  return {
    count,
    mean: count === 0 ? null : sum / count,
    median: empiricalQuantile(sorted, 0.5),
    p90: empiricalQuantile(sorted, 0.9),
  };
}
