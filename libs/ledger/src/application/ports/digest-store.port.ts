/**
 * The DigestStore port: the ledger's Merkle tree as stored leaves and complete-subtree nodes, the signed
 * digests published over it, and the embedded profile's signing key. The tree builder
 * (libs/ledger/src/audit/merkle/merkle-tree-builder.ts) computes every hash; an adapter only stores and
 * reads, so SQLite and MongoDB adapters pass the same contract suite (libs/event-store/src/contract).
 */

/** A complete subtree's root: node (level, index) covers leaves [index * 2^level, (index + 1) * 2^level). */
export interface MerkleNode {
  level: number;
  index: number;
  /** 32 bytes. Level 0 holds the leaf hashes SHA-256(0x00 ‖ event hash). */
  hash: Buffer;
}

export interface MerkleNodeRef {
  level: number;
  index: number;
}

export interface MerkleLeaf {
  /** Ledger sequence: 0-based index in global order, the tree size when the leaf was appended. */
  sequence: number;
  eventId: string;
  /** The event's hash (lowercase hex). */
  eventHash: string;
  /** SHA-256(0x00 ‖ event hash): the tree's level-0 node. */
  leafHash: Buffer;
  /** Event-store position of the event, the builder's resume point. */
  position: bigint;
}

export interface MerkleTreeHead {
  treeSize: number;
  /** Position of the last event in the tree; null for the empty tree. */
  lastPosition: bigint | null;
}

export type DigestAlgorithm = 'Ed25519';

/** What is signed: the RFC 8785 bytes of `{treeSize, rootHash, createdAt}`. */
export interface DigestBody {
  treeSize: number;
  /** Lowercase hex root of the tree of `treeSize` leaves. */
  rootHash: string;
  createdAt: string;
}

export interface SignedDigest extends DigestBody {
  /** Base64 Ed25519 signature of the canonical digest body. */
  signature: string;
  /** SPKI PEM of the key that signed it. */
  publicKey: string;
  algorithm: DigestAlgorithm;
}

export interface StoredSigningKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  createdAt: string;
}

export interface DigestStore {
  head(): Promise<MerkleTreeHead>;
  /**
   * Appends leaves at sequences head().treeSize.. and the nodes of level >= 1 they complete, in one
   * atomic write (level 0 is each leaf's leafHash).
   * Throws TreeSizeConflictError when the tree is not `expectedTreeSize` long (another builder won).
   */
  appendLeaves(
    expectedTreeSize: number,
    leaves: readonly MerkleLeaf[],
    nodes: readonly MerkleNode[],
  ): Promise<void>;
  /** Node hashes in the order asked; throws MissingMerkleNodeError for a node not stored. */
  nodes(refs: readonly MerkleNodeRef[]): Promise<Buffer[]>;
  leafByEventId(eventId: string): Promise<MerkleLeaf | null>;
  leafBySequence(sequence: number): Promise<MerkleLeaf | null>;
  /** Stores a digest unless one of that tree size exists; answers the stored one either way. */
  saveDigest(digest: SignedDigest): Promise<SignedDigest>;
  digest(treeSize: number): Promise<SignedDigest | null>;
  latestDigest(): Promise<SignedDigest | null>;
  /** Digests by tree size ascending, from `fromTreeSize` inclusive. */
  listDigests(options?: { fromTreeSize?: number; limit?: number }): Promise<SignedDigest[]>;
  signingKey(): Promise<StoredSigningKey | null>;
  /** Keeps the first key ever saved (two processes starting together agree); answers the stored one. */
  saveSigningKey(key: StoredSigningKey): Promise<StoredSigningKey>;
  close(): Promise<void>;
}

export const DIGEST_STORE = Symbol('DigestStore');

export class TreeSizeConflictError extends Error {
  override readonly name = 'TreeSizeConflictError';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Merkle tree has ${actual} leaves, expected ${expected}`);
  }
}

export class MissingMerkleNodeError extends Error {
  override readonly name = 'MissingMerkleNodeError';
  constructor(readonly ref: MerkleNodeRef) {
    super(`Merkle node level ${ref.level} index ${ref.index} is not stored`);
  }
}
