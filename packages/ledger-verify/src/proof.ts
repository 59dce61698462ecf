import { hexToBytes } from './bytes';
import {
  checkDigest,
  checkEventBytes,
  checkInclusion,
  fingerprintOrNull,
  hashList,
  isObject,
  parseDigest,
} from './checks';
import type { VerifyCrypto } from './crypto';
import type { SignedDigest } from './digest';
import { verifyConsistency } from './merkle';
import { fail, OfflineVerificationError, summary, type DigestSummary, type OfflineReport } from './report';

interface Progress {
  digest: DigestSummary | null;
  keyFingerprint: string | null;
}

async function report(
  run: (progress: Progress) => Promise<number>,
  trustedPublicKey: string | undefined,
): Promise<OfflineReport> {
  const progress: Progress = { digest: null, keyFingerprint: null };
  try {
    const events = await run(progress);
    return {
      ok: true,
      failure: null,
      events,
      ...progress,
      keySource: trustedPublicKey ? 'trusted' : 'embedded',
    };
  } catch (error) {
    if (!(error instanceof OfflineVerificationError)) throw error;
    return { ok: false, failure: error.failure, events: 0, ...progress, keySource: null };
  }
}

async function seen(crypto: VerifyCrypto, progress: Progress, digest: SignedDigest): Promise<void> {
  progress.digest = summary(digest);
  progress.keyFingerprint = await fingerprintOrNull(crypto, digest.publicKey);
}

/**
 * A proof document: the answer of GET /audit/events/:eventId/proof with the event itself under `event`
 * (as GET /audit/streams/:stream/events serves it).
 */
export function verifyProofDocument(
  crypto: VerifyCrypto,
  document: unknown,
  trustedPublicKey?: string,
): Promise<OfflineReport> {
  return report(async (progress) => {
    if (!isObject(document))
      return fail({ check: 'format', detail: 'the proof file must hold a JSON object' });
    if (!isObject(document.event)) {
      return fail({
        check: 'format',
        detail: 'the proof file has no "event": add the event as the audit events route serves it',
      });
    }
    const digest = parseDigest(document.digest);
    await seen(crypto, progress, digest);
    const { event, hash } = await checkEventBytes(crypto, document.event);
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
    await checkInclusion(crypto, hash, document.leafIndex, document.proof, digest, where);
    await checkDigest(crypto, digest, trustedPublicKey);
    return 1;
  }, trustedPublicKey);
}

/** Does `proof` lead from the older digest's root to the newer one's (RFC 9162 §2.1.4)? Throws if not. */
export async function checkConsistency(
  crypto: VerifyCrypto,
  older: SignedDigest,
  newer: SignedDigest,
  proof: unknown,
  what: string,
): Promise<void> {
  const path = hashList(proof, 'proof');
  const root = (digest: SignedDigest) => hexToBytes(digest.rootHash);
  if (!(await verifyConsistency(crypto, older.treeSize, newer.treeSize, root(older), root(newer), path))) {
    fail({
      check: 'consistency-failed',
      detail: `the tree of size ${newer.treeSize} (root ${newer.rootHash}) does not extend ${what} (size ${older.treeSize})`,
    });
  }
}

/**
 * An auditor's own copy of an older digest against an answer of GET /audit/consistency: the answer's `from`
 * must be that digest, the proof must lead from its root to the newer root, and both must be signed.
 */
export function verifyConsistencyDocument(
  crypto: VerifyCrypto,
  heldDigest: unknown,
  answer: unknown,
  trustedPublicKey?: string,
): Promise<OfflineReport> {
  return report(async (progress) => {
    const held = parseDigest(heldDigest);
    if (!isObject(answer))
      return fail({ check: 'format', detail: 'the consistency answer must be a JSON object' });
    const from = parseDigest(answer.from, 'from');
    const to = parseDigest(answer.to, 'to');
    await seen(crypto, progress, to);
    if (from.treeSize !== held.treeSize || from.rootHash !== held.rootHash) {
      fail({
        check: 'digest-mismatch',
        detail:
          `the ledger now answers root ${from.rootHash} for tree size ${from.treeSize}; ` +
          `the digest held says ${held.rootHash} for tree size ${held.treeSize}`,
      });
    }
    await checkConsistency(crypto, held, to, answer.proof, 'the digest held');
    await checkDigest(crypto, held, trustedPublicKey);
    await checkDigest(crypto, to, trustedPublicKey);
    return 0;
  }, trustedPublicKey);
}
