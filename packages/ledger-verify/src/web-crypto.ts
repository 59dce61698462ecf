import type { VerifyCrypto } from './crypto';

/**
 * The part of the Web Crypto API (`crypto.subtle`) used here, declared structurally so the package
 * compiles without the DOM library and takes the browser's or Node's `globalThis.crypto.subtle`.
 */
export interface SubtleCryptoLike {
  digest(algorithm: 'SHA-256', data: Uint8Array): Promise<ArrayBuffer>;
  importKey(
    format: 'spki',
    keyData: Uint8Array,
    algorithm: { name: 'Ed25519' },
    extractable: false,
    usages: ['verify'],
  ): Promise<unknown>;
  verify(
    algorithm: { name: 'Ed25519' },
    key: unknown,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
}

/** VerifyCrypto on Web Crypto (browsers with Ed25519 support, Node >= 20). */
export function webCrypto(subtle: SubtleCryptoLike): VerifyCrypto {
  return {
    async sha256(data) {
      return new Uint8Array(await subtle.digest('SHA-256', data));
    },
    async verifyEd25519(publicKeySpki, message, signature) {
      const key = await subtle.importKey('spki', publicKeySpki, { name: 'Ed25519' }, false, ['verify']);
      return subtle.verify({ name: 'Ed25519' }, key, signature, message);
    },
  };
}
