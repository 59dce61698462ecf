import { hexToBytes, isHashHex } from './bytes';
import type { VerifyCrypto } from './crypto';
import { checkDigestSignature, keyFingerprint, type SignedDigest } from './digest';
import { canonicalEventBytes, eventHash } from './event';
import { leafHash, verifyInclusion } from './merkle';
import { fail, type OfflineFailure } from './report';

/** The checks every offline verifier is made of; each throws OfflineVerificationError naming itself. */

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function hashList(value: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(value) || !value.every(isHashHex)) {
    return fail({ check: 'format', detail: `${what} must be an array of 64-character lowercase hex hashes` });
  }
  return value.map(hexToBytes);
}

export function sizeOf(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return fail({ check: 'format', detail: `${what} must be a non-negative integer` });
  }
  return value;
}

export function parseDigest(value: unknown, what = 'digest'): SignedDigest {
  if (
    !isObject(value) ||
    !isHashHex(value.rootHash) ||
    typeof value.createdAt !== 'string' ||
    typeof value.signature !== 'string' ||
    typeof value.publicKey !== 'string' ||
    typeof value.algorithm !== 'string'
  ) {
    return fail({
      check: 'format',
      detail: `${what} must hold treeSize, rootHash (hex), createdAt, signature, publicKey, algorithm`,
    });
  }
  return {
    treeSize: sizeOf(value.treeSize, `${what}.treeSize`),
    rootHash: value.rootHash,
    createdAt: value.createdAt,
    signature: value.signature,
    publicKey: value.publicKey,
    algorithm: value.algorithm,
  };
}

/** The key's fingerprint, or null when the key is no Ed25519 key (the signature check then says so). */
export async function fingerprintOrNull(crypto: VerifyCrypto, publicKey: string): Promise<string | null> {
  try {
    return await keyFingerprint(crypto, publicKey);
  } catch {
    return null;
  }
}

/** Verifies the digest's signature; with a trusted key, also that the digest was signed by it. */
export async function checkDigest(
  crypto: VerifyCrypto,
  digest: SignedDigest,
  trustedPublicKey?: string,
): Promise<void> {
  const check = await checkDigestSignature(crypto, digest, trustedPublicKey);
  if (!check.ok) {
    fail({
      check: check.reason === 'untrusted-key' ? 'untrusted-key' : 'signature-invalid',
      detail: `digest of tree size ${digest.treeSize}: ${check.detail}`,
    });
  }
}

/** An event as the ledger serves and exports it (docs/hashing.md §10). */
export interface ExportedEvent {
  stream: string;
  revision: number;
  position?: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown> & { eventId: string; hash: string; prevHash?: string };
  canonical: string;
}

/** The event's stored fields -> canonical bytes -> hash. Answers the hash. */
export async function checkEventBytes(
  crypto: VerifyCrypto,
  value: unknown,
): Promise<{ event: ExportedEvent; hash: string }> {
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
  const hash = await eventHash(crypto, event.canonical);
  if (hash !== event.metadata.hash) {
    fail({
      check: 'hash-mismatch',
      detail: `${event.stream}@${event.revision}: stored hash ${event.metadata.hash}, computed ${hash}`,
      ...where,
    });
  }
  return { event, hash };
}

/** hash -> leaf -> root of the digest. Answers the leaf index. */
export async function checkInclusion(
  crypto: VerifyCrypto,
  hash: string,
  leafIndex: unknown,
  proof: unknown,
  digest: SignedDigest,
  where: Partial<OfflineFailure> = {},
): Promise<number> {
  const index = sizeOf(leafIndex, 'leafIndex');
  const path = hashList(proof, 'proof');
  const leaf = await leafHash(crypto, hash);
  if (!(await verifyInclusion(crypto, index, digest.treeSize, leaf, path, hexToBytes(digest.rootHash)))) {
    fail({
      check: 'inclusion-failed',
      detail: `leaf ${index} with event hash ${hash} does not lead to root ${digest.rootHash} of tree size ${digest.treeSize}`,
      ...where,
    });
  }
  return index;
}
