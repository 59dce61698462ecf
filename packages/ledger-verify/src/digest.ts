import { base64ToBytes, bytesEqual, bytesToHex, utf8 } from './bytes';
import { canonicalize } from './canonical-json';
import type { VerifyCrypto } from './crypto';

export const DIGEST_ALGORITHM = 'Ed25519';

/** What is signed: `{treeSize, rootHash, createdAt}` (docs/hashing.md §8). */
export interface DigestBody {
  treeSize: number;
  /** Lowercase hex root of the tree of `treeSize` leaves. */
  rootHash: string;
  createdAt: string;
}

export interface SignedDigest extends DigestBody {
  /** Base64 Ed25519 signature of the canonical digest body. */
  signature: string;
  /** SubjectPublicKeyInfo PEM of the key that signed it. */
  publicKey: string;
  algorithm: string;
}

/** The signed bytes: RFC 8785 text of exactly {treeSize, rootHash, createdAt}, UTF-8. */
export function digestSigningBytes(digest: DigestBody): Uint8Array {
  return utf8(
    canonicalize({ treeSize: digest.treeSize, rootHash: digest.rootHash, createdAt: digest.createdAt }),
  );
}

/** RFC 8410: every Ed25519 SubjectPublicKeyInfo is this 12-byte header followed by the 32-byte key. */
const ED25519_SPKI_PREFIX = Uint8Array.of(
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
);

/** The DER of an Ed25519 `PUBLIC KEY` PEM; throws a TypeError saying what is wrong with anything else. */
export function ed25519PublicKeyDer(pem: string): Uint8Array {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!match) throw new TypeError('not a "PUBLIC KEY" PEM (SubjectPublicKeyInfo)');
  const der = base64ToBytes(match[1].replace(/\s+/g, ''));
  if (!der) throw new TypeError('the PEM body is not base64');
  if (der.length !== 44 || !bytesEqual(der.subarray(0, 12), ED25519_SPKI_PREFIX)) {
    throw new TypeError('not an Ed25519 public key');
  }
  return der;
}

/** `sha256:` + lowercase hex SHA-256 of the key's SubjectPublicKeyInfo DER: how outputs name a key. */
export async function keyFingerprint(crypto: VerifyCrypto, publicKeyPem: string): Promise<string> {
  return `sha256:${bytesToHex(await crypto.sha256(ed25519PublicKeyDer(publicKeyPem)))}`;
}

export type DigestCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'unsupported-algorithm' | 'bad-public-key' | 'untrusted-key' | 'bad-signature';
      detail: string;
    };

/**
 * Checks the Ed25519 signature with the digest's own key, and that key against `trustedPublicKey` when the
 * verifier has one out of band (a digest signed with any other key proves nothing).
 */
export async function checkDigestSignature(
  crypto: VerifyCrypto,
  digest: SignedDigest,
  trustedPublicKey?: string,
): Promise<DigestCheck> {
  if (digest.algorithm !== DIGEST_ALGORITHM) {
    return { ok: false, reason: 'unsupported-algorithm', detail: `algorithm ${String(digest.algorithm)}` };
  }
  let key: Uint8Array;
  try {
    key = ed25519PublicKeyDer(digest.publicKey);
  } catch (error) {
    return { ok: false, reason: 'bad-public-key', detail: (error as Error).message };
  }
  if (trustedPublicKey !== undefined) {
    let trusted: Uint8Array;
    try {
      trusted = ed25519PublicKeyDer(trustedPublicKey);
    } catch (error) {
      return { ok: false, reason: 'bad-public-key', detail: `trusted key: ${(error as Error).message}` };
    }
    if (!bytesEqual(trusted, key)) {
      return { ok: false, reason: 'untrusted-key', detail: 'the digest is signed with another key' };
    }
  }
  const signature = base64ToBytes(digest.signature);
  if (!signature) return { ok: false, reason: 'bad-signature', detail: 'signature is not base64' };
  const valid =
    signature.length === 64 &&
    Number.isSafeInteger(digest.treeSize) &&
    (await crypto.verifyEd25519(key, digestSigningBytes(digest), signature));
  return valid
    ? { ok: true }
    : { ok: false, reason: 'bad-signature', detail: 'Ed25519 signature does not match' };
}
