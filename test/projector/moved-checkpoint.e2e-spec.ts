import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectionRunner, type ReadDocument, type ReadModelStore } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';
import { openProjectedLedger, type ProjectedLedger } from '../support/projected-ledger';

// These tests move a projection's checkpoint and documents behind a runner's back, as a second runner
// (compare mode, another process, a promoted rebuild) does, and check that the runner then applies events
// over the documents as stored, never over what it saw before: a runner that kept documents between
// batches got this wrong until it forgot them whenever its checkpoint could have moved.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function allDocuments(store: ReadModelStore, collections: string[]): Promise<ReadDocument[]> {
  const docs: ReadDocument[] = [];
  for (const collection of collections) {
    for await (const doc of store.scan(collection, { orderBy: { field: 'id', direction: 'asc' } })) {
      docs.push({ collection, ...doc });
    }
  }
  return docs;
}

describe('projection runner whose checkpoint moved under it', () => {
  let ledger: ProjectedLedger;
  let dir: string;
  let eventStore: SqliteEventStore;
  let store: SqliteReadModelStore;
  let head: bigint;

  beforeEach(async () => {
    ledger = await openProjectedLedger({ prefix: 'ledger-cache-', seed: 11, events: 1500 });
    ({ dir, eventStore, store, head } = ledger);
  });

  afterEach(() => ledger.close());

  /** The documents every projection has after a rebuild from zero into a fresh file. */
  async function fromZero(): Promise<ReadDocument[]> {
    const fresh = openSqlite(join(dir, 'fresh.db'));
    try {
      const freshStore = new SqliteReadModelStore(fresh);
      await freshStore.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
      const docs: ReadDocument[] = [];
      for (const projection of ALL_PROJECTIONS) {
        await new ProjectionRunner(projection, eventStore, freshStore, { batchSize: 100 }).catchUp();
        docs.push(
          ...(await allDocuments(
            freshStore,
            projection.collections.map((spec) => spec.name),
          )),
        );
      }
      return docs;
    } finally {
      fresh.close();
    }
  }

  it('resumes over the stored documents when another runner moved the projection on (catch-up)', async () => {
    const first = head / 3n;
    const second = (head * 2n) / 3n;
    const docs: ReadDocument[] = [];
    for (const projection of ALL_PROJECTIONS) {
      const runner = new ProjectionRunner(projection, eventStore, store, { batchSize: 100 });
      await runner.catchUp(undefined, first);
      await new ProjectionRunner(projection, eventStore, store, { batchSize: 100 }).catchUp(
        undefined,
        second,
      );
      await runner.catchUp();
      expect(await store.checkpoint(projection.name)).toBe(head);
      docs.push(
        ...(await allDocuments(
          store,
          projection.collections.map((spec) => spec.name),
        )),
      );
    }
    expect(docs).toEqual(await fromZero());
  });

  it('resumes over the stored documents when a rebuild promoted under it moves the checkpoint back', async () => {
    const middle = head / 2n;
    const runners = ALL_PROJECTIONS.map(
      (projection) => new ProjectionRunner(projection, eventStore, store, { batchSize: 100 }),
    );
    for (const runner of runners) runner.start();
    const reached = async (position: bigint) => {
      while (runners.some((runner) => runner.status.position !== position.toString())) await sleep(5);
    };
    await reached(head);
    // A rebuild that stopped at the middle and was promoted: the live documents are those of the middle.
    for (const projection of ALL_PROJECTIONS) {
      const staged = await store.stage(projection.name, projection.collections);
      await new ProjectionRunner(projection, eventStore, staged, { batchSize: 100 }).catchUp(
        undefined,
        middle,
      );
      await staged.promote();
    }
    // The next event finds each runner's checkpoint moved; each resumes from the middle.
    await appendLedgerHistory(eventStore, 12, 200);
    head = await eventStore.headPosition();
    await reached(head);
    for (const runner of runners) await runner.stop();
    const docs: ReadDocument[] = [];
    for (const projection of ALL_PROJECTIONS) {
      docs.push(
        ...(await allDocuments(
          store,
          projection.collections.map((spec) => spec.name),
        )),
      );
    }
    expect(docs).toEqual(await fromZero());
  });
});
