import fc from 'fast-check';
import { sortNonNegativeFloat64 } from './radix-sort';

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
