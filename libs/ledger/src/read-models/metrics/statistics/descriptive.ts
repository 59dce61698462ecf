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
  const sorted = Float64Array.from(values);
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (!Number.isFinite(sorted[i])) throw new RangeError(`values[${i}] = ${sorted[i]} is not finite`);
    sum += sorted[i];
  }
  sorted.sort();
  const count = sorted.length;
  return {
    count,
    mean: count === 0 ? null : sum / count,
    median: empiricalQuantile(sorted, 0.5),
    p90: empiricalQuantile(sorted, 0.9),
  };
}
