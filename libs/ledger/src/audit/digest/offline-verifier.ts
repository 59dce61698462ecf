import type { SignedDigest } from '../../application/ports/digest-store.port';
import type { StoredEvent } from '../../application/ports/event-store.port';
import { canonicalEventBytes, eventHash, ZERO_HASH } from '../event-hash';
import { leafHash, verifyConsistency, verifyInclusion } from '../merkle/merkle-tree';
import { checkDigestSignature } from './digest-signature';

/**
 * Offline checks of a proof document or an evidence bundle: no server, no database. Each failure names
 * the check, in the order docs/hashing.md lists them: event bytes -> hash -> leaf -> root -> signature.
 */
export type OfflineCheck =
  | 'format'
  | 'canonical-mismatch'
  | 'hash-mismatch'
  | 'event-mismatch'
  | 'inclusion-failed'
  | 'tree-size-mismatch'
  | 'signature-invalid'
  | 'untrusted-key'
  | 'chain-broken'
  | 'duplicate-event'
  | 'truncated'
  | 'digest-mismatch'
  | 'consistency-failed';

export interface OfflineFailure {
  check: OfflineCheck;
  detail: string;
  /** 1-based line of the bundle, where there is one. */
  line?: number;
  stream?: string;
  revision?: number;
  eventId?: string;
}

export interface OfflineReport {
  ok: boolean;
  events: number;
  digest: { treeSize: number; rootHash: string; createdAt: string } | null;
  /** Whose key the signature was checked against. */
  keySource: 'trusted' | 'embedded' | null;
  failure: OfflineFailure | null;
}

export class OfflineVerificationError extends Error {
  constructor(readonly failure: OfflineFailure) {
    super(failure.detail);
  }
}

const fail = (failure: OfflineFailure): never => {
  throw new OfflineVerificationError(failure);
};

const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function hashList(value: unknown, what: string): Buffer[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && HEX64.test(item))) {
    return fail({ check: 'format', detail: `${what} must be an array of 64-character lowercase hex hashes` });
  }
  return value.map((item: string) => Buffer.from(item, 'hex'));
}

function sizeOf(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    return fail({ check: 'format', detail: `${what} must be a non-negative integer` });
  }
  return value as number;
}

export function parseDigest(value: unknown): SignedDigest {
  if (
    !isObject(value) ||
    typeof value.rootHash !== 'string' ||
    !HEX64.test(value.rootHash) ||
    typeof value.createdAt !== 'string' ||
    typeof value.signature !== 'string' ||
    typeof value.publicKey !== 'string' ||
    typeof value.algorithm !== 'string'
  ) {
    return fail({
      check: 'format',
      detail: 'digest must hold treeSize, rootHash (hex), createdAt, signature, publicKey, algorithm',
    });
  }
  return { ...(value as unknown as SignedDigest), treeSize: sizeOf(value.treeSize, 'digest.treeSize') };
}

/** Verifies the digest's signature; with a trusted key, also that the digest was signed by it. */
export function checkDigest(digest: SignedDigest, trustedPublicKey?: string): void {
  const check = checkDigestSignature(digest, trustedPublicKey);
  if (!check.ok) {
    fail({
      check: check.reason === 'untrusted-key' ? 'untrusted-key' : 'signature-invalid',
      detail: `digest of tree size ${digest.treeSize}: ${check.detail}`,
    });
  }
}

export type ExportedEvent = Omit<StoredEvent, 'position'> & { position?: string };

/** The event's stored fields -> canonical bytes -> hash. Answers the hash. */
export function checkEventBytes(value: unknown): { event: ExportedEvent; hash: string } {
  if (
    !isObject(value) ||
    typeof value.stream !== 'string' ||
    !Number.isSafeInteger(value.revision) ||
    typeof value.type !== 'string' ||
    !Number.isSafeInteger(value.schemaVersion) ||
    !isObject(value.data) ||
    !isObject(value.metadata) ||
    typeof value.metadata.hash !== 'string' ||
    typeof value.metadata.eventId !== 'string' ||
    typeof value.canonical !== 'string'
  ) {
    return fail({
      check: 'format',
      detail:
        'event must hold stream, revision, type, schemaVersion, data, metadata (with eventId, hash), canonical',
    });
  }
  const event = value as unknown as ExportedEvent;
  const where = { stream: event.stream, revision: event.revision, eventId: event.metadata.eventId };
  let encoded: string;
  try {
    encoded = canonicalEventBytes(event);
  } catch (error) {
    return fail({
      check: 'canonical-mismatch',
      detail: `fields cannot be canonicalised: ${(error as Error).message}`,
      ...where,
    });
  }
  if (encoded !== event.canonical) {
    fail({
      check: 'canonical-mismatch',
      detail: `${event.stream}@${event.revision}: canonical bytes do not encode its fields`,
      ...where,
    });
  }
  const hash = eventHash(event.canonical);
  if (hash !== event.metadata.hash) {
    fail({
      check: 'hash-mismatch',
      detail: `${event.stream}@${event.revision}: stored hash ${event.metadata.hash}, computed ${hash}`,
      ...where,
    });
  }
  return { event, hash };
}

/** hash -> leaf -> root of the digest. */
export function checkInclusion(
  hash: string,
  leafIndex: unknown,
  proof: unknown,
  digest: SignedDigest,
  where: Partial<OfflineFailure> = {},
): void {
  const index = sizeOf(leafIndex, 'leafIndex');
  const path = hashList(proof, 'proof');
  if (!verifyInclusion(index, digest.treeSize, leafHash(hash), path, Buffer.from(digest.rootHash, 'hex'))) {
    fail({
      check: 'inclusion-failed',
      detail: `leaf ${index} with event hash ${hash} does not lead to root ${digest.rootHash} of tree size ${digest.treeSize}`,
      ...where,
    });
  }
}

function report(
  run: () => Omit<OfflineReport, 'ok' | 'failure'>,
  partial: () => Omit<OfflineReport, 'ok' | 'failure'>,
): OfflineReport {
  try {
    return { ok: true, failure: null, ...run() };
  } catch (error) {
    if (error instanceof OfflineVerificationError) return { ok: false, failure: error.failure, ...partial() };
    throw error;
  }
}

/**
 * A proof document: the answer of GET /audit/events/:eventId/proof with the event itself under `event`
 * (as GET /audit/streams/:stream/events serves it).
 */
export function verifyProofDocument(document: unknown, trustedPublicKey?: string): OfflineReport {
  let digestSummary: OfflineReport['digest'] = null;
  return report(
    () => {
      if (!isObject(document))
        return fail({ check: 'format', detail: 'the proof file must hold a JSON object' });
      if (!isObject(document.event)) {
        return fail({
          check: 'format',
          detail: 'the proof file has no "event": add the event as the audit events route serves it',
        });
      }
      const digest = parseDigest(document.digest);
      digestSummary = { treeSize: digest.treeSize, rootHash: digest.rootHash, createdAt: digest.createdAt };
      const { event, hash } = checkEventBytes(document.event);
      const where = { stream: event.stream, revision: event.revision, eventId: event.metadata.eventId };
      if (document.eventId !== undefined && document.eventId !== event.metadata.eventId) {
        fail({
          check: 'event-mismatch',
          detail: `proof is for event ${String(document.eventId)}, the event is ${event.metadata.eventId}`,
          ...where,
        });
      }
      if (document.eventHash !== undefined && document.eventHash !== hash) {
        fail({
          check: 'event-mismatch',
          detail: `proof is for event hash ${String(document.eventHash)}, the event hashes to ${hash}`,
          ...where,
        });
      }
      if (document.treeSize !== undefined && document.treeSize !== digest.treeSize) {
        fail({
          check: 'tree-size-mismatch',
          detail: `proof says tree size ${String(document.treeSize)}, its digest ${digest.treeSize}`,
          ...where,
        });
      }
      checkInclusion(hash, document.leafIndex, document.proof, digest, where);
      checkDigest(digest, trustedPublicKey);
      return { events: 1, digest: digestSummary, keySource: trustedPublicKey ? 'trusted' : 'embedded' };
    },
    () => ({ events: 0, digest: digestSummary, keySource: null }),
  );
}

/**
 * An auditor's own copy of an older digest against an answer of GET /audit/consistency: the answer's `from`
 * must be that digest, the proof must lead from its root to the newer root, and both must be signed.
 */
export function verifyConsistencyDocument(
  heldDigest: unknown,
  answer: unknown,
  trustedPublicKey?: string,
): OfflineReport {
  let digestSummary: OfflineReport['digest'] = null;
  return report(
    () => {
      const held = parseDigest(heldDigest);
      if (!isObject(answer))
        return fail({ check: 'format', detail: 'the consistency answer must be a JSON object' });
      const from = parseDigest(answer.from);
      const to = parseDigest(answer.to);
      digestSummary = { treeSize: to.treeSize, rootHash: to.rootHash, createdAt: to.createdAt };
      if (from.treeSize !== held.treeSize || from.rootHash !== held.rootHash) {
        fail({
          check: 'digest-mismatch',
          detail:
            `the ledger now answers root ${from.rootHash} for tree size ${from.treeSize}; ` +
            `the digest held says ${held.rootHash} for tree size ${held.treeSize}`,
        });
      }
      const proof = hashList(answer.proof, 'proof');
      const hex = (digest: SignedDigest) => Buffer.from(digest.rootHash, 'hex');
      if (!verifyConsistency(held.treeSize, to.treeSize, hex(held), hex(to), proof)) {
        fail({
          check: 'consistency-failed',
          detail: `the tree of size ${to.treeSize} (root ${to.rootHash}) does not extend the digest held (size ${held.treeSize})`,
        });
      }
      checkDigest(held, trustedPublicKey);
      checkDigest(to, trustedPublicKey);
      return { events: 0, digest: digestSummary, keySource: trustedPublicKey ? 'trusted' : 'embedded' };
    },
    () => ({ events: 0, digest: digestSummary, keySource: null }),
  );
}

/** Links of consecutive revisions present in a bundle, and revision 0's zero prevHash. */
export class BundleChains {
  private readonly seen = new Map<string, Map<number, { prevHash: string; hash: string; line: number }>>();

  add(event: ExportedEvent, line: number): void {
    let stream = this.seen.get(event.stream);
    if (!stream) this.seen.set(event.stream, (stream = new Map()));
    if (stream.has(event.revision)) {
      fail({
        check: 'duplicate-event',
        detail: `${event.stream}@${event.revision} appears twice`,
        line,
        stream: event.stream,
        revision: event.revision,
      });
    }
    stream.set(event.revision, { prevHash: event.metadata.prevHash, hash: event.metadata.hash, line });
  }

  /**
   * Revisions of each stream must be contiguous (a hole is a removed line), start at 0 when the bundle
   * holds whole streams, and link by prevHash.
   */
  check(wholeStreams: boolean): void {
    for (const [name, revisions] of this.seen) {
      const sorted = [...revisions].sort(([a], [b]) => a - b);
      const first = sorted[0][0];
      if (wholeStreams && first !== 0) {
        fail({
          check: 'chain-broken',
          detail: `${name} starts at revision ${first}, the selection holds whole streams`,
          line: sorted[0][1].line,
          stream: name,
          revision: first,
        });
      }
      sorted.forEach(([revision, entry], i) => {
        if (revision !== first + i) {
          fail({
            check: 'chain-broken',
            detail: `${name}: revision ${first + i} is missing before revision ${revision}`,
            line: entry.line,
            stream: name,
            revision,
          });
        }
        const expected = revision === 0 ? ZERO_HASH : revisions.get(revision - 1)?.hash;
        if (expected !== undefined && entry.prevHash !== expected) {
          fail({
            check: 'chain-broken',
            detail: `${name}@${revision}: prevHash ${entry.prevHash}, previous event's hash ${expected}`,
            line: entry.line,
            stream: name,
            revision,
          });
        }
      });
    }
  }
}
