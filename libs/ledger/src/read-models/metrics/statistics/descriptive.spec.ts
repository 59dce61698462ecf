import { describeDurations, empiricalQuantile } from './descriptive';

describe('describeDurations (resolved only)', () => {
  it('is all null for no values', () => {
    expect(describeDurations([])).toEqual({ count: 0, mean: null, median: null, p90: null });
  });

  it('a single value is its own mean, median and p90', () => {
    expect(describeDurations([300])).toEqual({ count: 1, mean: 300, median: 300, p90: 300 });
  });

  it('averages the two middle values for an even count; p90 by the inverse empirical distribution', () => {
    // 4 values: n p = 2 for the median -> (x2 + x3) / 2 = 25; n p = 3.6 for p90 -> x4 = 100.
    expect(describeDurations([100, 10, 40, 10])).toEqual({ count: 4, mean: 40, median: 25, p90: 100 });
  });

  it('averages at p90 when n p is a whole number: 1..10 -> (9 + 10) / 2', () => {
    const values = Float64Array.from({ length: 10 }, (_, i) => 10 - i);
    expect(describeDurations(values)).toEqual({ count: 10, mean: 5.5, median: 5.5, p90: 9.5 });
  });

  it('does not mistake 30 * 0.9 = 27.000000000000004 for a fractional position', () => {
    const sorted = Array.from({ length: 30 }, (_, i) => i + 1);
    expect(empiricalQuantile(sorted, 0.9)).toBe(27.5);
  });

  it('sorts large inputs (radix) and negative ones (native) alike', () => {
    const values = Array.from({ length: 5001 }, (_, i) => (i * 7919) % 5001);
    expect(describeDurations(values)).toEqual({ count: 5001, mean: 2500, median: 2500, p90: 4500 });
    expect(describeDurations([-3, 5, -1])).toEqual({ count: 3, mean: 1 / 3, median: -1, p90: 5 });
  });

  it('refuses non-finite values', () => {
    expect(() => describeDurations([1, NaN])).toThrow(RangeError);
  });
});
