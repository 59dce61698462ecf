import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  CheckpointMismatchError,
  DeferredCommits,
  ProjectorHost,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { openProjectedLedger, type ProjectedLedger } from '../support/projected-ledger';

const EVENTS = 3000;
const byId = { orderBy: { field: 'id', direction: 'asc' as const } };

async function everyDocument(store: ReadModelStore): Promise<Map<string, ReadDocument[]>> {
  const collections = new Map<string, ReadDocument[]>();
  for (const { name } of ALL_PROJECTIONS.flatMap((projection) => projection.collections)) {
    const docs: ReadDocument[] = [];
    for await (const doc of store.scan(name, byId)) docs.push(doc);
    collections.set(name, docs);
  }
  return collections;
}

/** Counts the commits made to each staged generation: how many transactions the rebuild wrote. */
function countingStagedCommits(store: SqliteReadModelStore): Map<string, number> {
  const commits = new Map<string, number>();
  const stage = store.stage.bind(store);
  store.stage = async (projection, specs) => {
    const staged: StagedReadModels = await stage(projection, specs);
    const commit = staged.commit.bind(staged);
    staged.commit = (...args) => {
      commits.set(projection, (commits.get(projection) ?? 0) + 1);
      return commit(...args);
    };
    return staged;
  };
  return commits;
}

describe('ProjectorHost.rebuildAll', () => {
  let ledger: ProjectedLedger;
  let eventStore: SqliteEventStore;
  let store: SqliteReadModelStore;
  let head: bigint;

  beforeEach(async () => {
    ledger = await openProjectedLedger({ prefix: 'ledger-rebuild-all-', seed: 11, events: EVENTS });
    ({ eventStore, store, head } = ledger);
  });

  afterEach(() => ledger.close());

  it('commits each batch of 1,000 events when told to write from one held document on', async () => {
    const commits = countingStagedCommits(store);
    const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS);
    const report = await host.rebuildAll(undefined, { flushAtDocuments: 1 });
    expect(report.applied).toBe(Number(head));
    for (const projection of ALL_PROJECTIONS) {
      expect(commits.get(projection.name)).toBe(Math.ceil(Number(head) / 1000));
      expect(await store.checkpoint(projection.name)).toBe(head);
    }
  });

  it("holds as many of a projection's documents as its rebuildHoldDocuments says", async () => {
    const batches = Math.ceil(Number(head) / 1000);
    const eager = { ...ALL_PROJECTIONS.find((p) => p.name === 'issue-summary')!, rebuildHoldDocuments: 1 };
    const host = new ProjectorHost(
      eventStore,
      store,
      ALL_PROJECTIONS.map((projection) => (projection.name === eager.name ? eager : projection)),
    );
    const commits = countingStagedCommits(store);
    await host.rebuildAll();
    // Written after every batch, while the others, holding 2,000 or more, wrote less often.
    expect(commits.get(eager.name)).toBe(batches);
    expect(commits.get('charge-summary')).toBeLessThan(batches);
    expect(commits.get('customer-summary')).toBe(1);

    const single = countingStagedCommits(store);
    await host.rebuild(eager.name);
    expect(single.get(eager.name)).toBe(batches);
  });

  it('builds the same documents when batches are held in memory and written together', async () => {
    const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS);
    await host.rebuildAll(undefined, { flushAtDocuments: 1 });
    const writtenEachBatch = await everyDocument(store);

    for (const options of [
      // The default: held until 2,000 documents of a projection are, here mostly until the end.
      {},
      // Held from 300 documents on while "the other thread writes", until twice as many are held.
      { flushAtDocuments: 300, mayFlush: () => false },
    ]) {
      const commits = countingStagedCommits(store);
      await host.rebuildAll(undefined, options);
      const held = await everyDocument(store);
      expect([...held.keys()]).toEqual([...writtenEachBatch.keys()]);
      for (const [collection, docs] of writtenEachBatch) {
        expect(docs.length).toBeGreaterThan(0);
        expect(held.get(collection)).toEqual(docs);
      }
      // Fewer commits than batches: held batches were written together (the timeline's 1,000 entries a
      // batch pass 300 at once, so with flushAtDocuments 300 it still commits every batch).
      const total = [...commits.values()].reduce((sum, count) => sum + count, 0);
      expect(total).toBeLessThan(ALL_PROJECTIONS.length * Math.ceil(Number(head) / 1000));
      for (const projection of ALL_PROJECTIONS) {
        expect(await store.checkpoint(projection.name)).toBe(head);
      }
    }
  });
});

describe('DeferredCommits', () => {
  let dir: string;
  let db: Database;
  let store: SqliteReadModelStore;
  let staged: StagedReadModels;
  const spec = { name: 'things', indexes: ['kind'] };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-deferred-'));
    db = openSqlite(join(dir, 'ledger.db'));
    store = new SqliteReadModelStore(db);
    await store.ensureCollections([spec]);
    staged = await store.stage('things', [spec]);
  });

  afterEach(async () => {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves held documents and deletions to reads, and writes nothing until flushed', async () => {
    await staged.commit('things', -1n, 1n, [
      { collection: 'things', id: 'a', doc: { id: 'a', kind: 'x', n: 1 } },
      { collection: 'things', id: 'b', doc: { id: 'b', kind: 'x', n: 1 } },
    ]);
    const deferred = new DeferredCommits(staged);
    expect(await deferred.checkpoint('things')).toBe(1n);
    await deferred.commit('things', 1n, 5n, [
      { collection: 'things', id: 'a', doc: { id: 'a', kind: 'y', n: 2 } },
      { collection: 'things', id: 'b', doc: null },
      { collection: 'things', id: 'c', doc: { id: 'c', kind: 'y', n: 1 } },
    ]);
    await deferred.commit('things', 5n, 9n, [
      { collection: 'things', id: 'c', doc: { id: 'c', kind: 'z', n: 2 } },
    ]);
    expect(deferred.size).toBe(3);
    expect(await deferred.checkpoint('things')).toBe(9n);
    const read = await deferred.getMany('things', ['a', 'b', 'c', 'd']);
    expect(Object.fromEntries(read)).toEqual({
      a: { id: 'a', kind: 'y', n: 2 },
      c: { id: 'c', kind: 'z', n: 2 },
    });
    // Nothing written yet.
    expect(await staged.checkpoint('things')).toBe(1n);
    expect(await staged.get('things', 'b')).toEqual({ id: 'b', kind: 'x', n: 1 });

    await deferred.flush();
    expect(deferred.size).toBe(0);
    expect(await staged.checkpoint('things')).toBe(9n);
    expect(await staged.get('things', 'a')).toEqual({ id: 'a', kind: 'y', n: 2 });
    expect(await staged.get('things', 'b')).toBeNull();
    expect(await staged.get('things', 'c')).toEqual({ id: 'c', kind: 'z', n: 2 });

    // The indexed key columns follow the last version: after promote, lists by kind see it.
    await staged.promote();
    const zs = await store.list('things', { where: { kind: 'z' }, orderBy: byId.orderBy, limit: 10 });
    expect(zs.items.map((doc) => doc.id)).toEqual(['c']);
    const xs = await store.list('things', { where: { kind: 'x' }, orderBy: byId.orderBy, limit: 10 });
    expect(xs.items).toEqual([]);
  });

  it('holds write-once documents in order and writes them with the rest', async () => {
    const entries = { name: 'entries', indexes: ['stream'], writeOnce: true };
    await store.ensureCollections([entries]);
    const both = await store.stage('things', [spec, entries]);
    const deferred = new DeferredCommits(both, { writeOnce: new Set(['entries']) });
    await deferred.commit('things', -1n, 2n, [
      { collection: 'entries', id: '01', doc: { id: '01', stream: 's' } },
      { collection: 'things', id: 'a', doc: { id: 'a', kind: 'x' } },
    ]);
    await deferred.commit('things', 2n, 3n, [
      { collection: 'entries', id: '02', doc: { id: '02', stream: 's' } },
      { collection: 'things', id: 'a', doc: { id: 'a', kind: 'y' } },
    ]);
    expect(deferred.size).toBe(3);
    expect(await both.get('entries', '01')).toBeNull();
    await deferred.flush();
    expect(deferred.size).toBe(0);
    expect(await both.checkpoint('things')).toBe(3n);
    const written = await both.list('entries', { where: { stream: 's' }, orderBy: byId.orderBy, limit: 10 });
    expect(written.items).toEqual([
      { id: '01', stream: 's' },
      { id: '02', stream: 's' },
    ]);
    expect(await both.get('things', 'a')).toEqual({ id: 'a', kind: 'y' });
  });

  it('refuses a commit that does not start at the held checkpoint', async () => {
    const deferred = new DeferredCommits(staged);
    await deferred.commit('things', -1n, 3n, []);
    await expect(deferred.commit('things', 2n, 4n, [])).rejects.toBeInstanceOf(CheckpointMismatchError);
  });

  it('flushes nothing when nothing was committed', async () => {
    const deferred = new DeferredCommits(staged);
    await deferred.flush();
    expect(await staged.checkpoint('things')).toBe(-1n);
  });
});
