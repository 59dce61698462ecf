import type { DigestStore, MerkleLeaf } from '../../application/ports/digest-store.port';
import { TreeSizeConflictError } from '../../application/ports/digest-store.port';
import type { EventStore, StoredEvent } from '../../application/ports/event-store.port';
import { eventHash } from '../event-hash';
import { leafHash } from './merkle-tree';
import { completedNodes, frontierPlan, nodeKey } from './subtree-plan';

export const DEFAULT_TREE_BATCH_SIZE = 2000;

/** An event whose stored canonical bytes do not hash to its stored hash: the tree refuses to cover it. */
export class TreeIntegrityError extends Error {
  override readonly name = 'TreeIntegrityError';
  constructor(readonly event: Pick<StoredEvent, 'stream' | 'revision' | 'position'>) {
    super(
      `Event ${event.stream}@${event.revision} (position ${event.position}) does not hash to its stored hash; ` +
        'the Merkle tree stops before it (run ledger verify)',
    );
  }
}

/** What a digest needs of a tree builder, in this thread or another: the tree brought up to date. */
export interface MerkleTreeFollower {
  /** Appends every event committed so far and answers the tree size. */
  catchUp(): Promise<number>;
}

/**
 * Follows the event store in global order, like a projection, and appends one leaf per event. The
 * sequence is the tree size at append time, so it is dense whatever the engine's positions are. Each batch
 * reads the O(log n) frontier nodes and writes leaves plus completed nodes in one atomic DigestStore write,
 * whose resume point (the last leaf's position) is therefore never apart from the data.
 */
export class MerkleTreeBuilder implements MerkleTreeFollower {
  private running: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly events: EventStore,
    private readonly tree: DigestStore,
    private readonly options: { batchSize?: number; onProgress?: (treeSize: number) => void } = {},
  ) {}

  /** Appends every event committed so far; concurrent calls in one process share the work. Answers the size. */
  catchUp(): Promise<number> {
    const run = this.running.catch(() => 0).then(() => this.drain());
    this.running = run;
    return run;
  }

  private async drain(): Promise<number> {
    const batchSize = this.options.batchSize ?? DEFAULT_TREE_BATCH_SIZE;
    for (;;) {
      const head = await this.tree.head();
      const batch = await this.events.readAll({
        fromPosition: head.lastPosition === null ? undefined : head.lastPosition + 1n,
        maxCount: batchSize,
      });
      if (batch.length === 0) return head.treeSize;
      try {
        await this.appendBatch(head.treeSize, batch);
      } catch (error) {
        // Another process (the CLI, a second API) appended the same events first: re-read the head.
        if (error instanceof TreeSizeConflictError) continue;
        throw error;
      }
      this.options.onProgress?.(head.treeSize + batch.length);
      // Yield between batches so a long catch-up does not hold the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async appendBatch(treeSize: number, batch: readonly StoredEvent[]): Promise<void> {
    const leaves: MerkleLeaf[] = batch.map((event, offset) => {
      if (eventHash(event.canonical) !== event.metadata.hash) throw new TreeIntegrityError(event);
      return {
        sequence: treeSize + offset,
        eventId: event.metadata.eventId,
        eventHash: event.metadata.hash,
        leafHash: leafHash(event.metadata.hash),
        position: event.position,
      };
    });
    const frontierRefs = frontierPlan(treeSize);
    const frontierHashes = await this.tree.nodes(frontierRefs);
    const frontier = new Map(frontierRefs.map((ref, i) => [nodeKey(ref), frontierHashes[i]]));
    const nodes = completedNodes(
      treeSize,
      leaves.map((leaf) => leaf.leafHash),
      (ref) => {
        const hash = frontier.get(nodeKey(ref));
        if (!hash) throw new RangeError(`no frontier node ${nodeKey(ref)} for a tree of ${treeSize}`);
        return hash;
      },
    ).filter((node) => node.level > 0);
    await this.tree.appendLeaves(treeSize, leaves, nodes);
  }
}
