import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EMPTY_ROOT, consistencyProof, inclusionProof, leafHash, nodeHash, rootOf } from './merkle-tree';
import { verifyConsistency, verifyInclusion } from '../digest/verification';

const leavesOf = (n: number, seed = 0): Buffer[] =>
  Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(`event-${seed}-${i}`).digest('hex')),
  );

const flipBit = (buffer: Buffer, bit: number): Buffer => {
  const copy = Buffer.from(buffer);
  copy[Math.floor(bit / 8) % copy.length] ^= 1 << (bit % 8);
  return copy;
};

/**
 * The left/right decisions RFC 9162 §2.1.3.2 takes for (index, size) and the proof length it accepts. Two
 * sizes with the same shape hash identically, so the algorithm alone cannot tell them apart: the signed
 * digest binds the size (tested in the digest and e2e specs). A changed size must fail unless shapes agree.
 */
function inclusionShape(index: number, size: number, length: number): string | null {
  let fn = index;
  let sn = size - 1;
  let shape = '';
  if (index >= size) return null;
  for (let i = 0; i < length; i++) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      shape += 'L';
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
    } else shape += 'R';
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return sn === 0 ? shape : null;
}

function consistencyShape(size1: number, size2: number, length: number): string | null {
  if (size1 <= 0 || size1 >= size2) return null;
  const power = (size1 & (size1 - 1)) === 0;
  const n = length + (power ? 1 : 0);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let shape = power ? 'P' : 'N';
  for (let i = 1; i < n; i++) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      shape += 'B';
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn / 2, Math.floor(sn / 2)];
    } else shape += 'S';
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return sn === 0 ? shape : null;
}

const treeAndIndex = fc
  .integer({ min: 1, max: 300 })
  .chain((size) => fc.record({ size: fc.constant(size), index: fc.integer({ min: 0, max: size - 1 }) }));

const twoSizes = fc
  .integer({ min: 1, max: 300 })
  .chain((size2) => fc.record({ size2: fc.constant(size2), size1: fc.integer({ min: 0, max: size2 }) }));

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', async () => {
    const eventHash = 'ab'.repeat(32);
    const expectedLeaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(eventHash, 'hex')]))
      .digest();
    expect(leafHash(eventHash).equals(expectedLeaf)).toBe(true);
    const [a, b] = leavesOf(2);
    const expectedNode = createHash('sha256')
      .update(Buffer.concat([Buffer.from([1]), a, b]))
      .digest();
    expect(nodeHash(a, b).equals(expectedNode)).toBe(true);
    expect(() => leafHash('AB'.repeat(32))).toThrow(TypeError);
  });

  it('has the RFC shape: empty, one leaf, split at the largest power of two below n', async () => {
    expect(rootOf([]).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const l = leavesOf(7);
    expect(rootOf(l.slice(0, 1)).equals(l[0])).toBe(true);
    const left = nodeHash(nodeHash(l[0], l[1]), nodeHash(l[2], l[3]));
    const right = nodeHash(nodeHash(l[4], l[5]), l[6]);
    expect(rootOf(l).equals(nodeHash(left, right))).toBe(true);
    expect(inclusionProof(l, 6, 7)).toEqual([nodeHash(l[4], l[5]), left]);
    expect(consistencyProof(l, 3, 7)).toEqual([l[2], l[3], nodeHash(l[0], l[1]), right]);
  });

  it('verifies every inclusion proof for random sizes', async () => {
    await fc.assert(
      fc.asyncProperty(treeAndIndex, async ({ size, index }) => {
        const leaves = leavesOf(size);
        const proof = inclusionProof(leaves, index, size);
        expect(await verifyInclusion(index, size, leaves[index], proof, rootOf(leaves))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fails an inclusion proof after any single-bit change of leaf, proof element or root', async () => {
    await fc.assert(
      fc.asyncProperty(treeAndIndex, fc.nat(), fc.nat(255), async ({ size, index }, pick, bit) => {
        const leaves = leavesOf(size);
        const proof = inclusionProof(leaves, index, size);
        const root = rootOf(leaves);
        expect(await verifyInclusion(index, size, flipBit(leaves[index], bit), proof, root)).toBe(false);
        expect(await verifyInclusion(index, size, leaves[index], proof, flipBit(root, bit))).toBe(false);
        if (proof.length > 0) {
          const at = pick % proof.length;
          const altered = proof.map((p, i) => (i === at ? flipBit(p, bit) : p));
          expect(await verifyInclusion(index, size, leaves[index], altered, root)).toBe(false);
          expect(await verifyInclusion(index, size, leaves[index], proof.slice(0, -1), root)).toBe(false);
        }
        expect(await verifyInclusion(index, size, leaves[index], [...proof, leaves[0]], root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('fails an inclusion proof after a single-bit change of the index, and of the size unless the path shape is the same', async () => {
    await fc.assert(
      fc.asyncProperty(treeAndIndex, fc.nat(12), async ({ size, index }, bit) => {
        const leaves = leavesOf(size);
        const proof = inclusionProof(leaves, index, size);
        const root = rootOf(leaves);
        expect(await verifyInclusion(index ^ (1 << bit), size, leaves[index], proof, root)).toBe(false);
        const otherSize = size ^ (1 << bit);
        const sameShape =
          inclusionShape(index, otherSize, proof.length) !== null &&
          inclusionShape(index, otherSize, proof.length) === inclusionShape(index, size, proof.length);
        expect(await verifyInclusion(index, otherSize, leaves[index], proof, root)).toBe(sameShape);
      }),
      { numRuns: 500 },
    );
  });

  it('verifies every consistency proof for random sizes, including size1 = 0 and size1 = size2', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, async ({ size1, size2 }) => {
        const leaves = leavesOf(size2);
        const proof = consistencyProof(leaves, size1, size2);
        const root1 = rootOf(leaves.slice(0, size1));
        expect(await verifyConsistency(size1, size2, root1, rootOf(leaves), proof)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fails a consistency proof after any single-bit change of a root or proof element', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, fc.nat(), fc.nat(255), async ({ size1, size2 }, pick, bit) => {
        const leaves = leavesOf(size2);
        const proof = consistencyProof(leaves, size1, size2);
        const root1 = rootOf(leaves.slice(0, size1));
        const root2 = rootOf(leaves);
        expect(await verifyConsistency(size1, size2, flipBit(root1, bit), root2, proof)).toBe(false);
        // With size1 = 0 the second root is not constrained: any tree extends the empty one.
        if (size1 > 0)
          expect(await verifyConsistency(size1, size2, root1, flipBit(root2, bit), proof)).toBe(false);
        if (proof.length > 0) {
          const at = pick % proof.length;
          const altered = proof.map((p, i) => (i === at ? flipBit(p, bit) : p));
          expect(await verifyConsistency(size1, size2, root1, root2, altered)).toBe(false);
          expect(await verifyConsistency(size1, size2, root1, root2, proof.slice(1))).toBe(false);
        }
        expect(await verifyConsistency(size1, size2, root1, root2, [...proof, leaves[0]])).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('fails a consistency proof after a single-bit change of a size unless the verification shape is the same', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, fc.nat(9), fc.boolean(), async ({ size1, size2 }, bit, first) => {
        fc.pre(size1 > 0 && size1 < size2);
        const leaves = leavesOf(size2);
        const proof = consistencyProof(leaves, size1, size2);
        const root1 = rootOf(leaves.slice(0, size1));
        const root2 = rootOf(leaves);
        const s1 = first ? size1 ^ (1 << bit) : size1;
        const s2 = first ? size2 : size2 ^ (1 << bit);
        const shape = consistencyShape(s1, s2, proof.length);
        const sameShape = shape !== null && shape === consistencyShape(size1, size2, proof.length);
        expect(await verifyConsistency(s1, s2, root1, root2, proof)).toBe(sameShape);
      }),
      { numRuns: 500 },
    );
  });

  it('handles the edge cases: size 1, powers of two, equal sizes, empty trees, malformed input', async () => {
    const l = leavesOf(16);
    expect(inclusionProof(l, 0, 1)).toEqual([]);
    expect(await verifyInclusion(0, 1, l[0], [], l[0])).toBe(true);
    expect(await verifyInclusion(0, 1, l[0], [l[1]], l[0])).toBe(false);
    for (const size of [2, 4, 8, 16]) {
      const tree = l.slice(0, size);
      expect(inclusionProof(l, size - 1, size)).toHaveLength(Math.log2(size));
      for (const size1 of [1, 2, 4, 8].filter((s) => s < size)) {
        const proof = consistencyProof(l, size1, size);
        // A power-of-two old tree is a subtree of the new one: its root is implied, not sent.
        expect(proof).toHaveLength(Math.log2(size) - Math.log2(size1));
        expect(await verifyConsistency(size1, size, rootOf(l.slice(0, size1)), rootOf(tree), proof)).toBe(
          true,
        );
      }
    }
    expect(consistencyProof(l, 5, 5)).toEqual([]);
    expect(await verifyConsistency(5, 5, rootOf(l.slice(0, 5)), rootOf(l.slice(0, 5)), [])).toBe(true);
    expect(await verifyConsistency(5, 5, rootOf(l.slice(0, 5)), rootOf(l.slice(0, 6)), [])).toBe(false);
    expect(await verifyConsistency(5, 5, rootOf(l.slice(0, 5)), rootOf(l.slice(0, 5)), [l[0]])).toBe(false);
    expect(await verifyConsistency(0, 3, EMPTY_ROOT, rootOf(l.slice(0, 3)), [])).toBe(true);
    expect(await verifyConsistency(3, 2, rootOf(l.slice(0, 3)), rootOf(l.slice(0, 2)), [])).toBe(false);
    expect(await verifyConsistency(2, 3, rootOf(l.slice(0, 2)), rootOf(l.slice(0, 3)), [])).toBe(false);
    expect(await verifyInclusion(-1, 3, l[0], [], l[0])).toBe(false);
    expect(await verifyInclusion(0, 3, l[0].subarray(0, 31), [], l[0])).toBe(false);
    expect(() => inclusionProof(l, 3, 3)).toThrow(RangeError);
    expect(() => inclusionProof(l, 0, 17)).toThrow(RangeError);
    expect(() => consistencyProof(l, 4, 3)).toThrow(RangeError);
  });
});
