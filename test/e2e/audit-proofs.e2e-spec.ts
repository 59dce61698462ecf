import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkDigestSignature,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyProofDocument,
  type SignedDigest,
  type StoredEvent,
} from '@app/ledger';
import { openSqlite } from '@app/event-store';
import { runLedgerCli } from '../support/ledger-cli';
import { get, post } from '../support/http';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { randomWorkload } from '../support/workload';

const SEED = 5150;

async function runWorkload(h: LedgerHarness, count: number, prefix: string): Promise<void> {
  for (const command of randomWorkload(SEED, count, prefix)) {
    const res = await post(h, command.role, command.path, command.body);
    if (res.status >= 500) throw new Error(`${command.path}: ${res.status}`);
  }
}

/** The event as GET /audit/streams/:stream/events serves it. */
async function servedEvent(h: LedgerHarness, event: StoredEvent): Promise<Record<string, unknown>> {
  const res = await get(
    h,
    'auditor',
    `/audit/streams/${event.stream}/events?fromRevision=${event.revision}&limit=1`,
  );
  expect(res.status).toBe(200);
  return res.body.items[0];
}

async function publish(h: LedgerHarness): Promise<SignedDigest> {
  const res = await post(h, 'auditor', '/audit/digests');
  expect(res.status).toBe(201);
  return res.body;
}

const domainEvents = (events: StoredEvent[]) => events.filter((e) => !e.stream.startsWith('accesslog-'));

describe('Merkle digests and proofs over HTTP', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await startLedger();
    await runWorkload(h, 60, 'mp-');
  });
  afterAll(() => h.close(true));

  it('publishes a signed digest whose root is the tree over the events in global order', async () => {
    const digest = await publish(h);
    const events = await h.allEvents();
    expect(digest.treeSize).toBeGreaterThanOrEqual(domainEvents(events).length);
    const leaves = events.slice(0, digest.treeSize).map((event) => leafHash(event.metadata.hash));
    expect(digest.rootHash).toBe(rootOf(leaves).toString('hex'));
    expect(digest.algorithm).toBe('Ed25519');
    expect(await checkDigestSignature(digest)).toEqual({ ok: true });
    const served = await get(h, 'agent', '/audit/digest');
    expect(served.status).toBe(200);
    expect(served.body.treeSize).toBeGreaterThanOrEqual(digest.treeSize);
    expect(served.body.publicKey).toBe(digest.publicKey);
  });

  it('serves inclusion proofs that verify offline, for every domain event', async () => {
    const digest = await publish(h);
    const events = domainEvents((await h.allEvents()).slice(0, digest.treeSize));
    expect(events.length).toBeGreaterThan(40);
    for (const event of events) {
      const res = await get(
        h,
        'analyst',
        `/audit/events/${event.metadata.eventId}/proof?treeSize=${digest.treeSize}`,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ eventId: event.metadata.eventId, treeSize: digest.treeSize, digest });
      const report = await verifyProofDocument(
        { ...res.body, event: await servedEvent(h, event) },
        digest.publicKey,
      );
      expect(report).toMatchObject({ ok: true, events: 1, keySource: 'trusted' });
    }
  });

  it('answers proofs against older digests, consistency between two digests, and 4xx for the rest', async () => {
    const first = await publish(h);
    await runWorkload(h, 10, 'mp2-');
    const second = await publish(h);
    expect(second.treeSize).toBeGreaterThan(first.treeSize);
    const events = await h.allEvents();
    const early = events[3];
    const late = events[second.treeSize - 1];

    const old = await get(
      h,
      'agent',
      `/audit/events/${early.metadata.eventId}/proof?treeSize=${first.treeSize}`,
    );
    expect(old.status).toBe(200);
    expect((await verifyProofDocument({ ...old.body, event: await servedEvent(h, early) })).ok).toBe(true);

    const consistency = await get(
      h,
      'analyst',
      `/audit/consistency?from=${first.treeSize}&to=${second.treeSize}`,
    );
    expect(consistency.status).toBe(200);
    expect(consistency.body.from).toEqual(first);
    expect(consistency.body.to).toEqual(second);
    const proof = (consistency.body.proof as string[]).map((hash) => Buffer.from(hash, 'hex'));
    const root = (d: SignedDigest) => Buffer.from(d.rootHash, 'hex');
    expect(await verifyConsistency(first.treeSize, second.treeSize, root(first), root(second), proof)).toBe(
      true,
    );
    expect(await verifyConsistency(first.treeSize, second.treeSize, root(second), root(second), proof)).toBe(
      false,
    );
    const heldFile = join(h.dataDir, 'held.json');
    const answerFile = join(h.dataDir, 'answer.json');
    writeFileSync(heldFile, JSON.stringify(first));
    writeFileSync(answerFile, JSON.stringify(consistency.body));
    const offline = await runLedgerCli([
      'verify-consistency',
      '--held',
      heldFile,
      '--consistency',
      answerFile,
    ]);
    expect([offline.code, offline.stdout]).toEqual([0, expect.stringMatching(/^ok: consistency verifies/)]);
    const same = await get(h, 'auditor', `/audit/consistency?from=${second.treeSize}&to=${second.treeSize}`);
    expect(same.body.proof).toEqual([]);

    const notYet = await get(
      h,
      'auditor',
      `/audit/events/${late.metadata.eventId}/proof?treeSize=${first.treeSize}`,
    );
    expect(notYet.status).toBe(409);
    expect(notYet.body).toMatchObject({ type: '/errors/event-not-in-digest', treeSize: first.treeSize });
    const unknown = await get(h, 'auditor', '/audit/events/00000000-0000-7000-8000-000000000000/proof');
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/errors/event-not-found');
    const noDigest = await get(
      h,
      'auditor',
      `/audit/events/${early.metadata.eventId}/proof?treeSize=${first.treeSize + 1}`,
    );
    expect(noDigest.status).toBe(404);
    expect(noDigest.body.type).toBe('/errors/digest-not-found');
    for (const path of [
      `/audit/events/${early.metadata.eventId}/proof?treeSize=-1`,
      `/audit/events/${early.metadata.eventId}/proof?treeSize=1e3`,
      '/audit/events/bad%20id/proof',
      `/audit/consistency?from=${second.treeSize}&to=${first.treeSize}`,
      '/audit/consistency?from=1',
      '/audit/consistency?from=1&to=2&extra=3',
      '/audit/digests?limit=0',
    ]) {
      const res = await get(h, 'auditor', path);
      expect([path, res.status, res.body.type]).toEqual([path, 400, '/errors/validation-failed']);
    }
    const missing = await get(
      h,
      'auditor',
      `/audit/consistency?from=${first.treeSize + 1}&to=${second.treeSize}`,
    );
    expect(missing.status).toBe(404);
    const listed = await get(h, 'analyst', `/audit/digests?fromTreeSize=${first.treeSize}&limit=2`);
    expect(listed.body.items.map((d: SignedDigest) => d.treeSize)).toEqual([first.treeSize, second.treeSize]);
  });

  it('ledger verify-proof accepts a served proof and names what a tampered one breaks', async () => {
    const digest = await publish(h);
    const event = (await h.allEvents())[5];
    const res = await get(
      h,
      'auditor',
      `/audit/events/${event.metadata.eventId}/proof?treeSize=${digest.treeSize}`,
    );
    const document = { ...res.body, event: await servedEvent(h, event) };
    const file = (name: string, content: unknown) => {
      const path = join(h.dataDir, name);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
      return path;
    };
    const keyFile = file('ledger.pub.pem', digest.publicKey);
    const good = await runLedgerCli([
      'verify-proof',
      '--proof',
      file('proof.json', document),
      '--public-key',
      keyFile,
    ]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(
      /^ok: proof verifies: 1 event\(s\) in the digest of tree size \d+ .*trusted key/,
    );

    const flipped = digest.signature.startsWith('A')
      ? `B${digest.signature.slice(1)}`
      : `A${digest.signature.slice(1)}`;
    const cases: Array<[string, unknown, RegExp]> = [
      [
        'signature.json',
        { ...document, digest: { ...document.digest, signature: flipped } },
        /FAILS signature-invalid/,
      ],
      ['size.json', { ...document, treeSize: digest.treeSize + 1 }, /FAILS tree-size-mismatch/],
      [
        'resigned.json',
        { ...document, digest: { ...document.digest, treeSize: digest.treeSize + 1 }, treeSize: undefined },
        /FAILS (inclusion-failed|signature-invalid)/,
      ],
      [
        'data.json',
        { ...document, event: { ...document.event, data: { ...document.event.data, amount: 1 } } },
        /FAILS canonical-mismatch/,
      ],
      [
        'proof-element.json',
        { ...document, proof: [...document.proof].reverse().concat(['00'.repeat(32)]) },
        /FAILS inclusion-failed/,
      ],
      ['not-json.json', '{"leafIndex": ', /FAILS format/],
    ];
    for (const [name, content, message] of cases) {
      const run = await runLedgerCli(['verify-proof', '--proof', file(name, content)]);
      expect([name, run.code, run.stderr]).toEqual([name, 1, expect.stringMatching(message)]);
    }
    const otherKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    // A PEM starts with dashes, so it goes after an equals sign (as docs/cli.md says).
    const untrusted = await runLedgerCli([
      'verify-proof',
      '--proof',
      file('proof.json', document),
      `--public-key=${otherKey}`,
    ]);
    expect(untrusted).toMatchObject({ code: 1, stderr: expect.stringMatching(/FAILS untrusted-key/) });
    expect((await runLedgerCli(['verify-proof'])).code).toBe(2);
    expect((await runLedgerCli(['verify-proof', '--proof', join(h.dataDir, 'absent.json')])).code).toBe(3);
  }, 60_000);

  it('detects a stored digest whose root was altered on the SQLite file', async () => {
    const digest = await publish(h);
    const db = openSqlite(join(h.dataDir, 'ledger.db'));
    db.prepare('UPDATE merkle_digests SET root_hash = ? WHERE tree_size = ?').run(
      'ff'.repeat(32),
      digest.treeSize,
    );
    db.close();
    const served = await get(h, 'agent', `/audit/digests?fromTreeSize=${digest.treeSize}&limit=1`);
    expect(served.body.items[0].rootHash).toBe('ff'.repeat(32));
    expect(await checkDigestSignature(served.body.items[0])).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('answers 503, not 500, for a digest the stored tree no longer reaches', async () => {
    const digest = await publish(h);
    const event = (await h.allEvents())[0];
    const db = openSqlite(join(h.dataDir, 'ledger.db'));
    db.prepare('DELETE FROM merkle_nodes').run();
    db.close();
    const proof = await get(
      h,
      'auditor',
      `/audit/events/${event.metadata.eventId}/proof?treeSize=${digest.treeSize}`,
    );
    expect(proof.status).toBe(503);
    expect(proof.body.type).toBe('/errors/service-unavailable');
    const consistency = await get(h, 'auditor', `/audit/consistency?from=1&to=${digest.treeSize}`);
    expect([404, 503]).toContain(consistency.status);
  });
});
