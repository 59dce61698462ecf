import fc from 'fast-check';
import { describeDurations } from './descriptive';
import {
  kaplanMeierQuantiles,
  kaplanMeier,
  kaplanMeierTable,
  stepQuantiles,
  thinCurve,
  Z_95,
  type CurvePoint,
  type KaplanMeierTable,
} from './kaplan-meier';

const rows = (table: KaplanMeierTable) =>
  Array.from(table.time, (t, i) => ({
    t,
    atRisk: table.atRisk[i],
    events: table.events[i],
    censored: table.censored[i],
  }));

/** R's `aml` data set (survival package), the two arms; status 1 = relapse, 0 = censored. */
const AML_MAINTAINED = {
  time: [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161],
  status: [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
};
const AML_NONMAINTAINED = {
  time: [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
  status: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
};

describe('kaplanMeierTable', () => {
  it('counts ties with the events before the censorings at the same time, Greenwood SE on the log scale', () => {
    // t=3: 6 at risk, 2 events, 1 censored -> S = 4/6;            var(log S) = 2/(6*4) = 1/12
    // t=5: 3 at risk (6 - 3), 1 event       -> S = 4/6 * 2/3 = 4/9; var += 1/(3*2) -> 1/4
    // t=7: 2 at risk, 1 event, 1 censored   -> S = 4/9 * 1/2 = 2/9; var += 1/(2*1) -> 3/4
    // Were the censoring at 3 counted first, 5 would be at risk there and S(3) would be 3/5.
    const table = kaplanMeierTable([3, 7, 3, 5, 3, 7], [1, 0, 1, 1, 0, 1]);
    expect(rows(table)).toEqual([
      { t: 3, atRisk: 6, events: 2, censored: 1 },
      { t: 5, atRisk: 3, events: 1, censored: 0 },
      { t: 7, atRisk: 2, events: 1, censored: 1 },
    ]);
    expect(Array.from(table.survival)).toEqual([4 / 6, 4 / 9, 2 / 9].map((x) => expect.closeTo(x, 12)));
    expect(Array.from(table.stdErr)).toEqual(
      [1 / 12, 1 / 4, 3 / 4].map((v) => expect.closeTo(Math.sqrt(v), 12)),
    );
  });

  it('gives the log-log 95% band S^exp(-+ z se / log S) at each time, worked by hand', () => {
    // Same data. t=5: S = 4/9, log S = -0.810930, log(-log S) = -0.209573, se = 0.5,
    //   z se / log S = 1.959964 * 0.5 / -0.810930 = -1.208464
    //   lower = exp(-exp(-0.209573 + 1.208464)) = exp(-exp(0.998891)) = exp(-2.715245) = 0.066187
    //   upper = exp(-exp(-0.209573 - 1.208464)) = exp(-exp(-1.418037)) = exp(-0.242172) = 0.784908
    // t=3: S = 2/3, se = 0.288675 -> lower 0.194617, upper 0.904434 (same steps).
    // t=7: S = 2/9, se = 0.866025 -> lower 0.009569, upper 0.614721.
    const table = kaplanMeierTable([3, 7, 3, 5, 3, 7], [1, 0, 1, 1, 0, 1]);
    expect(Array.from(table.lower)).toEqual([0.194617, 0.066187, 0.009569].map((x) => expect.closeTo(x, 6)));
    expect(Array.from(table.upper)).toEqual([0.904434, 0.784908, 0.614721].map((x) => expect.closeTo(x, 6)));
  });

  it("matches R's survfit on the aml Maintained arm (S, se(S)) and the hand-worked log-log band", () => {
    // Survival and se(S) are the figures summary(survfit(Surv(time, status) ~ x, aml)) prints for
    // x=Maintained (the survival package's example, reproduced in many tutorials). The log-log columns are
    // our hand computation from those S and se values, to 4 decimals; in full at t=9: S = 10/11,
    // se(log S) = sqrt(1/110) = 0.095346, log S = -0.0953102, log(-log S) = -2.350619,
    // z se / log S = -1.960700, lower = exp(-exp(-0.389919)) = 0.5081, upper = exp(-exp(-4.311319)) = 0.9867.
    const table = kaplanMeierTable(AML_MAINTAINED.time, AML_MAINTAINED.status);
    const eventRows = Array.from(table.time, (t, i) => i).filter((i) => table.events[i] > 0);
    const pick = (column: Float64Array, scale?: Float64Array) =>
      eventRows.map((i) => column[i] * (scale ? scale[i] : 1));
    expect(eventRows.map((i) => table.time[i])).toEqual([9, 13, 18, 23, 31, 34, 48]);
    expect(pick(table.survival)).toEqual(
      [0.909, 0.818, 0.716, 0.614, 0.491, 0.368, 0.184].map((x) => expect.closeTo(x, 3)),
    );
    expect(pick(table.stdErr, table.survival)).toEqual(
      [0.0867, 0.1163, 0.1397, 0.1526, 0.1642, 0.1627, 0.1535].map((x) => expect.closeTo(x, 4)),
    );
    expect(pick(table.lower)).toEqual(
      [0.5081, 0.4474, 0.3502, 0.2658, 0.1673, 0.0928, 0.0117].map((x) => expect.closeTo(x, 4)),
    );
    expect(pick(table.upper)).toEqual(
      [0.987, 0.951, 0.899, 0.835, 0.753, 0.657, 0.525].map((x) => expect.closeTo(x, 3)),
    );
  });

  it('matches the Greenwood standard errors Therneau quotes for the whole aml (leukemia) data', () => {
    // s-news, Nov 2000 (T. Therneau): fit1$std.err for survfit(Surv(time, status) ~ 1, leukemia) is
    // 0.06434895 0.09567297 0.10989675 0.12387602 0.13791932 at t = 5, 8, 9, 12, 13, and the log band's
    // lower limit at t = 5 is exp(log(0.91304348) - 1.96 * 0.06434895) = 0.8049.
    const table = kaplanMeierTable(
      [...AML_MAINTAINED.time, ...AML_NONMAINTAINED.time],
      [...AML_MAINTAINED.status, ...AML_NONMAINTAINED.status],
    );
    expect(Array.from(table.survival.subarray(0, 5))).toEqual(
      [0.91304348, 0.82608696, 0.7826087, 0.73913043, 0.69565217].map((x) => expect.closeTo(x, 8)),
    );
    expect(Array.from(table.stdErr.subarray(0, 5))).toEqual(
      [0.06434895, 0.09567297, 0.10989675, 0.12387602, 0.13791932].map((x) => expect.closeTo(x, 8)),
    );
    expect(table.survival[0] * Math.exp(-Z_95 * table.stdErr[0])).toBeCloseTo(0.8049, 4);
  });

  it('leaves the band undefined (NaN) where S reaches 0, the variance infinite, as R reports NA', () => {
    const table = kaplanMeierTable([1, 2], [1, 1]);
    expect(Array.from(table.survival)).toEqual([0.5, 0]);
    expect(table.stdErr[1]).toBe(Infinity);
    expect(Number.isNaN(table.lower[1]) && Number.isNaN(table.upper[1])).toBe(true);
  });

  it('keeps the band at S while no event has happened (se = 0)', () => {
    const table = kaplanMeierTable([1, 2, 3], [0, 1, 0]);
    expect([table.lower[0], table.upper[0], table.stdErr[0]]).toEqual([1, 1, 0]);
  });

  it('refuses negative, non-finite times and mismatched lengths', () => {
    expect(() => kaplanMeierTable([1, -1], [1, 1])).toThrow(RangeError);
    expect(() => kaplanMeierTable([1, NaN], [1, 1])).toThrow(RangeError);
    expect(() => kaplanMeierTable([1, Infinity], [1, 1])).toThrow(RangeError);
    expect(() => kaplanMeierTable([1, 2], [1])).toThrow(RangeError);
  });
});

describe('stepQuantiles (R quantile.survfit rules)', () => {
  // survival's own test file tests/quantile.R: test1 without the NA-status row, S = (6/7)(3/5)(1/2);
  // quantile(fit, 1 - qq) = 1, 3.5, 6, 9, 9.5, NA for these survival levels qq.
  const time = [9, 1, 1, 6, 6, 8, 10];
  const status = [1, 1, 0, 1, 1, 0, 0];
  const qq = [13 / 14, 6 / 7, 2 / 3, 0.5, 9 / 35, 0.1];

  it('takes the midpoint of a stretch sitting exactly at the level, the curve end for the last stretch', () => {
    const table = kaplanMeierTable(time, status);
    expect(
      stepQuantiles(
        table.time,
        table.survival,
        qq.map((q) => 1 - q),
      ),
    ).toEqual([1, 3.5, 6, 9, 9.5, null]);
  });

  it("inverts a band as R does: R's own expected bounds for its default log band", () => {
    // Same test file: with the default conf.type = "log", lower = 1, 1, 1, 6, 6, 9 and upper all NA. The log
    // band is S exp(-+ z se), capped at 1; here it is built from our S and se, so this checks the Greenwood SE
    // and the inversion together against R's numbers.
    const table = kaplanMeierTable(time, status);
    const logLower = table.survival.map((s, i) => s * Math.exp(-Z_95 * table.stdErr[i]));
    const logUpper = table.survival.map((s, i) => Math.min(1, s * Math.exp(Z_95 * table.stdErr[i])));
    const ps = qq.map((q) => 1 - q);
    expect(stepQuantiles(table.time, logLower, ps)).toEqual([1, 1, 1, 6, 6, 9]);
    expect(stepQuantiles(table.time, logUpper, ps)).toEqual([null, null, null, null, null, null]);
  });

  it('gives the same answers by binary search on a curve that never rises as by the full scan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.boolean()), { minLength: 1, maxLength: 120 }),
        (observations) => {
          const table = kaplanMeierTable(
            observations.map(([t]) => t),
            observations.map(([, e]) => e),
          );
          const ps = [0.1, 0.25, 0.5, 0.75, 0.9, 1];
          const curves = [
            table.survival,
            ...(table.lowerMonotone ? [table.lower] : []),
            ...(table.upperMonotone ? [table.upper] : []),
          ];
          for (const curve of curves) {
            expect(stepQuantiles(table.time, curve, ps, undefined, true)).toEqual(
              stepQuantiles(table.time, curve, ps),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a level reached only up to rounding as reached', () => {
    // 0.75 * (2/3) is 0.49999999999999994 in doubles; the flat at 1/2 still gets the midpoint rule.
    expect(stepQuantiles([1, 2, 6], [0.75, 0.75 * (2 / 3), 0.75 * (2 / 3) * 0.5], [0.5])).toEqual([4]);
  });

  it('skips undefined (NaN) points and never reaches a level the defined points do not reach', () => {
    expect(stepQuantiles([1, 2], [0.6, NaN], [0.5])).toEqual([null]);
    expect(stepQuantiles([1, 2, 3], [0.6, NaN, 0.3], [0.5])).toEqual([3]);
  });
});

describe('kaplanMeier', () => {
  it('gives median, p75, p90 with their log-log CIs on the tie example (worked above)', () => {
    // S = 4/6 at 3, 4/9 at 5, 2/9 at 7 (then censored). Bands: lower 0.1946, 0.0662, 0.0096;
    // upper 0.9044, 0.7849, 0.6147.
    // median: first S <= 0.5 at 5; lower band first <= 0.5 at 3; the upper band never gets to 0.5 -> null.
    // p75: S <= 0.25 at 7; lower band <= 0.25 at 3; upper never.   p90: S never <= 0.1 -> null;
    // lower band <= 0.1 first at 5; upper never.
    const km = kaplanMeier([3, 7, 3, 5, 3, 7], [1, 0, 1, 1, 0, 1]);
    expect(km.median).toEqual({ value: 5, lower: 3, upper: null });
    expect(km.p75).toEqual({ value: 7, lower: 3, upper: null });
    expect(km.p90).toEqual({ value: null, lower: 5, upper: null });
    expect(km.curve).toEqual([
      { t: 0, survival: 1, atRisk: 6, events: 0, censored: 0 },
      { t: 3, survival: expect.closeTo(4 / 6, 12), atRisk: 6, events: 2, censored: 1 },
      { t: 5, survival: expect.closeTo(4 / 9, 12), atRisk: 3, events: 1, censored: 0 },
      { t: 7, survival: expect.closeTo(2 / 9, 12), atRisk: 2, events: 1, censored: 1 },
    ]);
  });

  it('aml Maintained: median 31 (13, not reached), from the band values checked above', () => {
    // lower band first <= 0.5 at 13 (0.4474); the upper band ends at 0.525 -> null. p75: S <= 0.25 at 48
    // (0.184); lower band <= 0.25 at 31 (0.1673). p90: S ends at 0.184 -> null; lower band <= 0.1 at 34.
    const km = kaplanMeier(AML_MAINTAINED.time, AML_MAINTAINED.status);
    expect(km.median).toEqual({ value: 31, lower: 13, upper: null });
    expect(km.p75).toEqual({ value: 48, lower: 31, upper: null });
    expect(km.p90).toEqual({ value: null, lower: 34, upper: null });
  });

  it('aml Nonmaintained: median 23 (5, 33)', () => {
    // S: 0.8333@5 0.6667@8 0.5833@12 0.4861@23 0.3889@27 0.2917@30 0.1944@33 0.0972@43 0@45.
    // lower band 0.4817@5 (<= 0.5 already), upper band 0.5609@30 then 0.4614@33 -> 33.
    // p90: S <= 0.1 at 43; lower band <= 0.1 at 30 (0.0724); upper band never defined below 0.3489 -> null.
    const km = kaplanMeier(AML_NONMAINTAINED.time, AML_NONMAINTAINED.status);
    expect(km.median).toEqual({ value: 23, lower: 5, upper: 33 });
    expect(km.p75).toEqual({ value: 33, lower: 23, upper: null });
    expect(km.p90).toEqual({ value: 43, lower: 30, upper: null });
  });

  it('midpoint rule: no censoring, S = 1/2 over [2, 3) and 1/4 over [3, 4)', () => {
    const km = kaplanMeier([4, 2, 3, 1], [1, 1, 1, 1]);
    expect([km.median.value, km.p75.value, km.p90.value]).toEqual([2.5, 3.5, 4]);
  });

  it('midpoint rule at the end of the curve: S stays at 1/2 from 2 to the last (censored) time 9', () => {
    const km = kaplanMeier([1, 2, 5, 9], [1, 1, 0, 0]);
    expect(km.median.value).toBe(5.5);
    expect(km.p75).toEqual({ value: null, lower: 1, upper: null });
  });

  it('all censored: survival stays 1, nothing is reached', () => {
    const km = kaplanMeier([5, 1, 3], [0, 0, false]);
    const none = { value: null, lower: null, upper: null };
    expect([km.median, km.p75, km.p90]).toEqual([none, none, none]);
    expect(km.curve.map((p) => [p.t, p.survival, p.atRisk, p.censored])).toEqual([
      [0, 1, 3, 0],
      [1, 1, 3, 1],
      [3, 1, 2, 1],
      [5, 1, 1, 1],
    ]);
  });

  it('empty input: null estimates and an empty curve', () => {
    const none = { value: null, lower: null, upper: null };
    expect(kaplanMeier([], [])).toEqual({ median: none, p75: none, p90: none, curve: [] });
  });

  it('a single resolved observation: every quantile is its time, with an undefined band', () => {
    const km = kaplanMeier([120], [true]);
    const at120 = { value: 120, lower: null, upper: null };
    expect([km.median, km.p75, km.p90]).toEqual([at120, at120, at120]);
    expect(km.curve).toEqual([
      { t: 0, survival: 1, atRisk: 1, events: 0, censored: 0 },
      { t: 120, survival: 0, atRisk: 1, events: 1, censored: 0 },
    ]);
  });

  it('a single censored observation: nothing reached', () => {
    expect(kaplanMeier([120], [0]).median).toEqual({ value: null, lower: null, upper: null });
  });

  it('observations ending at t = 0 make the first point, with S(0) after them', () => {
    const km = kaplanMeier([0, 0, 4, 6], [1, 0, 1, 1]);
    expect(km.curve[0]).toEqual({ t: 0, survival: 0.75, atRisk: 4, events: 1, censored: 1 });
    expect(km.curve).toHaveLength(3);
  });

  it('on uncensored data agrees with the resolved-only median and p90', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }), (values) => {
        const km = kaplanMeier(
          values,
          values.map(() => 1),
        );
        const plain = describeDurations(values);
        expect(km.median.value).toBe(plain.median);
        expect(km.p90.value).toBe(plain.p90);
      }),
    );
  });

  it('orders each interval lower <= value <= upper wherever they are reached', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.boolean()), { minLength: 1, maxLength: 200 }),
        (observations) => {
          const km = kaplanMeier(
            observations.map(([t]) => t),
            observations.map(([, e]) => e),
          );
          for (const { value, lower, upper } of [km.median, km.p75, km.p90]) {
            if (value !== null && lower !== null) expect(lower).toBeLessThanOrEqual(value);
            if (value !== null && upper !== null) expect(upper).toBeGreaterThanOrEqual(value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('thins the curve it returns exactly as thinCurve does', () => {
    const times = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 5000);
    const events = times.map((_, i) => i % 3);
    expect(kaplanMeier(times, events, 50).curve).toEqual(thinCurve(kaplanMeier(times, events).curve, 50));
  });
});

describe('thinCurve', () => {
  const curveOf = (times: number[], events: (number | boolean)[]) => kaplanMeier(times, events).curve;
  const stepAt = (curve: readonly CurvePoint[], t: number) => {
    let s = 1;
    for (const point of curve) if (point.t <= t) s = point.survival;
    return s;
  };

  it('returns the curve unchanged when it fits', () => {
    const curve = curveOf([1, 2, 3], [1, 0, 1]);
    expect(thinCurve(curve, 10)).toEqual(curve);
    expect(thinCurve(curve, 10)).not.toBe(curve);
  });

  it('drops censor-only points first, keeping the first and last point', () => {
    const curve = curveOf([1, 2, 3, 4, 5, 6], [0, 1, 0, 0, 1, 0]);
    expect(thinCurve(curve, 4).map((p) => p.t)).toEqual([0, 2, 5, 6]);
  });

  it('keeps at most maxPoints exact points, the steps within one level spacing of the true curve', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.boolean()), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 40 }),
        (observations, maxPoints) => {
          const curve = curveOf(
            observations.map(([t]) => t),
            observations.map(([, e]) => e),
          );
          const thin = thinCurve(curve, maxPoints);
          expect(thin.length).toBeLessThanOrEqual(maxPoints);
          expect(thin[0]).toBe(curve[0]);
          expect(thin[thin.length - 1]).toBe(curve[curve.length - 1]);
          for (const point of thin) expect(curve).toContain(point);
          const spacing = (curve[0].survival - curve[curve.length - 1].survival) / (maxPoints - 1);
          for (const point of curve) {
            expect(Math.abs(stepAt(thin, point.t) - point.survival)).toBeLessThanOrEqual(spacing + 1e-12);
          }
        },
      ),
    );
  });

  it('refuses fewer than 2 points', () => {
    expect(() => thinCurve([], 1)).toThrow(RangeError);
    expect(() => thinCurve([], 2.5)).toThrow(RangeError);
  });
});

describe('kaplanMeierQuantiles', () => {
  it('gives exactly the quantile values of kaplanMeier, ties, censoring and unreached levels included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { maxLength: 150 }),
        (observations) => {
          const times = observations.map(([time]) => time);
          const events = observations.map(([, event]) => event);
          const full = kaplanMeier(times, events);
          expect(kaplanMeierQuantiles(times, events, [0.5, 0.75, 0.9])).toEqual([
            full.median.value,
            full.p75.value,
            full.p90.value,
          ]);
        },
      ),
    );
  });
});
