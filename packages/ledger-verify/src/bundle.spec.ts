import { generateKeyPairSync, sign } from 'node:crypto';
import { bytesToHex } from './bytes';
import { BUNDLE_KIND, BUNDLE_VERSION, verifyBundle } from './bundle';
import { digestSigningBytes, type SignedDigest } from './digest';
import { canonicalEventBytes, eventHash, ZERO_HASH } from './event';
import { leafHash, nodeHash } from './merkle';
import { nodeCrypto } from './node-crypto';
import { describeReport } from './report';

const crypto = nodeCrypto();
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

function signed(treeSize: number, rootHash: string, createdAt: string): SignedDigest {
  const body = { treeSize, rootHash, createdAt };
  const signature = sign(null, digestSigningBytes(body), privateKey).toString('base64');
  return { ...body, signature, publicKey: publicKeyPem, algorithm: 'Ed25519' };
}

/** Two events of one stream, recorded at 10:00 and 10:01, and the tree of both. */
async function ledgerOfTwo() {
  const events: (Record<string, unknown> & { metadata: { hash: string } })[] = [];
  let prevHash = ZERO_HASH;
  for (const [revision, recordedAt] of ['2026-03-01T10:00:00.000Z', '2026-03-01T10:01:00.000Z'].entries()) {
    const fields = {
      stream: 'issue-is_1',
      revision,
      type: revision === 0 ? 'IssueOpened' : 'NoteAdded',
      schemaVersion: 1,
      data: { n: revision },
      metadata: { eventId: `e${revision}`, recordedAt, occurredAt: recordedAt, prevHash },
    };
    const canonical = canonicalEventBytes(fields);
    const hash = await eventHash(crypto, canonical);
    events.push({ ...fields, metadata: { ...fields.metadata, hash }, canonical });
    prevHash = hash;
  }
  const leaves = await Promise.all(events.map((event) => leafHash(crypto, event.metadata.hash)));
  const root = bytesToHex(await nodeHash(crypto, leaves[0], leaves[1]));
  const line = (kind: string, index: number) =>
    JSON.stringify({ kind, leafIndex: index, proof: [bytesToHex(leaves[1 - index])], event: events[index] });
  return { root, line };
}

const header = (asOf: string, digest: SignedDigest, events: number, next: number) =>
  JSON.stringify({
    kind: BUNDLE_KIND,
    version: BUNDLE_VERSION,
    createdAt: '2026-03-02T00:00:00.000Z',
    selection: { issueId: 'is_1', asOf },
    streams: ['issue-is_1'],
    events,
    digest,
    completeness: { asOf, latest: digest, consistency: [], next },
  });

describe('as-of bundles', () => {
  it('are proved complete at the cut-off only when the cut-off digest was signed at or after it', async () => {
    const { root, line } = await ledgerOfTwo();
    const digest = signed(2, root, '2026-03-01T10:05:00.000Z');
    const early = `${[header('2026-03-01T10:02:00.000Z', digest, 2, 0), line('event', 0), line('event', 1)].join('\n')}\n`;
    const complete = await verifyBundle(crypto, early, publicKeyPem);
    expect(complete).toMatchObject({
      ok: true,
      completeness: { complete: true, provedAsOf: '2026-03-01T10:02:00.000Z', streamsWithNext: 0 },
    });
    // The same tree, asked as of after its digest was signed: nothing signed later vouches for then.
    const late = `${[header('2026-03-01T11:00:00.000Z', digest, 2, 0), line('event', 0), line('event', 1)].join('\n')}\n`;
    const report = await verifyBundle(crypto, late, publicKeyPem);
    expect(report).toMatchObject({
      ok: true,
      completeness: { complete: false, provedAsOf: '2026-03-01T10:05:00.000Z' },
    });
    expect(describeReport(report, 'bundle')).toContain('NOT proved complete as of 2026-03-01T11:00:00.000Z');
  });

  it('take a stream absent from the bundle only with its revision 0 as next, and refuse a next event it should hold', async () => {
    const { root, line } = await ledgerOfTwo();
    const digest = signed(2, root, '2026-03-01T10:05:00.000Z');
    const before = await verifyBundle(
      crypto,
      `${[header('2026-03-01T09:00:00.000Z', digest, 0, 1), line('next', 0)].join('\n')}\n`,
    );
    expect(before).toMatchObject({
      ok: true,
      events: 0,
      completeness: { complete: true, streamsWithNext: 1 },
    });
    expect(describeReport(before, 'bundle')).not.toContain('proves nothing');
    const skipped = await verifyBundle(
      crypto,
      `${[header('2026-03-01T09:00:00.000Z', digest, 0, 1), line('next', 1)].join('\n')}\n`,
    );
    expect(skipped.failure).toMatchObject({ check: 'chain-broken', revision: 1 });
    const short = await verifyBundle(
      crypto,
      `${[header('2026-03-01T10:00:30.000Z', digest, 1, 1), line('event', 0), line('next', 1)].join('\n')}\n`,
    );
    expect(short).toMatchObject({ ok: true, completeness: { complete: true } });
    const cut = await verifyBundle(
      crypto,
      `${[header('2026-03-01T10:02:00.000Z', digest, 1, 1), line('event', 0), line('next', 1)].join('\n')}\n`,
    );
    expect(cut.failure).toMatchObject({ check: 'incomplete', stream: 'issue-is_1', revision: 1 });
  });
});
