import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consistencyProof, inclusionProof, leafHash, nodeHash, rootOf } from '../merkle/merkle-tree';
import { checkDigestSignature, verifyConsistency, verifyInclusion } from './verification';
import {
  digestSigningBytes,
  InvalidSigningKeyError,
  parseSigningKey,
  publicKeyPem,
  signDigest,
} from './digest-signature';

/** The worked example of docs/hashing.md §5–§7: every value below is printed there. */
const EXAMPLE = {
  eventHashes: [
    '6c45fb1973d88cc6ca0c545e205d9db9ddfd9bad6ea1f8b99f126782c8afe3d3',
    '04881b597a09258638a7ba8e9a237d190b2f5549b209bc9e2321619da6c73c2f',
    'b1e99324505bd32da0e1f85dcf5e19a09db0481e8a15f62c41eb320304a8e927',
  ],
  leaves: [
    'd12c1c77d94870be7d165e4233dfef3c5cbbaade92cb8d474044ff43edbecb7a',
    'bc83be0779cbb812458dec2dcf6691f6e5cf9e1a9fa86eac4367bbdbb0799ad6',
    'c4bd675dc822da05a058d46dc6ba7e589bacdc5d305d6890ab30aa63ad13efcf',
  ],
  root2: '6d679f431a06482fc3fc2e978156a6d661eafabd14c3c5120331943042c503dd',
  root3: 'e50ef131ddcb09254303419ee9dc7e07e934b0209962453973642235151c9b1d',
  seedBase64: 'ZgMD64ec6pWBa/7bMi5dm1hDvWQ5JeMCxCxfhHZXTVE=',
  signedBytes:
    '{"createdAt":"2025-06-02T10:00:00.000Z","rootHash":"e50ef131ddcb09254303419ee9dc7e07e934b0209962453973642235151c9b1d","treeSize":3}',
  signature: '2Ku8claxB/aj2pw5ir6KIAU76GPivVs2F41Px6lOWNp/s9x560MvcX9eJhmi/ZxPbIKyl6YkxOPoMYqpzafVCA==',
  publicKey: 'MCowBQYDK2VwAyEAQ7UE4qlA3wPko7B+aqmEJ7ElYZgaeQDAv1OPRHI9/Jo=',
};

const buf = (hex: string) => Buffer.from(hex, 'hex');
const hex = (hashes: Buffer[]) => hashes.map((hash) => hash.toString('hex'));

describe('digest signing and the worked example of docs/hashing.md', () => {
  const leaves = EXAMPLE.eventHashes.map(leafHash);
  const key = parseSigningKey(EXAMPLE.seedBase64);
  const body = { treeSize: 3, rootHash: EXAMPLE.root3, createdAt: '2025-06-02T10:00:00.000Z' };

  it('computes the leaves, roots, proofs and signature the doc prints', async () => {
    expect(EXAMPLE.eventHashes[2]).toBe(createHash('sha256').update('third').digest('hex'));
    expect(hex(leaves)).toEqual(EXAMPLE.leaves);
    expect(nodeHash(leaves[0], leaves[1]).toString('hex')).toBe(EXAMPLE.root2);
    expect(rootOf(leaves.slice(0, 2)).toString('hex')).toBe(EXAMPLE.root2);
    expect(rootOf(leaves).toString('hex')).toBe(EXAMPLE.root3);
    expect(hex(inclusionProof(leaves, 0, 3))).toEqual([EXAMPLE.leaves[1], EXAMPLE.leaves[2]]);
    expect(hex(inclusionProof(leaves, 2, 3))).toEqual([EXAMPLE.root2]);
    expect(hex(consistencyProof(leaves, 2, 3))).toEqual([EXAMPLE.leaves[2]]);
    expect(hex(consistencyProof(leaves, 1, 3))).toEqual([EXAMPLE.leaves[1], EXAMPLE.leaves[2]]);
    expect(await verifyInclusion(0, 3, leaves[0], [leaves[1], leaves[2]], buf(EXAMPLE.root3))).toBe(true);
    expect(await verifyConsistency(2, 3, buf(EXAMPLE.root2), buf(EXAMPLE.root3), [leaves[2]])).toBe(true);
    expect(Buffer.from(digestSigningBytes(body)).toString('utf8')).toBe(EXAMPLE.signedBytes);
    const digest = signDigest(body, key);
    expect(digest.signature).toBe(EXAMPLE.signature);
    expect(digest.publicKey).toBe(
      `-----BEGIN PUBLIC KEY-----\n${EXAMPLE.publicKey}\n-----END PUBLIC KEY-----\n`,
    );
  });

  it('prints exactly these values in docs/hashing.md', async () => {
    const doc = readFileSync(join(__dirname, '../../../../../docs/hashing.md'), 'utf8');
    const values = [
      ...EXAMPLE.eventHashes,
      ...EXAMPLE.leaves,
      EXAMPLE.root2,
      EXAMPLE.root3,
      EXAMPLE.seedBase64,
      EXAMPLE.signedBytes,
      EXAMPLE.signature,
      EXAMPLE.publicKey,
    ];
    expect(values.filter((value) => !doc.includes(value))).toEqual([]);
  });

  it('accepts LEDGER_SIGNING_KEY as PEM, base64 PEM, base64 DER or a base64 seed; refuses other keys', async () => {
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = key.export({ type: 'pkcs8', format: 'der' });
    for (const text of [
      pem,
      Buffer.from(pem).toString('base64'),
      der.toString('base64'),
      EXAMPLE.seedBase64,
    ]) {
      expect(publicKeyPem(parseSigningKey(text))).toBe(publicKeyPem(key));
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => parseSigningKey(rsa.toString())).toThrow(new InvalidSigningKeyError('it is an rsa key'));
    // Naming the variable, not OpenSSL's decoder.
    expect(() => parseSigningKey('bm90IGEga2V5')).toThrow(
      /^LEDGER_SIGNING_KEY is not a usable Ed25519 private key \(it does not decode as a private key\): set it to/,
    );
    expect(() => parseSigningKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----')).toThrow(
      InvalidSigningKeyError,
    );
  });

  it('rejects any change of the signed fields, the signature, the key or the algorithm', async () => {
    const digest = signDigest(body, key);
    expect(await checkDigestSignature(digest)).toEqual({ ok: true });
    expect(await checkDigestSignature(digest, digest.publicKey)).toEqual({ ok: true });
    const other = generateKeyPairSync('ed25519');
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signature = Buffer.from(digest.signature, 'base64');
    signature[10] ^= 1;
    const cases = [
      [{ ...digest, treeSize: 4 }, 'bad-signature'],
      [{ ...digest, rootHash: EXAMPLE.root2 }, 'bad-signature'],
      [{ ...digest, createdAt: '2025-06-02T10:00:00.001Z' }, 'bad-signature'],
      [{ ...digest, signature: signature.toString('base64') }, 'bad-signature'],
      [{ ...digest, signature: 'AAAA' }, 'bad-signature'],
      [{ ...digest, publicKey: otherPem }, 'bad-signature'],
      [{ ...digest, publicKey: 'not a key' }, 'bad-public-key'],
      [{ ...digest, algorithm: 'RS256' }, 'unsupported-algorithm'],
    ] as const;
    for (const [changed, reason] of cases) {
      expect(await checkDigestSignature(changed as typeof digest)).toMatchObject({ ok: false, reason });
    }
    // Re-signed with another key: valid on its own, refused against the key the verifier trusts.
    const forged = signDigest(body, other.privateKey);
    expect(await checkDigestSignature(forged)).toEqual({ ok: true });
    expect(await checkDigestSignature(forged, digest.publicKey)).toMatchObject({
      ok: false,
      reason: 'untrusted-key',
    });
  });
});
