import * as core from '@payment-issue-ledger/verify';
import { nodeCrypto } from '@payment-issue-ledger/verify/node';

/**
 * The verification package's checks on node:crypto, for the server side, the CLI and the tests. Nothing is
 * computed here: every check is the package's, the one an auditor runs with the standalone `ledger-verify`.
 */
export const verifyCrypto: core.VerifyCrypto = nodeCrypto();

export type {
  CompletenessReport,
  DigestCheck,
  OfflineCheck,
  OfflineFailure,
  OfflineReport,
} from '@payment-issue-ledger/verify';
export { describeReport } from '@payment-issue-ledger/verify';

export const verifyInclusion = (
  index: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> => core.verifyInclusion(verifyCrypto, index, treeSize, leaf, proof, root);

export const verifyConsistency = (
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<boolean> => core.verifyConsistency(verifyCrypto, size1, size2, root1, root2, proof);

export const checkDigestSignature = (
  digest: core.SignedDigest,
  trustedPublicKey?: string,
): Promise<core.DigestCheck> => core.checkDigestSignature(verifyCrypto, digest, trustedPublicKey);

/** `sha256:` + hex SHA-256 of the key's SubjectPublicKeyInfo DER. */
export const keyFingerprint = (publicKeyPem: string): Promise<string> =>
  core.keyFingerprint(verifyCrypto, publicKeyPem);

export const verifyProofDocument = (document: unknown, trustedPublicKey?: string) =>
  core.verifyProofDocument(verifyCrypto, document, trustedPublicKey);

export const verifyConsistencyDocument = (held: unknown, answer: unknown, trustedPublicKey?: string) =>
  core.verifyConsistencyDocument(verifyCrypto, held, answer, trustedPublicKey);

export const verifyBundle = (text: string, trustedPublicKey?: string) =>
  core.verifyBundle(verifyCrypto, text, trustedPublicKey);

export const bundleVerifier = (trustedPublicKey?: string): core.BundleVerifier =>
  new core.BundleVerifier(verifyCrypto, trustedPublicKey);

/**
 * A signed digest as outputs show it: with `publicKeyFingerprint` next to the PEM, so a reader compares
 * the short fingerprint with the one `ledger public-key` printed. Not part of what is signed.
 */
export async function withKeyFingerprint<T extends { publicKey: string }>(
  digest: T,
): Promise<T & { publicKeyFingerprint: string }> {
  return { ...digest, publicKeyFingerprint: await keyFingerprint(digest.publicKey) };
}
