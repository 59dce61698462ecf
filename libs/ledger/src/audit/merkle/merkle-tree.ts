import { hash } from 'node:crypto';
import { EMPTY_ROOT_HEX, leafInput, nodeInput } from '@payment-issue-ledger/verify';

/**
 * Building the ledger's Merkle tree: RFC 9162 §2.1 shape and proofs over leaf = SHA-256(0x00 ‖ event hash)
 * and node = SHA-256(0x01 ‖ left ‖ right) (DESIGN.md, "Hashing, Merkle tree"). The leaf and node inputs
 * and the proof checks are the verification package's; what is here hashes synchronously for the builder
 * and the proof answers. The functions taking `leaves` hold the whole tree in memory and are the reference
 * the stored tree (subtree-plan.ts) is tested against.
 */

export { HASH_BYTES, isPowerOfTwo } from '@payment-issue-ledger/verify';

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = Buffer.from(EMPTY_ROOT_HEX, 'hex');

// One-shot hash of one buffer: about twice as fast as createHash for inputs this small.
export const leafHash = (eventHashHex: string): Buffer => hash('sha256', leafInput(eventHashHex), 'buffer');

export const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  hash('sha256', nodeInput(left, right), 'buffer');

/** Largest power of two strictly less than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 9162 §2.1.1, over leaf hashes. */
export function rootOf(leaves: readonly Buffer[]): Buffer {
  return rangeRoot(leaves, 0, leaves.length);
}

function rangeRoot(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo];
  const k = splitPoint(n);
  return nodeHash(rangeRoot(leaves, lo, lo + k), rangeRoot(leaves, lo + k, hi));
}

function checkSize(leaves: readonly Buffer[], treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > leaves.length) {
    throw new RangeError(`tree size ${treeSize} outside 0..${leaves.length}`);
  }
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf to root. */
export function inclusionProof(leaves: readonly Buffer[], index: number, treeSize: number): Buffer[] {
  checkSize(leaves, treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new RangeError(`leaf index ${index} not in a tree of size ${treeSize}`);
  }
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    if (hi - lo === 1) return [];
    const k = splitPoint(hi - lo);
    return m < k
      ? [...path(m, lo, lo + k), rangeRoot(leaves, lo + k, hi)]
      : [...path(m - k, lo + k, hi), rangeRoot(leaves, lo, lo + k)];
  };
  return path(index, 0, treeSize);
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1; empty when size1 is 0 or equals size2. */
export function consistencyProof(leaves: readonly Buffer[], size1: number, size2: number): Buffer[] {
  checkSize(leaves, size2);
  if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
    throw new RangeError(`first size ${size1} outside 0..${size2}`);
  }
  if (size1 === 0 || size1 === size2) return [];
  const subproof = (m: number, lo: number, hi: number, complete: boolean): Buffer[] => {
    const n = hi - lo;
    if (m === n) return complete ? [] : [rangeRoot(leaves, lo, hi)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, lo, lo + k, complete), rangeRoot(leaves, lo + k, hi)]
      : [...subproof(m - k, lo + k, hi, false), rangeRoot(leaves, lo, lo + k)];
  };
  return subproof(size1, 0, size2, true);
}
