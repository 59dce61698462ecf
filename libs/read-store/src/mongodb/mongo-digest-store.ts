import { Binary, type ClientSession, type Collection, type Db, type MongoClient } from 'mongodb';
import {
  MissingMerkleNodeError,
  TreeSizeConflictError,
  type DigestStore,
  type MerkleLeaf,
  type MerkleNode,
  type MerkleNodeRef,
  type MerkleTreeHead,
  type SignedDigest,
  type StoredSigningKey,
} from '@app/ledger';
import { isDuplicateKey } from './mongo-errors';
import { createCollectionIfMissing, inTransaction } from './mongo-transaction';

/** The tree's size and resume point, moved by a guarded update in each append's transaction. */
interface StoredHead {
  _id: string;
  treeSize: number;
  lastPosition: bigint | null;
}

/** A leaf under its sequence; a unique index on eventId. */
interface StoredLeaf {
  _id: number;
  eventId: string;
  eventHash: string;
  leafHash: Binary;
  position: bigint;
}

/** A complete subtree of level >= 1 under `<level>:<index>` (level 0 is the leaves' leafHash). */
interface StoredNode {
  _id: string;
  hash: Binary;
}

interface StoredDigest {
  _id: number;
  rootHash: string;
  createdAt: string;
  signature: string;
  publicKey: string;
  algorithm: string;
}

interface StoredKey {
  _id: string;
  privateKeyPem: string;
  createdAt: string;
}

const HEAD_ID = 'head';
const SIGNING_KEY_ID = 'signing';
/** As the SQLite adapter. */
const DEFAULT_LIST_LIMIT = 100;

export const nodeId = (ref: MerkleNodeRef): string => `${ref.level}:${ref.index}`;

function bytesOf(value: unknown, what: string): Buffer {
  if (!(value instanceof Binary)) throw new Error(`${what} is not binary data`);
  return Buffer.from(value.value());
}

function toLeaf(stored: StoredLeaf): MerkleLeaf {
  const { position } = stored;
  if (typeof position !== 'bigint')
    throw new Error(`Merkle leaf ${stored._id}: position is not a 64-bit integer`);
  return {
    sequence: stored._id,
    eventId: stored.eventId,
    eventHash: stored.eventHash,
    leafHash: bytesOf(stored.leafHash, `Merkle leaf ${stored._id}`),
    position,
  };
}

function toDigest(stored: StoredDigest): SignedDigest {
  if (stored.algorithm !== 'Ed25519') {
    throw new Error(`Digest ${stored._id}: algorithm ${JSON.stringify(stored.algorithm)} is not Ed25519`);
  }
  return {
    treeSize: stored._id,
    rootHash: stored.rootHash,
    createdAt: stored.createdAt,
    signature: stored.signature,
    publicKey: stored.publicKey,
    algorithm: stored.algorithm,
  };
}

/**
 * The Merkle tree, signed digests and signing key in MongoDB (docs/storage.md, "MongoDB"). An append is one
 * transaction: the head's guarded move from the expected size, then its leaves and nodes; a second builder
 * racing it either conflicts (and, retried, sees the moved head) or finds the head moved. Positions are
 * 64-bit integers (`useBigInt64`).
 */
export class MongoDigestStore implements DigestStore {
  private readonly head_: Collection<StoredHead>;
  private readonly leaves: Collection<StoredLeaf>;
  private readonly nodes_: Collection<StoredNode>;
  private readonly digests: Collection<StoredDigest>;
  private readonly keys: Collection<StoredKey>;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    const options = { useBigInt64: true, writeConcern: { w: 'majority' as const } };
    this.head_ = db.collection<StoredHead>('merkle_head', options);
    this.leaves = db.collection<StoredLeaf>('merkle_leaves', options);
    this.nodes_ = db.collection<StoredNode>('merkle_nodes', options);
    this.digests = db.collection<StoredDigest>('merkle_digests', options);
    this.keys = db.collection<StoredKey>('merkle_signing_key', options);
  }

  /** The eventId index, and the collections an append's transaction writes, made once before it. */
  ensureReady(): Promise<void> {
    this.ready ??= (async () => {
      for (const collection of [this.head_, this.leaves, this.nodes_]) {
        await createCollectionIfMissing(this.db, collection.collectionName);
      }
      await this.leaves.createIndex({ eventId: 1 }, { unique: true, name: 'eventId_unique' });
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async head(session?: ClientSession): Promise<MerkleTreeHead> {
    const stored = await this.head_.findOne({ _id: HEAD_ID }, { session });
    if (stored === null) return { treeSize: 0, lastPosition: null };
    const { treeSize, lastPosition } = stored;
    if (!Number.isSafeInteger(treeSize) || (lastPosition !== null && typeof lastPosition !== 'bigint')) {
      throw new Error('The Merkle tree head holds a size or position of the wrong type');
    }
    return { treeSize, lastPosition };
  }

  async appendLeaves(
    expectedTreeSize: number,
    leaves: readonly MerkleLeaf[],
    nodes: readonly MerkleNode[],
  ): Promise<void> {
    leaves.forEach((leaf, offset) => {
      if (leaf.sequence !== expectedTreeSize + offset) {
        throw new RangeError(`leaf sequence ${leaf.sequence}, expected ${expectedTreeSize + offset}`);
      }
    });
    for (const node of nodes) {
      if (node.level < 1) throw new RangeError('level-0 nodes are stored as leaves');
    }
    if (leaves.length === 0) {
      const { treeSize } = await this.head();
      if (treeSize !== expectedTreeSize) throw new TreeSizeConflictError(expectedTreeSize, treeSize);
      return;
    }
    const storedLeaves: StoredLeaf[] = leaves.map((leaf) => ({
      _id: leaf.sequence,
      eventId: leaf.eventId,
      eventHash: leaf.eventHash,
      leafHash: new Binary(leaf.leafHash),
      position: leaf.position,
    }));
    const storedNodes: StoredNode[] = nodes.map((node) => ({
      _id: nodeId(node),
      hash: new Binary(node.hash),
    }));
    const newHead = {
      treeSize: expectedTreeSize + leaves.length,
      lastPosition: leaves[leaves.length - 1].position,
    };
    await this.ensureReady();
    await inTransaction(this.client, async (session) => {
      const current = await this.head(session);
      if (current.treeSize !== expectedTreeSize) {
        throw new TreeSizeConflictError(expectedTreeSize, current.treeSize);
      }
      const moved = await this.head_.updateOne(
        { _id: HEAD_ID, treeSize: expectedTreeSize },
        { $set: newHead },
        { upsert: expectedTreeSize === 0, session },
      );
      if (moved.matchedCount !== 1 && moved.upsertedCount !== 1) {
        throw new TreeSizeConflictError(expectedTreeSize, (await this.head(session)).treeSize);
      }
      await this.leaves.insertMany(storedLeaves, { session });
      if (storedNodes.length > 0) await this.nodes_.insertMany(storedNodes, { session });
    });
  }

  async nodes(refs: readonly MerkleNodeRef[]): Promise<Buffer[]> {
    const sequences = refs.filter((ref) => ref.level === 0).map((ref) => ref.index);
    const ids = refs.filter((ref) => ref.level > 0).map(nodeId);
    const found = new Map<string, Buffer>();
    if (sequences.length > 0) {
      const cursor = this.leaves.find({ _id: { $in: sequences } }, { projection: { leafHash: 1 } });
      for await (const leaf of cursor) {
        found.set(nodeId({ level: 0, index: leaf._id }), bytesOf(leaf.leafHash, `Merkle leaf ${leaf._id}`));
      }
    }
    if (ids.length > 0) {
      for await (const node of this.nodes_.find({ _id: { $in: ids } })) {
        found.set(node._id, bytesOf(node.hash, `Merkle node ${node._id}`));
      }
    }
    return refs.map((ref) => {
      const hash = found.get(nodeId(ref));
      if (hash === undefined) throw new MissingMerkleNodeError(ref);
      return hash;
    });
  }

  async leafByEventId(eventId: string): Promise<MerkleLeaf | null> {
    const stored = await this.leaves.findOne({ eventId: { $eq: eventId } });
    return stored === null ? null : toLeaf(stored);
  }

  async leafBySequence(sequence: number): Promise<MerkleLeaf | null> {
    const stored = await this.leaves.findOne({ _id: { $eq: sequence } });
    return stored === null ? null : toLeaf(stored);
  }

  async saveDigest(digest: SignedDigest): Promise<SignedDigest> {
    try {
      await this.digests.insertOne({
        _id: digest.treeSize,
        rootHash: digest.rootHash,
        createdAt: digest.createdAt,
        signature: digest.signature,
        publicKey: digest.publicKey,
        algorithm: digest.algorithm,
      });
    } catch (error) {
      // One digest per tree size, the first published: another process's stays.
      if (!isDuplicateKey(error)) throw error;
    }
    const stored = await this.digest(digest.treeSize);
    if (stored === null)
      throw new Error(`The digest of tree size ${digest.treeSize} was saved but cannot be read`);
    return stored;
  }

  async digest(treeSize: number): Promise<SignedDigest | null> {
    const stored = await this.digests.findOne({ _id: { $eq: treeSize } });
    return stored === null ? null : toDigest(stored);
  }

  async latestDigest(): Promise<SignedDigest | null> {
    const [stored] = await this.digests.find({}, { sort: { _id: -1 }, limit: 1 }).toArray();
    return stored === undefined ? null : toDigest(stored);
  }

  async listDigests(options: { fromTreeSize?: number; limit?: number } = {}): Promise<SignedDigest[]> {
    const stored = await this.digests
      .find(
        { _id: { $gte: options.fromTreeSize ?? 0 } },
        { sort: { _id: 1 }, limit: options.limit ?? DEFAULT_LIST_LIMIT },
      )
      .toArray();
    return stored.map(toDigest);
  }

  async signingKey(): Promise<StoredSigningKey | null> {
    const stored = await this.keys.findOne({ _id: SIGNING_KEY_ID });
    return stored === null ? null : { privateKeyPem: stored.privateKeyPem, createdAt: stored.createdAt };
  }

  async saveSigningKey(key: StoredSigningKey): Promise<StoredSigningKey> {
    try {
      await this.keys.insertOne({
        _id: SIGNING_KEY_ID,
        privateKeyPem: key.privateKeyPem,
        createdAt: key.createdAt,
      });
    } catch (error) {
      // Two processes starting together: the first key saved is everyone's.
      if (!isDuplicateKey(error)) throw error;
    }
    const stored = await this.signingKey();
    if (stored === null) throw new Error('The signing key was saved but cannot be read');
    return stored;
  }

  /** The client is the caller's (shared with the other stores), closed by it. */
  async close(): Promise<void> {}
}
