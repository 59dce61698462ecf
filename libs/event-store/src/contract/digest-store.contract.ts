import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  completedNodes,
  consistencyProof,
  frontierPlan,
  inclusionProof,
  leafHash,
  MissingMerkleNodeError,
  nodeKey,
  rootOf,
  storedConsistencyProof,
  storedInclusionProof,
  storedRoot,
  TreeSizeConflictError,
  type DigestStore,
  type MerkleLeaf,
  type SignedDigest,
} from '@app/ledger';

export interface DigestStoreContractSubject {
  store: DigestStore;
  cleanup(): Promise<void>;
}

export type DigestStoreContractFactory = () => Promise<DigestStoreContractSubject>;

const eventHashOf = (i: number): string => createHash('sha256').update(`contract-event-${i}`).digest('hex');

const leafAt = (sequence: number): MerkleLeaf => ({
  sequence,
  eventId: `event-${sequence}`,
  eventHash: eventHashOf(sequence),
  leafHash: leafHash(eventHashOf(sequence)),
  position: BigInt(sequence * 3 + 1),
});

/** What the tree builder does per batch, without an event store: the adapter under test only stores. */
async function appendBatch(store: DigestStore, size: number, count: number): Promise<void> {
  const leaves = Array.from({ length: count }, (_, i) => leafAt(size + i));
  const refs = frontierPlan(size);
  const hashes = await store.nodes(refs);
  const frontier = new Map(refs.map((ref, i) => [nodeKey(ref), hashes[i]]));
  const nodes = completedNodes(
    size,
    leaves.map((leaf) => leaf.leafHash),
    (ref) => frontier.get(nodeKey(ref))!,
  ).filter((node) => node.level > 0);
  await store.appendLeaves(size, leaves, nodes);
}

const digestOf = (treeSize: number, createdAt = '2026-01-01T00:00:00.000Z'): SignedDigest => ({
  treeSize,
  rootHash: 'ab'.repeat(32),
  createdAt,
  signature: 'c2lnbmF0dXJl',
  publicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
  algorithm: 'Ed25519',
});

/**
 * What every DigestStore adapter must do (SQLite now, MongoDB later; a spec imports this file directly, as
 * it needs fast-check, a dev dependency, and the library index must not load it). Proofs read from the stored nodes
 * must equal the in-memory reference for every index and pair of sizes, however the leaves were batched.
 */
export function describeDigestStoreContract(name: string, factory: DigestStoreContractFactory): void {
  describe(`DigestStore contract: ${name}`, () => {
    let subject: DigestStoreContractSubject;
    beforeEach(async () => {
      subject = await factory();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('starts empty and answers the empty root', async () => {
      expect(await subject.store.head()).toEqual({ treeSize: 0, lastPosition: null });
      expect((await storedRoot(subject.store, 0)).equals(rootOf([]))).toBe(true);
      expect(await subject.store.latestDigest()).toBeNull();
      expect(await subject.store.leafByEventId('event-0')).toBeNull();
    });

    it('serves proofs equal to the in-memory tree, whatever the batching', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
          fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 20, maxLength: 20 }),
          async (batches, samples) => {
            await subject.cleanup();
            subject = await factory();
            let size = 0;
            for (const count of batches) {
              await appendBatch(subject.store, size, count);
              size += count;
            }
            expect(await subject.store.head()).toEqual({
              treeSize: size,
              lastPosition: leafAt(size - 1).position,
            });
            const leaves = Array.from({ length: size }, (_, i) => leafAt(i).leafHash);
            // Every index and every older size against the whole tree, and sampled pairs inside older
            // trees: the in-memory reference costs O(n) per proof.
            for (let index = 0; index < size; index++) {
              expect(await storedInclusionProof(subject.store, index, size)).toEqual(
                inclusionProof(leaves, index, size),
              );
            }
            for (let size1 = 0; size1 <= size; size1++) {
              expect((await storedRoot(subject.store, size1)).equals(rootOf(leaves.slice(0, size1)))).toBe(
                true,
              );
              expect(await storedConsistencyProof(subject.store, size1, size)).toEqual(
                consistencyProof(leaves, size1, size),
              );
            }
            for (const [a, b] of samples) {
              const treeSize = 1 + (a % size);
              const other = b % (treeSize + 1);
              expect(await storedInclusionProof(subject.store, other % treeSize, treeSize)).toEqual(
                inclusionProof(leaves, other % treeSize, treeSize),
              );
              expect(await storedConsistencyProof(subject.store, other, treeSize)).toEqual(
                consistencyProof(leaves, other, treeSize),
              );
            }
          },
        ),
        { numRuns: 15 },
      );
    }, 120_000);

    it('refuses an append at a stale tree size and writes none of it', async () => {
      await appendBatch(subject.store, 0, 3);
      const before = await subject.store.head();
      await expect(subject.store.appendLeaves(2, [leafAt(2)], [])).rejects.toBeInstanceOf(
        TreeSizeConflictError,
      );
      await expect(appendBatch(subject.store, 1, 4)).rejects.toBeInstanceOf(TreeSizeConflictError);
      expect(await subject.store.head()).toEqual(before);
      expect(await subject.store.leafBySequence(3)).toBeNull();
    });

    it('finds leaves by event id and by sequence', async () => {
      await appendBatch(subject.store, 0, 5);
      expect(await subject.store.leafByEventId('event-3')).toEqual(leafAt(3));
      expect(await subject.store.leafBySequence(4)).toEqual(leafAt(4));
      expect(await subject.store.leafByEventId('event-5')).toBeNull();
    });

    it('throws MissingMerkleNodeError for a node not stored', async () => {
      await appendBatch(subject.store, 0, 3);
      await expect(subject.store.nodes([{ level: 1, index: 1 }])).rejects.toBeInstanceOf(
        MissingMerkleNodeError,
      );
      await expect(subject.store.nodes([{ level: 0, index: 3 }])).rejects.toBeInstanceOf(
        MissingMerkleNodeError,
      );
    });

    it('keeps one digest per tree size, the first published', async () => {
      expect(await subject.store.saveDigest(digestOf(4))).toEqual(digestOf(4));
      expect(await subject.store.saveDigest(digestOf(4, '2026-02-02T00:00:00.000Z'))).toEqual(digestOf(4));
      await subject.store.saveDigest(digestOf(9));
      await subject.store.saveDigest(digestOf(2));
      expect(await subject.store.latestDigest()).toEqual(digestOf(9));
      expect(await subject.store.digest(2)).toEqual(digestOf(2));
      expect(await subject.store.digest(3)).toBeNull();
      expect((await subject.store.listDigests()).map((d) => d.treeSize)).toEqual([2, 4, 9]);
      expect((await subject.store.listDigests({ fromTreeSize: 3, limit: 1 })).map((d) => d.treeSize)).toEqual(
        [4],
      );
    });

    it('keeps the first signing key saved', async () => {
      expect(await subject.store.signingKey()).toBeNull();
      const first = { privateKeyPem: 'first', createdAt: '2026-01-01T00:00:00.000Z' };
      expect(await subject.store.saveSigningKey(first)).toEqual(first);
      expect(
        await subject.store.saveSigningKey({
          privateKeyPem: 'second',
          createdAt: '2026-01-02T00:00:00.000Z',
        }),
      ).toEqual(first);
      expect(await subject.store.signingKey()).toEqual(first);
    });
  });
}
