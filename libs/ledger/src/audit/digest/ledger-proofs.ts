import type { DigestStore, SignedDigest } from '../../application/ports/digest-store.port';
import { storedConsistencyProof, storedInclusionProof } from '../merkle/stored-tree-proofs';

export interface InclusionProofAnswer {
  eventId: string;
  /** The event's ledger sequence: its leaf index. */
  leafIndex: number;
  treeSize: number;
  eventHash: string;
  leafHash: string;
  /** RFC 9162 inclusion path, leaf to root, lowercase hex. */
  proof: string[];
  digest: SignedDigest;
}

export interface ConsistencyProofAnswer {
  from: SignedDigest;
  to: SignedDigest;
  /** RFC 9162 consistency path from the tree of from.treeSize to the tree of to.treeSize, lowercase hex. */
  proof: string[];
}

export class ProofSubjectNotFoundError extends Error {
  override readonly name = 'ProofSubjectNotFoundError';
  constructor(
    readonly subject: 'event' | 'digest',
    detail: string,
  ) {
    super(detail);
  }
}

/** The event is in the tree, but after the digest asked for: that digest cannot include it. */
export class EventNotInDigestError extends Error {
  override readonly name = 'EventNotInDigestError';
  constructor(
    readonly leafIndex: number,
    readonly treeSize: number,
  ) {
    super(`event has ledger sequence ${leafIndex}, outside the digest of tree size ${treeSize}`);
  }
}

const hex = (hashes: readonly Buffer[]): string[] => hashes.map((hash) => hash.toString('hex'));

/** Proofs against published digests only: a proof against an unsigned root would prove nothing. */
export class LedgerProofs {
  constructor(private readonly tree: DigestStore) {}

  async inclusion(eventId: string, treeSize?: number): Promise<InclusionProofAnswer> {
    const leaf = await this.tree.leafByEventId(eventId);
    if (!leaf)
      throw new ProofSubjectNotFoundError('event', `no event ${eventId} in the ledger's Merkle tree`);
    const digest = await this.digest(treeSize);
    if (leaf.sequence >= digest.treeSize) throw new EventNotInDigestError(leaf.sequence, digest.treeSize);
    return {
      eventId,
      leafIndex: leaf.sequence,
      treeSize: digest.treeSize,
      eventHash: leaf.eventHash,
      leafHash: leaf.leafHash.toString('hex'),
      proof: hex(await storedInclusionProof(this.tree, leaf.sequence, digest.treeSize)),
      digest,
    };
  }

  /** from <= to is checked by the caller (a 400); both must be published digests. */
  async consistency(fromSize: number, toSize: number): Promise<ConsistencyProofAnswer> {
    const from = await this.digest(fromSize);
    const to = await this.digest(toSize);
    return { from, to, proof: hex(await storedConsistencyProof(this.tree, fromSize, toSize)) };
  }

  private async digest(treeSize?: number): Promise<SignedDigest> {
    const digest = treeSize === undefined ? await this.tree.latestDigest() : await this.tree.digest(treeSize);
    if (!digest) {
      throw new ProofSubjectNotFoundError(
        'digest',
        treeSize === undefined
          ? 'no digest has been published yet'
          : `no digest published for tree size ${treeSize}`,
      );
    }
    return digest;
  }
}
