import type { DigestStore, MerkleNodeRef } from '../../application/ports/digest-store.port';
import { consistencyPlan, foldNodes, inclusionPlan, rootPlan } from './subtree-plan';

/** Reads every node a plan names in one call, then folds each element: O(log n) reads per proof. */
async function evaluate(tree: DigestStore, plan: readonly MerkleNodeRef[][]): Promise<Buffer[]> {
  const hashes = await tree.nodes(plan.flat());
  let at = 0;
  return plan.map((element) => foldNodes(hashes.slice(at, (at += element.length))));
}

export async function storedRoot(tree: DigestStore, treeSize: number): Promise<Buffer> {
  const [root] = await evaluate(tree, [rootPlan(treeSize)]);
  return root;
}

export function storedInclusionProof(tree: DigestStore, index: number, treeSize: number): Promise<Buffer[]> {
  return evaluate(tree, inclusionPlan(index, treeSize));
}

export function storedConsistencyProof(tree: DigestStore, size1: number, size2: number): Promise<Buffer[]> {
  return evaluate(tree, consistencyPlan(size1, size2));
}
