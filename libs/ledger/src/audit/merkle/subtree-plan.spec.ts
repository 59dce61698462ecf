import fc from 'fast-check';
import { consistencyPlan, inclusionPlan, rangeNodes, rootPlan } from './subtree-plan';

const bigTree = fc
  .integer({ min: 2, max: 2 ** 40 })
  .chain((size) => fc.record({ size: fc.constant(size), index: fc.integer({ min: 0, max: size - 1 }) }));

const covers = (ref: { level: number; index: number }) => [
  ref.index * 2 ** ref.level,
  (ref.index + 1) * 2 ** ref.level,
];

describe('subtree plans: a stored proof is O(log n) node reads', () => {
  it('names at most 2·log2(n) complete, in-range nodes for any inclusion proof, even at 2^40 leaves', () => {
    fc.assert(
      fc.property(bigTree, ({ size, index }) => {
        const plan = inclusionPlan(index, size);
        const refs = plan.flat();
        expect(refs.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
        expect(plan.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        for (const ref of refs) {
          const [lo, hi] = covers(ref);
          expect(hi).toBeLessThanOrEqual(size);
          expect(index >= lo && index < hi).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names O(log n) nodes for a consistency proof and for a root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }), (a, b) => {
        const [size1, size2] = a <= b ? [a, b] : [b, a];
        const refs = consistencyPlan(size1, size2).flat();
        expect(refs.length).toBeLessThanOrEqual(3 * Math.ceil(Math.log2(size2 + 1)) + 1);
        expect(rootPlan(size2).length).toBe(size2.toString(2).replace(/0/g, '').length);
        for (const ref of refs) expect(covers(ref)[1]).toBeLessThanOrEqual(size2);
      }),
      { numRuns: 500 },
    );
  });

  it('splits a range into the complete subtrees of its binary digits, largest first', () => {
    expect(rangeNodes(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeNodes(8, 11)).toEqual([
      { level: 1, index: 4 },
      { level: 0, index: 10 },
    ]);
    expect(rangeNodes(4, 4)).toEqual([]);
  });
});
