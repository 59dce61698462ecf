import { bytesEqual, hexToBytes, isHashHex } from './bytes';
import type { VerifyCrypto } from './crypto';

/**
 * The ledger's Merkle tree (docs/hashing.md §5): RFC 9162 §2.1 shape and proofs over
 * leaf = SHA-256(0x00 ‖ event hash) and node = SHA-256(0x01 ‖ left ‖ right). The byte layouts below are
 * the only definition of a leaf and a node; the ledger's tree builder hashes the same inputs.
 */

export const HASH_BYTES = 32;

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The bytes a leaf hash is the SHA-256 of: 0x00 then the 32 bytes of the event hash. */
export function leafInput(eventHashHex: string): Uint8Array {
  if (!isHashHex(eventHashHex)) {
    throw new TypeError(`leafHash: expected 64 lowercase hex characters, got "${eventHashHex}"`);
  }
  const input = new Uint8Array(1 + HASH_BYTES);
  input[0] = 0x00;
  input.set(hexToBytes(eventHashHex), 1);
  return input;
}

/** The bytes a node hash is the SHA-256 of: 0x01, left, right. */
export function nodeInput(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return input;
}

export const leafHash = (crypto: VerifyCrypto, eventHashHex: string): Promise<Uint8Array> =>
  crypto.sha256(leafInput(eventHashHex));

export const nodeHash = (crypto: VerifyCrypto, left: Uint8Array, right: Uint8Array): Promise<Uint8Array> =>
  crypto.sha256(nodeInput(left, right));

const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isHash = (b: Uint8Array): boolean => b instanceof Uint8Array && b.length === HASH_BYTES;

export function isPowerOfTwo(n: number): boolean {
  // Not `n & (n - 1)`: tree sizes may pass 2^31, where bitwise operators wrap.
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** RFC 9162 §2.1.3.2, step by step: does `proof` lead from `leaf` at `index` to `root` of `treeSize`? */
export async function verifyInclusion(
  crypto: VerifyCrypto,
  index: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(crypto, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(crypto, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * RFC 9162 §2.1.4.2 for 0 < size1 < size2. The RFC leaves the trivial cases open; here size1 === size2
 * holds with an empty proof and equal roots, and size1 === 0 with an empty proof and root1 the empty root.
 */
export async function verifyConsistency(
  crypto: VerifyCrypto,
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<boolean> {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) return false;
  if (!isHash(root1) || !isHash(root2) || !proof.every(isHash)) return false;
  if (size1 === 0) return proof.length === 0 && bytesEqual(root1, hexToBytes(EMPTY_ROOT_HEX));
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(crypto, c, fr);
      sr = await nodeHash(crypto, c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = await nodeHash(crypto, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}
