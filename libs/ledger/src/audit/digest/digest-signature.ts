import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { digestSigningBytes } from '@payment-issue-ledger/verify';
import type { DigestBody, SignedDigest } from '../../application/ports/digest-store.port';

/** Signing lives here, on the server; the signed bytes and the signature check are the package's. */
export const DIGEST_ALGORITHM = 'Ed25519' as const;

export { digestSigningBytes };

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
