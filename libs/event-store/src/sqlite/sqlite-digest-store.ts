import type { Database, Statement, Transaction } from 'better-sqlite3';
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
import { BOUND_LIMIT, writeWithoutSleeping } from './open-sqlite';

/**
 * Tables of the Merkle tree beside the events (docs/hashing.md, "Stored tree"). Level-0 nodes live in
 * merkle_leaves (one row per event, with the eventId lookup); merkle_nodes holds the roots of complete
 * subtrees of level >= 1, about one per leaf in total.
 */
export function ensureDigestStoreSchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS merkle_leaves (
      sequence INTEGER PRIMARY KEY,
      event_id TEXT NOT NULL UNIQUE,
      event_hash TEXT NOT NULL,
      leaf_hash BLOB NOT NULL,
      position INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS merkle_nodes (
      level INTEGER NOT NULL,
      idx INTEGER NOT NULL,
      hash BLOB NOT NULL,
      PRIMARY KEY (level, idx)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS merkle_digests (
      tree_size INTEGER PRIMARY KEY,
      root_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      signature TEXT NOT NULL,
      public_key TEXT NOT NULL,
      algorithm TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS merkle_signing_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      private_key_pem TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
  `);
}

interface LeafRow {
  sequence: number;
  event_id: string;
  event_hash: string;
  leaf_hash: Buffer;
  position: number;
}

interface DigestRow {
  tree_size: number;
  root_hash: string;
  created_at: string;
  signature: string;
  public_key: string;
  algorithm: string;
}

const toLeaf = (row: LeafRow): MerkleLeaf => ({
  sequence: row.sequence,
  eventId: row.event_id,
  eventHash: row.event_hash,
  leafHash: row.leaf_hash,
  position: BigInt(row.position),
});

const toDigest = (row: DigestRow): SignedDigest => ({
  treeSize: row.tree_size,
  rootHash: row.root_hash,
  createdAt: row.created_at,
  signature: row.signature,
  publicKey: row.public_key,
  algorithm: row.algorithm as SignedDigest['algorithm'],
});

/**
 * The embedded DigestStore. Takes a connection of its own or a shared one; it never closes a connection
 * it was given (`owned: false`), so the API can read proofs on its query connection.
 */
export class SqliteDigestStore implements DigestStore {
  private readonly lastLeaf: Statement<[], LeafRow>;
  private readonly insertLeaf: Statement<[LeafRow]>;
  private readonly insertNode: Statement<[{ level: number; idx: number; hash: Buffer }]>;
  private readonly selectLeaf: Statement<[number], LeafRow>;
  private readonly selectLeafByEvent: Statement<[string], LeafRow>;
  private readonly selectNode: Statement<[number, number], { hash: Buffer }>;
  private readonly insertDigest: Statement<[DigestRow]>;
  private readonly selectDigest: Statement<[number], DigestRow>;
  private readonly selectLatest: Statement<[], DigestRow>;
  private readonly selectDigests: Statement<[number, number], DigestRow>;
  private readonly selectKey: Statement<[], { private_key_pem: string; created_at: string }>;
  private readonly insertKey: Statement<[{ private_key_pem: string; created_at: string }]>;
  private readonly append: Transaction<
    (expected: number, leaves: readonly MerkleLeaf[], nodes: readonly MerkleNode[]) => void
  >;

  constructor(
    private readonly db: Database,
    private readonly options: { owned?: boolean } = {},
  ) {
    if (!db.readonly) ensureDigestStoreSchema(db);
    this.lastLeaf = db.prepare('SELECT * FROM merkle_leaves ORDER BY sequence DESC LIMIT 1');
    this.insertLeaf = db.prepare(
      `INSERT INTO merkle_leaves (sequence, event_id, event_hash, leaf_hash, position)
       VALUES (@sequence, @event_id, @event_hash, @leaf_hash, @position)`,
    );
    this.insertNode = db.prepare('INSERT INTO merkle_nodes (level, idx, hash) VALUES (@level, @idx, @hash)');
    this.selectLeaf = db.prepare('SELECT * FROM merkle_leaves WHERE sequence = ?');
    this.selectLeafByEvent = db.prepare('SELECT * FROM merkle_leaves WHERE event_id = ?');
    this.selectNode = db.prepare('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?');
    this.insertDigest = db.prepare(
      `INSERT INTO merkle_digests (tree_size, root_hash, created_at, signature, public_key, algorithm)
       VALUES (@tree_size, @root_hash, @created_at, @signature, @public_key, @algorithm)
       ON CONFLICT (tree_size) DO NOTHING`,
    );
    this.selectDigest = db.prepare('SELECT * FROM merkle_digests WHERE tree_size = ?');
    this.selectLatest = db.prepare('SELECT * FROM merkle_digests ORDER BY tree_size DESC LIMIT 1');
    this.selectDigests = db.prepare(
      `SELECT * FROM merkle_digests WHERE tree_size >= ? ORDER BY tree_size ${BOUND_LIMIT}`,
    );
    this.selectKey = db.prepare('SELECT private_key_pem, created_at FROM merkle_signing_key WHERE id = 1');
    this.insertKey = db.prepare(
      `INSERT INTO merkle_signing_key (id, private_key_pem, created_at)
       VALUES (1, @private_key_pem, @created_at) ON CONFLICT (id) DO NOTHING`,
    );
    this.append = db.transaction(
      (expected: number, leaves: readonly MerkleLeaf[], nodes: readonly MerkleNode[]) => {
        const actual = this.currentSize();
        if (actual !== expected) throw new TreeSizeConflictError(expected, actual);
        leaves.forEach((leaf, offset) => {
          if (leaf.sequence !== expected + offset) {
            throw new RangeError(`leaf sequence ${leaf.sequence}, expected ${expected + offset}`);
          }
          this.insertLeaf.run({
            sequence: leaf.sequence,
            event_id: leaf.eventId,
            event_hash: leaf.eventHash,
            leaf_hash: leaf.leafHash,
            position: Number(leaf.position),
          });
        });
        for (const node of nodes) {
          if (node.level < 1) throw new RangeError('level-0 nodes are stored as leaves');
          this.insertNode.run({ level: node.level, idx: node.index, hash: node.hash });
        }
      },
    );
  }

  private currentSize(): number {
    const row = this.lastLeaf.get();
    return row ? row.sequence + 1 : 0;
  }

  async head(): Promise<MerkleTreeHead> {
    const row = this.lastLeaf.get();
    return row
      ? { treeSize: row.sequence + 1, lastPosition: BigInt(row.position) }
      : { treeSize: 0, lastPosition: null };
  }

  async appendLeaves(
    expectedTreeSize: number,
    leaves: readonly MerkleLeaf[],
    nodes: readonly MerkleNode[],
  ): Promise<void> {
    // IMMEDIATE: take the write lock before reading the size, so two builders cannot both pass the check.
    this.append.immediate(expectedTreeSize, leaves, nodes);
  }

  async nodes(refs: readonly MerkleNodeRef[]): Promise<Buffer[]> {
    return refs.map((ref) => {
      const hash =
        ref.level === 0
          ? this.selectLeaf.get(ref.index)?.leaf_hash
          : this.selectNode.get(ref.level, ref.index)?.hash;
      if (!hash) throw new MissingMerkleNodeError(ref);
      return hash;
    });
  }

  async leafByEventId(eventId: string): Promise<MerkleLeaf | null> {
    const row = this.selectLeafByEvent.get(eventId);
    return row ? toLeaf(row) : null;
  }

  async leafBySequence(sequence: number): Promise<MerkleLeaf | null> {
    const row = this.selectLeaf.get(sequence);
    return row ? toLeaf(row) : null;
  }

  async saveDigest(digest: SignedDigest): Promise<SignedDigest> {
    // Digests are signed and saved on the API's request thread, which must not sleep on a taken lock.
    await writeWithoutSleeping(this.db, () =>
      this.insertDigest.run({
        tree_size: digest.treeSize,
        root_hash: digest.rootHash,
        created_at: digest.createdAt,
        signature: digest.signature,
        public_key: digest.publicKey,
        algorithm: digest.algorithm,
      }),
    );
    return toDigest(this.selectDigest.get(digest.treeSize)!);
  }

  async digest(treeSize: number): Promise<SignedDigest | null> {
    const row = this.selectDigest.get(treeSize);
    return row ? toDigest(row) : null;
  }

  async latestDigest(): Promise<SignedDigest | null> {
    const row = this.selectLatest.get();
    return row ? toDigest(row) : null;
  }

  async listDigests(options: { fromTreeSize?: number; limit?: number } = {}): Promise<SignedDigest[]> {
    return this.selectDigests.all(options.fromTreeSize ?? 0, options.limit ?? 100).map(toDigest);
  }

  async signingKey(): Promise<StoredSigningKey | null> {
    const row = this.selectKey.get();
    return row ? { privateKeyPem: row.private_key_pem, createdAt: row.created_at } : null;
  }

  async saveSigningKey(key: StoredSigningKey): Promise<StoredSigningKey> {
    await writeWithoutSleeping(this.db, () =>
      this.insertKey.run({ private_key_pem: key.privateKeyPem, created_at: key.createdAt }),
    );
    return (await this.signingKey())!;
  }

  async close(): Promise<void> {
    if (this.options.owned && this.db.open) this.db.close();
  }
}
