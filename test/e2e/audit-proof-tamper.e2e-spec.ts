import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import {
  canonicalEventBytes,
  eventHash,
  signDigest,
  storedRoot,
  verifyConsistency,
  verifyProofDocument,
  type EventMetadata,
  type SignedDigest,
  type StoredEvent,
} from '@app/ledger';
import { openSqlite, SqliteDigestStore } from '@app/event-store';
import { runLedgerCli } from '../support/ledger-cli';
import { get, post } from '../support/http';
import { startLedger, tempDataDir, type LedgerHarness } from '../support/ledger-harness';
import { randomWorkload } from '../support/workload';

async function runWorkload(h: LedgerHarness, seed: number, count: number, prefix: string): Promise<void> {
  for (const command of randomWorkload(seed, count, prefix)) {
    const res = await post(h, command.role, command.path, command.body);
    if (res.status >= 500) throw new Error(`${command.path}: ${res.status}`);
  }
}

async function publish(h: LedgerHarness): Promise<SignedDigest> {
  const res = await post(h, 'auditor', '/audit/digests');
  expect(res.status).toBe(201);
  return res.body;
}

async function proofDocument(h: LedgerHarness, event: StoredEvent, treeSize: number) {
  const proof = await get(h, 'auditor', `/audit/events/${event.metadata.eventId}/proof?treeSize=${treeSize}`);
  expect(proof.status).toBe(200);
  const served = await get(
    h,
    'auditor',
    `/audit/streams/${event.stream}/events?fromRevision=${event.revision}&limit=1`,
  );
  return { ...proof.body, event: served.body.items[0] };
}

interface Row {
  position: number;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
}

/**
 * What a careful forger does: edits one event's data and re-hashes it and every later event of its stream,
 * so each chain verifies again. Only the Merkle tree and the digests can tell.
 */
function rewriteConsistently(
  db: Database,
  stream: string,
  revision: number,
  edit: (data: Record<string, unknown>) => void,
) {
  const rows = db
    .prepare<[string, number], Row>(
      'SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision',
    )
    .all(stream, revision);
  const update = db.prepare(
    'UPDATE events SET data = ?, metadata = ?, canonical = ?, hash = ? WHERE position = ?',
  );
  let prevHash: string | undefined;
  for (const row of rows) {
    const data = JSON.parse(row.data) as Record<string, unknown>;
    if (row.revision === revision) edit(data);
    const metadata = JSON.parse(row.metadata) as EventMetadata;
    if (prevHash) metadata.prevHash = prevHash;
    const canonical = canonicalEventBytes({
      stream: row.stream,
      revision: row.revision,
      type: row.type,
      schemaVersion: row.schema_version,
      data,
      metadata,
    });
    metadata.hash = eventHash(canonical);
    update.run(JSON.stringify(data), JSON.stringify(metadata), canonical, metadata.hash, row.position);
    prevHash = metadata.hash;
  }
  db.prepare('UPDATE streams SET last_hash = ? WHERE stream = ?').run(prevHash, stream);
}

const firstChargeEvent = (events: StoredEvent[]) =>
  events.find((event) => event.type === 'ChargeSucceeded' || event.type === 'ChargeRecorded') ??
  events.find((event) => event.stream.startsWith('charge-'))!;

describe('tampering with the SQLite file against the Merkle tree', () => {
  it('an altered event fails its inclusion proof: edited data, and edited data re-hashed', async () => {
    const h = await startLedger();
    try {
      await runWorkload(h, 77, 40, 'ta-');
      const digest = await publish(h);
      const events = await h.allEvents();
      const target = firstChargeEvent(events);
      expect(
        (await verifyProofDocument(await proofDocument(h, target, digest.treeSize), digest.publicKey)).ok,
      ).toBe(true);

      const db = openSqlite(join(h.dataDir, 'ledger.db'));
      const row = db
        .prepare<[number], { data: string }>('SELECT data FROM events WHERE position = ?')
        .get(Number(target.position))!;
      const edited = { ...JSON.parse(row.data), amount: 1 };
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run(
        JSON.stringify(edited),
        Number(target.position),
      );
      const naive = await verifyProofDocument(
        await proofDocument(h, target, digest.treeSize),
        digest.publicKey,
      );
      expect(naive).toMatchObject({
        ok: false,
        failure: { check: 'canonical-mismatch', stream: target.stream, revision: target.revision },
      });

      rewriteConsistently(db, target.stream, target.revision, (data) => (data.amount = 1));
      db.close();
      const forgedDocument = await proofDocument(h, target, digest.treeSize);
      // The tree still holds the original event hash, and the served proof says so.
      expect(await verifyProofDocument(forgedDocument, digest.publicKey)).toMatchObject({
        ok: false,
        failure: { check: 'event-mismatch', stream: target.stream, revision: target.revision },
      });
      // Dropping that field does not help: the forged hash leads to another root.
      const { eventHash: _dropped, ...withoutHash } = forgedDocument;
      expect(await verifyProofDocument(withoutHash, digest.publicKey)).toMatchObject({
        ok: false,
        failure: {
          check: 'inclusion-failed',
          stream: target.stream,
          revision: target.revision,
          eventId: target.metadata.eventId,
        },
      });
    } finally {
      await h.close(true);
    }
  });

  it('a rewritten history with a rebuilt tree fails consistency with a digest published before', async () => {
    const dataDir = tempDataDir();
    let h = await startLedger(dataDir);
    const keys = h.keys;
    let kept: SignedDigest;
    let target: StoredEvent;
    try {
      await runWorkload(h, 78, 40, 'tb-');
      kept = await publish(h); // the auditor's copy
      target = firstChargeEvent(await h.allEvents());
    } finally {
      await h.close();
    }
    // Offline, the forger rewrites one event consistently, then throws the tree away so it is rebuilt
    // over the altered history; the digests table is left as it was.
    const db = openSqlite(join(dataDir, 'ledger.db'));
    rewriteConsistently(db, target.stream, target.revision, (data) => (data.amount = 1));
    db.exec('DELETE FROM merkle_nodes; DELETE FROM merkle_leaves;');
    db.close();

    h = await startLedger(dataDir, keys);
    try {
      await runWorkload(h, 79, 10, 'tc-');
      const later = await publish(h);
      expect(later.treeSize).toBeGreaterThan(kept.treeSize);
      const root = (d: SignedDigest) => Buffer.from(d.rootHash, 'hex');
      const res = await get(h, 'auditor', `/audit/consistency?from=${kept.treeSize}&to=${later.treeSize}`);
      expect(res.status).toBe(200);
      const proof = (res.body.proof as string[]).map((hash) => Buffer.from(hash, 'hex'));
      expect(await verifyConsistency(kept.treeSize, later.treeSize, root(kept), root(later), proof)).toBe(
        false,
      );
      // The digests table still says what was signed before, so the forgery cannot even answer consistently.
      expect(res.body.from).toEqual(kept);
      const heldFile = join(dataDir, 'held-digest.json');
      const answerFile = join(dataDir, 'consistency.json');
      writeFileSync(heldFile, JSON.stringify(kept));
      writeFileSync(answerFile, JSON.stringify(res.body));
      const offline = await runLedgerCli([
        'verify-consistency',
        '--held',
        heldFile,
        '--consistency',
        answerFile,
      ]);
      expect(offline).toMatchObject({ code: 1, stderr: expect.stringContaining('FAILS consistency-failed') });
      // Proofs from the rebuilt tree against the digest signed before do not reach its root either.
      const rebuiltPrefix = await get(
        h,
        'auditor',
        `/audit/events/${target.metadata.eventId}/proof?treeSize=${kept.treeSize}`,
      );
      const served = await get(
        h,
        'auditor',
        `/audit/streams/${target.stream}/events?fromRevision=${target.revision}&limit=1`,
      );
      const report = await verifyProofDocument(
        { ...rebuiltPrefix.body, event: served.body.items[0] },
        kept.publicKey,
      );
      expect(report).toMatchObject({ ok: false, failure: { check: 'inclusion-failed' } });
      // A forger who also re-signs the old digest row over the new tree makes the served answers agree
      // again; only the auditor's own copy of the digest catches it.
      const db2 = openSqlite(join(dataDir, 'ledger.db'));
      const key = createPrivateKey(
        db2.prepare<[], { private_key_pem: string }>('SELECT private_key_pem FROM merkle_signing_key').get()!
          .private_key_pem,
      );
      const rebuiltRoot = (await storedRoot(new SqliteDigestStore(db2), kept.treeSize)).toString('hex');
      const resigned = signDigest(
        { treeSize: kept.treeSize, rootHash: rebuiltRoot, createdAt: kept.createdAt },
        key,
      );
      db2
        .prepare('UPDATE merkle_digests SET root_hash = ?, signature = ? WHERE tree_size = ?')
        .run(resigned.rootHash, resigned.signature, kept.treeSize);
      db2.close();
      const forgedAnswer = await get(
        h,
        'auditor',
        `/audit/consistency?from=${kept.treeSize}&to=${later.treeSize}`,
      );
      const forgedProof = (forgedAnswer.body.proof as string[]).map((hash) => Buffer.from(hash, 'hex'));
      expect(
        await verifyConsistency(
          kept.treeSize,
          later.treeSize,
          Buffer.from(rebuiltRoot, 'hex'),
          root(later),
          forgedProof,
        ),
      ).toBe(true);
      writeFileSync(answerFile, JSON.stringify(forgedAnswer.body));
      const caught = await runLedgerCli([
        'verify-consistency',
        '--held',
        heldFile,
        '--consistency',
        answerFile,
      ]);
      expect(caught).toMatchObject({ code: 1, stderr: expect.stringContaining('FAILS digest-mismatch') });
    } finally {
      await h.close(true);
    }
  });
});
