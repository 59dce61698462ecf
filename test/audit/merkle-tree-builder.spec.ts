import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteDigestStore, SqliteEventStore } from '@app/event-store';
import {
  DigestPublisher,
  leafHash,
  LedgerProofs,
  MerkleTreeBuilder,
  resolveSigningKey,
  rootOf,
  storedRoot,
  TreeIntegrityError,
  checkDigestSignature,
  verifyInclusion,
  type Clock,
} from '@app/ledger';
import { appendLedgerHistory } from '../../bench/support/ledger-history';

const clock: Clock = { now: () => new Date('2026-03-01T10:00:00.000Z') };

describe('MerkleTreeBuilder over the SQLite event store', () => {
  let dir: string;
  let file: string;
  let events: SqliteEventStore;
  let tree: SqliteDigestStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'merkle-builder-'));
    file = join(dir, 'ledger.db');
    events = SqliteEventStore.open(file);
    tree = new SqliteDigestStore(openSqlite(file), { owned: true });
  });
  afterEach(async () => {
    await tree.close();
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const expectedRoot = async (size: number) =>
    rootOf((await events.readAll({ maxCount: size })).map((event) => leafHash(event.metadata.hash)));

  it('follows the store in small batches: one leaf per event in global order, roots equal a rebuild', async () => {
    const progress: number[] = [];
    const builder = new MerkleTreeBuilder(events, tree, {
      batchSize: 37,
      onProgress: (n) => progress.push(n),
    });
    const total = await appendLedgerHistory(events, 11, 300);
    expect(await builder.catchUp()).toBe(total);
    expect(progress[0]).toBe(37);
    expect(progress[progress.length - 1]).toBe(total);
    expect((await storedRoot(tree, total)).equals(await expectedRoot(total))).toBe(true);
    const more = await appendLedgerHistory(events, 12, 50);
    expect(await builder.catchUp()).toBe(total + more);
    expect((await storedRoot(tree, total + more)).equals(await expectedRoot(total + more))).toBe(true);
    const all = await events.readAll({});
    for (const [index, event] of all.entries()) {
      expect(await tree.leafByEventId(event.metadata.eventId)).toMatchObject({
        sequence: index,
        position: event.position,
      });
    }
  });

  it('shares one run between concurrent catch-ups, and two builders on one file never duplicate a leaf', async () => {
    const total = await appendLedgerHistory(events, 13, 400);
    const other = new SqliteDigestStore(openSqlite(file), { owned: true });
    try {
      const a = new MerkleTreeBuilder(events, tree, { batchSize: 25 });
      const b = new MerkleTreeBuilder(events, other, { batchSize: 40 });
      const sizes = await Promise.all([a.catchUp(), a.catchUp(), b.catchUp()]);
      expect(sizes.every((size) => size === total)).toBe(true);
      expect(await tree.head()).toMatchObject({ treeSize: total });
      expect((await storedRoot(other, total)).equals(await expectedRoot(total))).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('stops before an event whose stored bytes no longer hash to its stored hash', async () => {
    await appendLedgerHistory(events, 14, 60);
    const db = openSqlite(file);
    db.prepare(
      'UPDATE events SET canonical = replace(canonical, \'"revision":0\', \'"revision":0 \') WHERE position = 30',
    ).run();
    db.close();
    const builder = new MerkleTreeBuilder(events, tree, { batchSize: 10 });
    const failure = await builder.catchUp().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TreeIntegrityError);
    expect((failure as TreeIntegrityError).event.position).toBe(30n);
    expect((await tree.head()).treeSize).toBe(20);
  });

  it('publishes one signed digest per tree size and proves inclusion of every event', async () => {
    const builder = new MerkleTreeBuilder(events, tree);
    const { key, source } = await resolveSigningKey(undefined, tree, clock);
    expect(source).toBe('generated');
    expect((await resolveSigningKey(undefined, tree, clock)).source).toBe('database');
    const publisher = new DigestPublisher(builder, tree, key, clock);
    const empty = await publisher.publish();
    expect(empty).toMatchObject({ treeSize: 0, rootHash: rootOf([]).toString('hex') });
    const total = await appendLedgerHistory(events, 15, 120);
    const digest = await publisher.publish();
    expect(digest).toMatchObject({ treeSize: total, createdAt: '2026-03-01T10:00:00.000Z' });
    expect(digest.rootHash).toBe((await expectedRoot(total)).toString('hex'));
    expect(await checkDigestSignature(digest)).toEqual({ ok: true });
    expect(await publisher.publish()).toEqual(digest);
    const proofs = new LedgerProofs(tree);
    for (const event of await events.readAll({})) {
      const answer = await proofs.inclusion(event.metadata.eventId);
      const path = answer.proof.map((hash) => Buffer.from(hash, 'hex'));
      expect(
        await verifyInclusion(
          answer.leafIndex,
          total,
          leafHash(event.metadata.hash),
          path,
          Buffer.from(digest.rootHash, 'hex'),
        ),
      ).toBe(true);
    }
  });
});
