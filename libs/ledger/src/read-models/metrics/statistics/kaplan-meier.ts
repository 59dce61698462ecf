import { sortNonNegativeFloat64 } from './radix-sort';

/**
 * Kaplan–Meier product-limit estimator with Greenwood variance, log-log 95% bands and quantiles with their
 * confidence intervals, defined as R's `survival` package does (`survfit(..., conf.type = "log-log")` then
 * `quantile()`), so that figures can be checked against R or SAS. docs/metrics.md "Statistics" states the rules.
 */

export interface CurvePoint {
  t: number;
  survival: number;
  atRisk: number;
  events: number;
  censored: number;
}

export interface Estimate {
  value: number | null;
  lower: number | null;
  upper: number | null;
}

export interface KaplanMeierSummary {
  median: Estimate;
  p75: Estimate;
  p90: Estimate;
  /**
   * Step curve, one point per distinct observed time (events or censorings), S(t) just after that time.
   * The first point is at t = 0 with every observation at risk: survival 1 unless some observations end at 0.
   */
  curve: CurvePoint[];
}

/** One row per distinct observed time, in increasing time order. */
export interface KaplanMeierTable {
  time: Float64Array;
  atRisk: Float64Array;
  events: Float64Array;
  censored: Float64Array;
  survival: Float64Array;
  /** Greenwood standard error of log S(t): sqrt(sum d / (n (n - d))); 0 before the first event, Infinity at S = 0. */
  stdErr: Float64Array;
  /** 95% log-log band; NaN where it is undefined (S = 0, as R leaves it NA). Equal to S while stdErr is 0. */
  lower: Float64Array;
  upper: Float64Array;
  /**
   * Whether each band never rises over time (NaN only at the end). The log-log band usually does not rise,
   * but nothing guarantees it; quantiles use a binary search where it holds and R's full scan where not.
   */
  lowerMonotone: boolean;
  upperMonotone: boolean;
}

/** qnorm(0.975): the two-sided 95% normal quantile. */
export const Z_95 = 1.959963984540054;

/** R's default `tolerance` in quantile.survfit (sqrt of double epsilon), for "exactly at the level". */
export const QUANTILE_TOLERANCE = Math.sqrt(Number.EPSILON);

function sortedTimes(times: ArrayLike<number>, events: ArrayLike<number | boolean>) {
  if (times.length !== events.length) {
    throw new RangeError(`times (${times.length}) and events (${events.length}) differ in length`);
  }
  let eventCount = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (!Number.isFinite(t) || t < 0) throw new RangeError(`times[${i}] = ${t} is not a finite time >= 0`);
    if (events[i]) eventCount++;
  }
  // Two sorts of plain doubles, merged below, instead of sorting objects or an index array.
  const eventTimes = new Float64Array(eventCount);
  const censorTimes = new Float64Array(times.length - eventCount);
  for (let i = 0, e = 0, c = 0; i < times.length; i++) {
    // + 0 turns -0 into +0 for the radix sort.
    if (events[i]) eventTimes[e++] = times[i] + 0;
    else censorTimes[c++] = times[i] + 0;
  }
  return { eventTimes: sortNonNegativeFloat64(eventTimes), censorTimes: sortNonNegativeFloat64(censorTimes) };
}

/**
 * Observations already split and sorted: `eventTimes` (ends observed) and `censorTimes` (right-censored), each
 * ascending, finite and >= 0. What callers that get their times in order (the metrics, from orders kept per
 * snapshot) hand over instead of sorting per query; kaplanMeier* on raw times produce these first.
 */
export interface SortedObservations {
  eventTimes: ArrayLike<number>;
  censorTimes: ArrayLike<number>;
}

/** The full product-limit table: what survfit returns as time, n.risk, n.event, n.censor, surv, std.err, lower, upper. */
export function kaplanMeierTable(
  times: ArrayLike<number>,
  events: ArrayLike<number | boolean>,
): KaplanMeierTable {
  return kaplanMeierTableOfSorted(sortedTimes(times, events));
}

/** kaplanMeierTable of observations already sorted. */
export function kaplanMeierTableOfSorted({ eventTimes, censorTimes }: SortedObservations): KaplanMeierTable {
  const n = eventTimes.length + censorTimes.length;
  const time = new Float64Array(n);
  const atRisk = new Float64Array(n);
  const eventCounts = new Float64Array(n);
  const censored = new Float64Array(n);
  const survival = new Float64Array(n);
  const stdErr = new Float64Array(n);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);

  let e = 0;
  let c = 0;
  let rows = 0;
  let remaining = n;
  let s = 1;
  let greenwood = 0;
  let lowerMonotone = true;
  let upperMonotone = true;
  while (e < eventTimes.length || c < censorTimes.length) {
    const t = Math.min(
      e < eventTimes.length ? eventTimes[e] : Infinity,
      c < censorTimes.length ? censorTimes[c] : Infinity,
    );
    let d = 0;
    while (e < eventTimes.length && eventTimes[e] === t) {
      d++;
      e++;
    }
    let k = 0;
    while (c < censorTimes.length && censorTimes[c] === t) {
      k++;
      c++;
    }
    // Ties: the d events happen before the k censorings at t, so all d + k are at risk for the events.
    if (d > 0) {
      s *= (remaining - d) / remaining;
      greenwood += remaining === d ? Infinity : d / (remaining * (remaining - d));
    }
    const se = Math.sqrt(greenwood);
    time[rows] = t;
    atRisk[rows] = remaining;
    eventCounts[rows] = d;
    censored[rows] = k;
    survival[rows] = s;
    stdErr[rows] = se;
    if (se === 0) {
      lower[rows] = s;
      upper[rows] = s;
    } else if (s === 0) {
      lower[rows] = NaN;
      upper[rows] = NaN;
    } else if (d === 0) {
      // A censor-only time leaves S and its variance, hence the band, as they were.
      lower[rows] = lower[rows - 1];
      upper[rows] = upper[rows - 1];
    } else {
      // exp(-exp(log(-log S) -+ z se / log S)) as R writes it, which is S^exp(-+ z se / log S).
      const logS = Math.log(s);
      const widening = Math.exp((-Z_95 * se) / logS);
      lower[rows] = Math.exp(logS * widening);
      upper[rows] = Math.exp(logS / widening);
    }
    if (rows > 0) {
      if (lower[rows] > lower[rows - 1] || (Number.isNaN(lower[rows - 1]) && !Number.isNaN(lower[rows]))) {
        lowerMonotone = false;
      }
      if (upper[rows] > upper[rows - 1] || (Number.isNaN(upper[rows - 1]) && !Number.isNaN(upper[rows]))) {
        upperMonotone = false;
      }
    }
    rows++;
    remaining -= d + k;
  }
  return {
    lowerMonotone,
    upperMonotone,
    time: time.subarray(0, rows),
    atRisk: atRisk.subarray(0, rows),
    events: eventCounts.subarray(0, rows),
    censored: censored.subarray(0, rows),
    survival: survival.subarray(0, rows),
    stdErr: stdErr.subarray(0, rows),
    lower: lower.subarray(0, rows),
    upper: upper.subarray(0, rows),
  };
}

/**
 * The p-quantiles of a step curve (survival `level[i]` from `time[i]` on, 1 before `time[0]`, the curve starting
 * at t = 0): for each p, the smallest t with S(t) <= 1 - p; if S equals 1 - p (within tolerance) over a stretch,
 * the midpoint of the stretch, a stretch running to the end of the curve ending at its last time; null if never
 * reached. NaN levels (an undefined band) are skipped. Follows `findq` of R's quantile.survfit, which also holds
 * for a band that is not monotone. One pass over the curve for all ps.
 */
export function stepQuantiles(
  time: ArrayLike<number>,
  level: ArrayLike<number>,
  ps: readonly number[],
  tolerance = QUANTILE_TOLERANCE,
  /** The caller knows `level` never rises (NaN only at the end): binary searches give the same answer. */
  nonIncreasing = false,
): (number | null)[] {
  if (nonIncreasing) return monotoneStepQuantiles(time, level, ps, tolerance);
  // On the cumulative scale y = 1 - S, from the origin (0, 0), keeping only the points where y changes (the
  // censor-only times repeat the previous level). R takes, through approx(), the kept point with the smallest
  // y >= p - tol, and the one with the smallest y >= p + tol: the same point unless a stretch sits at p.
  const q = ps.length;
  const atLevelY = ps.map((p) => (p <= tolerance ? 0 : Infinity));
  const atLevelTime = ps.map(() => 0);
  const pastLevelY = ps.map(() => Infinity);
  const pastLevelTime = ps.map(() => 0);
  let previous = 0;
  let previousUndefined = false;
  let maxY = 0;
  for (let i = 0; i < time.length; i++) {
    const y = 1 - level[i];
    const undefinedHere = Number.isNaN(y);
    if (undefinedHere ? previousUndefined : !previousUndefined && y === previous) continue;
    previousUndefined = undefinedHere;
    previous = y;
    if (undefinedHere) continue;
    if (y > maxY) maxY = y;
    for (let j = 0; j < q; j++) {
      if (y < pastLevelY[j] && y >= ps[j] - tolerance) {
        if (y < atLevelY[j]) {
          atLevelY[j] = y;
          atLevelTime[j] = time[i];
        }
        if (y >= ps[j] + tolerance) {
          pastLevelY[j] = y;
          pastLevelTime[j] = time[i];
        }
      }
    }
  }
  const endTime = time.length > 0 ? time[time.length - 1] : 0;
  return ps.map((p, j) => {
    if (p === 0) return 0;
    // R tests max(y) < p without the tolerance; with it, a level reached up to rounding (a product that is
    // 1/2 exactly computed as 0.49999999999999994) counts as reached, as it does everywhere else on the curve.
    if (maxY < p - tolerance) return null;
    if (!previousUndefined && Math.abs(p - previous) < tolerance) return (atLevelTime[j] + endTime) / 2;
    if (pastLevelY[j] === Infinity) return null;
    return (atLevelTime[j] + pastLevelTime[j]) / 2;
  });
}

/**
 * stepQuantiles for a curve that never rises: the kept point with the smallest y >= p -+ tol is then the
 * first row reaching it, found by binary search; the last kept level is the last row's.
 */
function monotoneStepQuantiles(
  time: ArrayLike<number>,
  level: ArrayLike<number>,
  ps: readonly number[],
  tolerance: number,
): (number | null)[] {
  let defined = time.length;
  while (defined > 0 && Number.isNaN(level[defined - 1])) defined--;
  const trailingUndefined = defined < time.length;
  const maxY = defined > 0 ? 1 - level[defined - 1] : 0;
  const endTime = time.length > 0 ? time[time.length - 1] : 0;
  /** Time of the first defined row with 1 - level >= target, or null (the origin when target <= 0). */
  const firstReaching = (target: number): number | null => {
    if (target <= 0) return 0;
    let low = 0;
    let high = defined;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (1 - level[middle] >= target) high = middle;
      else low = middle + 1;
    }
    return low < defined ? time[low] : null;
  };
  return ps.map((p) => {
    if (p === 0) return 0;
    if (maxY < p - tolerance) return null;
    const atLevel = firstReaching(p - tolerance) as number;
    if (!trailingUndefined && Math.abs(p - maxY) < tolerance) return (atLevel + endTime) / 2;
    const pastLevel = firstReaching(p + tolerance);
    return pastLevel === null ? null : (atLevel + pastLevel) / 2;
  });
}

const SUMMARY_PS = [0.5, 0.75, 0.9];

function estimates(table: KaplanMeierTable): Pick<KaplanMeierSummary, 'median' | 'p75' | 'p90'> {
  // S never rises: each factor (n - d) / n is at most 1, and rounding a product keeps it at most S.
  const value = stepQuantiles(table.time, table.survival, SUMMARY_PS, QUANTILE_TOLERANCE, true);
  // The lower band reaches a level first, so it bounds the quantile from below (R: findq on 1 - lower).
  const lower = stepQuantiles(table.time, table.lower, SUMMARY_PS, QUANTILE_TOLERANCE, table.lowerMonotone);
  const upper = stepQuantiles(table.time, table.upper, SUMMARY_PS, QUANTILE_TOLERANCE, table.upperMonotone);
  const at = (j: number): Estimate => ({ value: value[j], lower: lower[j], upper: upper[j] });
  return { median: at(0), p75: at(1), p90: at(2) };
}

/**
 * times in seconds (>= 0); events[i] truthy = resolved at times[i], falsy = right-censored there.
 * maxCurvePoints: the curve comes thinned as by thinCurve, without building the points it drops.
 */
export function kaplanMeier(
  times: ArrayLike<number>,
  events: ArrayLike<number | boolean>,
  maxCurvePoints = Infinity,
): KaplanMeierSummary {
  return kaplanMeierOfSorted(sortedTimes(times, events), maxCurvePoints);
}

/** kaplanMeier of observations already sorted. */
export function kaplanMeierOfSorted(
  observations: SortedObservations,
  maxCurvePoints = Infinity,
): KaplanMeierSummary {
  const table = kaplanMeierTableOfSorted(observations);
  const observed = observations.eventTimes.length + observations.censorTimes.length;
  const rows = table.time.length;
  // Curve index -1 is the synthetic origin point when no observation ends at 0.
  const withOrigin = rows > 0 && table.time[0] > 0;
  const first = withOrigin ? -1 : 0;
  const point = (i: number): CurvePoint =>
    i < 0
      ? { t: 0, survival: 1, atRisk: observed, events: 0, censored: 0 }
      : {
          t: table.time[i],
          survival: table.survival[i],
          atRisk: table.atRisk[i],
          events: table.events[i],
          censored: table.censored[i],
        };
  const survivalAt = (i: number) => (i < 0 ? 1 : table.survival[i]);
  const picked = pickCurveIndices(first, rows - 1, survivalAt, maxCurvePoints);
  return { ...estimates(table), curve: picked.map(point) };
}

/**
 * The Kaplan–Meier p-quantiles alone, with no confidence band and no curve (the overview's medians): the
 * same values as kaplanMeier()'s, from the same sort and product, without the Greenwood and band work per
 * row that dominates a grouped answer. Its walk over the distinct times repeats kaplanMeierTable's on
 * purpose: one walker shared through a callback per row measured 10–20% slower (bench:kaplan-meier).
 */
export function kaplanMeierQuantiles(
  times: ArrayLike<number>,
  events: ArrayLike<number | boolean>,
  ps: readonly number[],
): (number | null)[] {
  return kaplanMeierQuantilesOfSorted(sortedTimes(times, events), ps);
}

/**
 * The step curve kaplanMeierQuantilesOfSorted searches, reused across calls: a grouped answer asks for
 * hundreds of them, and fresh arrays of the population's size each time are what the collector then
 * spends its time on. Safe because the search runs synchronously and returns no view of them.
 */
let quantileScratch = { time: new Float64Array(0), survival: new Float64Array(0) };

/** kaplanMeierQuantiles of observations already sorted. */
export function kaplanMeierQuantilesOfSorted(
  { eventTimes, censorTimes }: SortedObservations,
  ps: readonly number[],
): (number | null)[] {
  const n = eventTimes.length + censorTimes.length;
  if (quantileScratch.time.length < n) {
    const length = Math.max(n, 2 * quantileScratch.time.length);
    quantileScratch = { time: new Float64Array(length), survival: new Float64Array(length) };
  }
  const { time, survival } = quantileScratch;
  let e = 0;
  let c = 0;
  let rows = 0;
  let remaining = n;
  let s = 1;
  while (e < eventTimes.length || c < censorTimes.length) {
    const t = Math.min(
      e < eventTimes.length ? eventTimes[e] : Infinity,
      c < censorTimes.length ? censorTimes[c] : Infinity,
    );
    let d = 0;
    while (e < eventTimes.length && eventTimes[e] === t) {
      d++;
      e++;
    }
    let k = 0;
    while (c < censorTimes.length && censorTimes[c] === t) {
      k++;
      c++;
    }
    if (d > 0) s *= (remaining - d) / remaining;
    time[rows] = t;
    survival[rows] = s;
    rows++;
    remaining -= d + k;
  }
  return stepQuantiles(time.subarray(0, rows), survival.subarray(0, rows), ps, QUANTILE_TOLERANCE, true);
}

/** Indices from..to (inclusive) of the points thinCurve keeps; all of them when they fit. */
function pickCurveIndices(
  from: number,
  to: number,
  survivalAt: (i: number) => number,
  maxPoints: number,
): number[] {
  if (!(maxPoints === Infinity || (Number.isInteger(maxPoints) && maxPoints >= 2))) {
    throw new RangeError(`maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  const all: number[] = [];
  if (to < from) return all;
  if (to - from + 1 <= maxPoints) {
    for (let i = from; i <= to; i++) all.push(i);
    return all;
  }
  // Counted first, so the usual case (far more drops than points) never holds them all in an array.
  let dropCount = 0;
  for (let i = from + 1; i < to; i++) if (survivalAt(i) < survivalAt(i - 1)) dropCount++;
  const interior = maxPoints - 2;
  const kept: number[] = [];
  if (dropCount <= interior) {
    for (let i = from + 1; i < to; i++) if (survivalAt(i) < survivalAt(i - 1)) kept.push(i);
  } else {
    // One walk down the levels: a drop is kept when it is the first to reach the next level not yet reached.
    const top = survivalAt(from);
    const spacing = (top - survivalAt(to)) / (interior + 1);
    let k = 1;
    for (let i = from + 1; i < to && k <= interior; i++) {
      const s = survivalAt(i);
      if (!(s < survivalAt(i - 1)) || s > top - k * spacing) continue;
      kept.push(i);
      while (k <= interior && s <= top - k * spacing) k++;
    }
  }
  return [from, ...kept, to];
}

/**
 * At most maxPoints points of the curve, unchanged, for plotting it as a step function. Kept: the first and the
 * last point (the curve's extent), and the points where survival drops; censor-only points go first. When the
 * drops are still too many, the drops kept are the first to reach each of maxPoints - 2 evenly spaced levels
 * between the first and the last survival, so the plotted steps never miss the true curve by more than one
 * level spacing, and every kept point is an exact point of the curve.
 */
export function thinCurve(curve: readonly CurvePoint[], maxPoints: number): CurvePoint[] {
  return pickCurveIndices(0, curve.length - 1, (i) => curve[i].survival, maxPoints).map((i) => curve[i]);
}
