import fc from 'fast-check';
import { sortNonNegativeFloat64, sortRowsByKey } from './radix-sort';

describe('sortNonNegativeFloat64', () => {
  const nativeSorted = (values: number[]) => Float64Array.from(values).sort();

  it('sorts like Float64Array#sort above the radix threshold, fractions and huge values included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }), {
          minLength: 2048,
          maxLength: 5000,
        }),
        (values) => {
          const normalised = values.map((v) => v + 0);
          expect(sortNonNegativeFloat64(Float64Array.from(normalised))).toEqual(nativeSorted(normalised));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('sorts integers sharing their high digits (the skipped passes)', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_007);
    expect(sortNonNegativeFloat64(Float64Array.from(values))).toEqual(nativeSorted(values));
  });

  it('sorts small arrays too', () => {
    expect(Array.from(sortNonNegativeFloat64(Float64Array.from([3, 0.5, 2, 0])))).toEqual([0, 0.5, 2, 3]);
  });
});

describe('sortRowsByKey', () => {
  const byKeyThenInput = (keys: number[]) =>
    keys
      .map((key, k) => ({ key, row: 1000 + k }))
      .sort((a, b) => a.key - b.key || a.row - b.row)
      .map(({ row }) => row);

  it('orders rows by their keys, ties in input order (stable), on both sides of the radix threshold', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(100), fc.constant(3000)),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2 ** 40 })), {
          minLength: 3000,
          maxLength: 3000,
        }),
        (length, all) => {
          const keys = all.slice(0, length);
          const rows = Int32Array.from(keys, (_, k) => 1000 + k);
          const sorted = sortRowsByKey(Float64Array.from(keys), rows);
          expect(Array.from(sorted.rows)).toEqual(byKeyThenInput(keys));
          expect(Array.from(sorted.keys)).toEqual([...keys].sort((a, b) => a - b));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('refuses keys and rows of different lengths', () => {
    expect(() => sortRowsByKey(new Float64Array(3), new Int32Array(2))).toThrow(RangeError);
  });
});
