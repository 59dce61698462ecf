import type { MerkleNodeRef } from '../../application/ports/digest-store.port';
import { EMPTY_ROOT, nodeHash, splitPoint } from './merkle-tree';

/**
 * A stored tree keeps the root of every complete subtree: node (level, index) covers leaves
 * [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf hashes. Any RFC 9162 subtree D[lo:hi] is
 * the right fold of the complete subtrees that the binary digits of its size name, so a proof or a root is
 * O(log n) node reads: these functions say which nodes, the store reads them, `foldNodes` combines them.
 */
export type NodeRef = MerkleNodeRef;

export const nodeKey = (ref: NodeRef): string => `${ref.level}:${ref.index}`;

/** Complete subtrees making up D[lo:hi], largest first; lo must be aligned as in an RFC 9162 subtree. */
export function rangeNodes(lo: number, hi: number): NodeRef[] {
  const refs: NodeRef[] = [];
  let start = lo;
  while (start < hi) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= hi) level++;
    refs.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return refs;
}

/** MTH of a range from its `rangeNodes`, in that order. */
export function foldNodes(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i], acc);
  return acc;
}

/** The nodes of the root of a tree of `treeSize` leaves. */
export function rootPlan(treeSize: number): NodeRef[] {
  return rangeNodes(0, treeSize);
}

/** Each inclusion-proof element (leaf to root) as the nodes to fold. */
export function inclusionPlan(index: number, treeSize: number): NodeRef[][] {
  if (!(index >= 0 && index < treeSize)) {
    throw new RangeError(`leaf index ${index} not in a tree of size ${treeSize}`);
  }
  const plan: NodeRef[][] = [];
  let lo = 0;
  let hi = treeSize;
  // Root to leaf, then reversed: the proof lists the deepest sibling first.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
    }
  }
  return plan.reverse();
}

/** Each consistency-proof element as the nodes to fold; empty when size1 is 0 or equals size2. */
export function consistencyPlan(size1: number, size2: number): NodeRef[][] {
  if (!(size1 >= 0 && size1 <= size2)) throw new RangeError(`first size ${size1} outside 0..${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const plan: NodeRef[][] = [];
  let lo = 0;
  let hi = size2;
  let complete = true;
  for (;;) {
    if (size1 === hi) {
      if (!complete) plan.push(rangeNodes(lo, hi));
      break;
    }
    const k = splitPoint(hi - lo);
    if (size1 <= lo + k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
      complete = false;
    }
  }
  return plan.reverse();
}

/**
 * Nodes completed by appending leaves at sequences `firstSequence`..: for each leaf, its level-0 node and
 * every parent it closes. A node with an odd index needs its left sibling: the node made just before it at
 * its level, in this batch, or else one of the frontier nodes from before it (`frontier`).
 */
export function completedNodes(
  firstSequence: number,
  leaves: readonly Buffer[],
  frontier: (ref: NodeRef) => Buffer,
): Array<NodeRef & { hash: Buffer }> {
  const out: Array<NodeRef & { hash: Buffer }> = [];
  const latest: Array<{ index: number; hash: Buffer } | undefined> = [];
  leaves.forEach((leaf, offset) => {
    let index = firstSequence + offset;
    let level = 0;
    let hash = leaf;
    for (;;) {
      out.push({ level, index, hash });
      const previous = latest[level];
      latest[level] = { index, hash };
      if (index % 2 === 0) break;
      const left = previous?.index === index - 1 ? previous.hash : frontier({ level, index: index - 1 });
      hash = nodeHash(left, hash);
      index = (index - 1) / 2;
      level++;
    }
  });
  return out;
}

/** Left siblings a batch starting at `size` may need: the complete subtrees of the current root. */
export function frontierPlan(size: number): NodeRef[] {
  return rangeNodes(0, size);
}
