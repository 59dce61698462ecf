/**
 * The two primitives verification needs, injected so the same core runs on Node (`./node`) and in a
 * browser (`./web`, Web Crypto). Asynchronous because Web Crypto is.
 */
export interface VerifyCrypto {
  sha256(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Ed25519 (RFC 8032, pure) over `message`, with the key as SubjectPublicKeyInfo DER. False for a bad
   * signature; never throws for one.
   */
  verifyEd25519(publicKeySpki: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}
