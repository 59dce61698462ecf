import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { DigestBody, SignedDigest } from '../../application/ports/digest-store.port';
import { canonicalize } from '../canonical-json';

export const DIGEST_ALGORITHM = 'Ed25519' as const;

/** The signed bytes: RFC 8785 text of exactly {treeSize, rootHash, createdAt}, UTF-8. */
export function digestSigningBytes(digest: DigestBody): Buffer {
  return Buffer.from(
    canonicalize({ treeSize: digest.treeSize, rootHash: digest.rootHash, createdAt: digest.createdAt }),
    'utf8',
  );
}

export function publicKeyPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

export function signDigest(body: DigestBody, privateKey: KeyObject): SignedDigest {
  return {
    treeSize: body.treeSize,
    rootHash: body.rootHash,
    createdAt: body.createdAt,
    // Ed25519 signs the message itself; node takes `null` as the digest algorithm for it.
    signature: sign(null, digestSigningBytes(body), privateKey).toString('base64'),
    publicKey: publicKeyPem(privateKey),
    algorithm: DIGEST_ALGORITHM,
  };
}

export type DigestCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'unsupported-algorithm' | 'bad-public-key' | 'untrusted-key' | 'bad-signature';
      detail: string;
    };

const normalisePem = (pem: string): string => pem.replace(/\r\n/g, '\n').trim();

/**
 * Checks the Ed25519 signature with the digest's own key, and that key against `trustedPublicKey` when the
 * verifier has one out of band (a digest signed with any other key proves nothing).
 */
export function checkDigestSignature(digest: SignedDigest, trustedPublicKey?: string): DigestCheck {
  if (digest.algorithm !== DIGEST_ALGORITHM) {
    return { ok: false, reason: 'unsupported-algorithm', detail: `algorithm ${String(digest.algorithm)}` };
  }
  let key: KeyObject;
  try {
    key = createPublicKey(digest.publicKey);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
  } catch (error) {
    return { ok: false, reason: 'bad-public-key', detail: (error as Error).message };
  }
  if (trustedPublicKey !== undefined) {
    let trusted: string;
    try {
      trusted = createPublicKey(trustedPublicKey).export({ type: 'spki', format: 'pem' }).toString();
    } catch (error) {
      return { ok: false, reason: 'bad-public-key', detail: `trusted key: ${(error as Error).message}` };
    }
    if (normalisePem(trusted) !== normalisePem(key.export({ type: 'spki', format: 'pem' }).toString())) {
      return { ok: false, reason: 'untrusted-key', detail: 'the digest is signed with another key' };
    }
  }
  let signature: Buffer;
  try {
    signature = Buffer.from(digest.signature, 'base64');
  } catch {
    return { ok: false, reason: 'bad-signature', detail: 'signature is not base64' };
  }
  const valid =
    signature.length === 64 &&
    Number.isSafeInteger(digest.treeSize) &&
    verify(null, digestSigningBytes(digest), key, signature);
  return valid
    ? { ok: true }
    : { ok: false, reason: 'bad-signature', detail: 'Ed25519 signature does not match' };
}

/**
 * LEDGER_SIGNING_KEY holds no usable Ed25519 private key. The message names the variable and what it may
 * hold: OpenSSL's own ("error:1E08010C:DECODER routines::unsupported") never said which setting was wrong.
 */
export class InvalidSigningKeyError extends Error {
  override readonly name = 'InvalidSigningKeyError';
  constructor(reason: string) {
    super(
      `LEDGER_SIGNING_KEY is not a usable Ed25519 private key (${reason}): set it to a PKCS#8 PEM, or base64 ` +
        'of the PEM, of its DER or of a 32-byte seed; or unset it to sign with the key kept in ledger.db',
    );
  }
}

/** Parses LEDGER_SIGNING_KEY: a PKCS#8 PEM, or base64 of one, of its DER, or of a raw 32-byte seed. */
export function parseSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPrivateKey(trimmed);
    else {
      const bytes = Buffer.from(trimmed, 'base64');
      const decoded = bytes.toString('utf8');
      if (decoded.startsWith('-----BEGIN')) key = createPrivateKey(decoded);
      else if (bytes.length === 32) {
        // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): fixed 16-byte prefix.
        const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
        key = createPrivateKey({ key: Buffer.concat([prefix, bytes]), format: 'der', type: 'pkcs8' });
      } else key = createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
    }
  } catch {
    // OpenSSL's reason names neither the variable nor the accepted forms; ours does.
    throw new InvalidSigningKeyError('it does not decode as a private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidSigningKeyError(`it is an ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
  return key;
}
