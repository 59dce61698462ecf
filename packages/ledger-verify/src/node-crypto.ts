import { createHash, createPublicKey, verify } from 'node:crypto';
import type { VerifyCrypto } from './crypto';

/** VerifyCrypto on node:crypto. */
export function nodeCrypto(): VerifyCrypto {
  return {
    async sha256(data) {
      return createHash('sha256').update(data).digest();
    },
    async verifyEd25519(publicKeySpki, message, signature) {
      const key = createPublicKey({ key: Buffer.from(publicKeySpki), format: 'der', type: 'spki' });
      // Ed25519 signs the message itself; node takes `null` as the digest algorithm for it.
      return verify(null, message, key, signature);
    },
  };
}
