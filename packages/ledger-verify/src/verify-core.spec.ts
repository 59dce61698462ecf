import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { base64ToBytes, bytesToHex, hexToBytes } from './bytes';
import type { VerifyCrypto } from './crypto';
import { checkDigestSignature, keyFingerprint, type SignedDigest } from './digest';
import { EMPTY_ROOT_HEX, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle';
import { nodeCrypto } from './node-crypto';
import { webCrypto } from './web-crypto';

/** The worked example of docs/hashing.md §9 (also pinned on the signing side by digest-signature.spec.ts). */
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
  digest: {
    treeSize: 3,
    rootHash: 'e50ef131ddcb09254303419ee9dc7e07e934b0209962453973642235151c9b1d',
    createdAt: '2025-06-02T10:00:00.000Z',
    signature: '2Ku8claxB/aj2pw5ir6KIAU76GPivVs2F41Px6lOWNp/s9x560MvcX9eJhmi/ZxPbIKyl6YkxOPoMYqpzafVCA==',
    publicKey:
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAQ7UE4qlA3wPko7B+aqmEJ7ElYZgaeQDAv1OPRHI9/Jo=\n-----END PUBLIC KEY-----\n',
    algorithm: 'Ed25519',
  } satisfies SignedDigest,
};

const cryptos: [string, VerifyCrypto][] = [
  ['node:crypto', nodeCrypto()],
  ['Web Crypto', webCrypto(globalThis.crypto.subtle)],
];

describe.each(cryptos)('the verification core on %s', (_name, crypto) => {
  it('computes the leaves and roots of the worked example and checks its proofs', async () => {
    const leaves = await Promise.all(EXAMPLE.eventHashes.map((hash) => leafHash(crypto, hash)));
    expect(leaves.map(bytesToHex)).toEqual(EXAMPLE.leaves);
    expect(bytesToHex(await nodeHash(crypto, leaves[0], leaves[1]))).toBe(EXAMPLE.root2);
    const root3 = hexToBytes(EXAMPLE.root3);
    expect(await verifyInclusion(crypto, 0, 3, leaves[0], [leaves[1], leaves[2]], root3)).toBe(true);
    expect(await verifyInclusion(crypto, 1, 3, leaves[0], [leaves[1], leaves[2]], root3)).toBe(false);
    expect(await verifyConsistency(crypto, 2, 3, hexToBytes(EXAMPLE.root2), root3, [leaves[2]])).toBe(true);
    expect(await verifyConsistency(crypto, 1, 3, leaves[0], root3, [leaves[1], leaves[2]])).toBe(true);
    expect(await verifyConsistency(crypto, 0, 3, hexToBytes(EMPTY_ROOT_HEX), root3, [])).toBe(true);
  });

  it('checks the example digest signature and refuses it changed, under another key or a malformed one', async () => {
    const digest = EXAMPLE.digest;
    expect(await checkDigestSignature(crypto, digest)).toEqual({ ok: true });
    expect(await checkDigestSignature(crypto, digest, digest.publicKey)).toEqual({ ok: true });
    expect(await checkDigestSignature(crypto, { ...digest, treeSize: 4 })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(await checkDigestSignature(crypto, { ...digest, signature: 'not base64!' })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(await checkDigestSignature(crypto, { ...digest, publicKey: 'no key' })).toMatchObject({
      ok: false,
      reason: 'bad-public-key',
    });
    const otherPem = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(await checkDigestSignature(crypto, digest, otherPem)).toMatchObject({
      ok: false,
      reason: 'untrusted-key',
    });
    expect(await checkDigestSignature(crypto, { ...digest, publicKey: otherPem })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('fingerprints a key as sha256: and the hex SHA-256 of its SubjectPublicKeyInfo DER', async () => {
    const der = base64ToBytes('MCowBQYDK2VwAyEAQ7UE4qlA3wPko7B+aqmEJ7ElYZgaeQDAv1OPRHI9/Jo=')!;
    const expected = `sha256:${bytesToHex(await crypto.sha256(der))}`;
    expect(await keyFingerprint(crypto, EXAMPLE.digest.publicKey)).toBe(expected);
    expect(expected).toBe(`sha256:${createHash('sha256').update(der).digest('hex')}`);
  });
});

describe('byte helpers', () => {
  it('hex and base64 agree with Buffer for any bytes, and base64 refuses what is not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        expect(bytesToHex(bytes)).toBe(buffer.toString('hex'));
        expect([...hexToBytes(buffer.toString('hex'))]).toEqual([...bytes]);
        expect([...base64ToBytes(buffer.toString('base64'))!]).toEqual([...bytes]);
      }),
    );
    for (const text of ['abc', 'ab$=', '=abc', 'YQ==YQ==', 'YWJj\n']) expect(base64ToBytes(text)).toBeNull();
  });
});
