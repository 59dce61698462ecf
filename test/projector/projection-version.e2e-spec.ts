import { randomUUID } from 'node:crypto';
import {
  PROJECTION_VERSIONS,
  ProjectorHost,
  type DocumentChange,
  type Projection,
  type ReadDocument,
} from '@app/ledger';
import { openProjectedLedger, type ProjectedLedger } from '../support/projected-ledger';

// A projection whose `version` changed since its documents were built must not apply new events over
// documents of the old shape: the projector rebuilds it first (staged, while the old documents serve),
// records the version, and only then follows the ledger.

const COUNTS = 'test_opened_counts';
const TOTAL = 'total';

/** Counts opened issues; version 2 also counts them per category (a new field, absent from version 1). */
function openedCounter(version: 1 | 2, failRebuild = false): Projection {
  return {
    name: 'opened-counter',
    version,
    collections: [{ name: COUNTS, indexes: [] }],
    streamPrefixes: ['issue-'],
    keysFor: (event) => (event.type === 'IssueOpened' ? [{ collection: COUNTS, id: TOTAL }] : []),
    apply(event, current): DocumentChange[] {
      if (event.type !== 'IssueOpened') return [];
      if (failRebuild) throw new Error('this version cannot apply IssueOpened');
      const doc = (current.get(COUNTS, TOTAL) as ReadDocument | null) ?? { id: TOTAL, count: 0 };
      if (Number(doc.lastPosition ?? -1) >= Number(event.position)) return [];
      const next: ReadDocument = {
        ...doc,
        count: Number(doc.count) + 1,
        lastPosition: Number(event.position),
      };
      if (version === 2) {
        const byCategory = (doc.byCategory ?? {}) as Record<string, number>;
        // Version 1 documents have no byCategory: applying version 2 over them would miscount.
        const category = String(event.data.category);
        next.byCategory = { ...byCategory, [category]: (byCategory[category] ?? 0) + 1 };
      }
      return [{ collection: COUNTS, id: TOTAL, doc: next }];
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('projection versions', () => {
  let ledger: ProjectedLedger;

  beforeEach(async () => {
    ledger = await openProjectedLedger({ prefix: 'ledger-version-', seed: 5, events: 1200 });
  });
  afterEach(() => ledger.close());

  async function openedIssues(): Promise<{ count: number; byCategory: Record<string, number> }> {
    const byCategory: Record<string, number> = {};
    let count = 0;
    for (const event of await ledger.eventStore.readAll({})) {
      if (event.type !== 'IssueOpened') continue;
      count++;
      const category = String(event.data.category);
      byCategory[category] = (byCategory[category] ?? 0) + 1;
    }
    return { count, byCategory };
  }

  it('records the version of a fresh projection; a later start with the same version rebuilds nothing', async () => {
    const first = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(2)]);
    await first.catchUpAll();
    expect(await ledger.store.get(PROJECTION_VERSIONS, 'opened-counter')).toMatchObject({ version: 2 });
    const second = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(2)]);
    await second.start();
    await second.upgraded();
    expect(second.rebuildProgress()).toEqual([]);
    expect(second.statuses()[0].state).not.toBe('starting');
    await second.stop();
  });

  it('rebuilds documents of an older version before following the ledger, then follows it', async () => {
    await new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(1)]).catchUpAll();
    const before = await ledger.store.get(COUNTS, TOTAL);
    expect(before).not.toHaveProperty('byCategory');

    const host = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(2)]);
    await host.start();
    await host.upgraded();
    expect(host.rebuildProgress()).toMatchObject([{ projection: 'opened-counter', phase: 'done' }]);
    expect(await ledger.store.get(PROJECTION_VERSIONS, 'opened-counter')).toMatchObject({ version: 2 });
    const expected = await openedIssues();
    expect(await ledger.store.get(COUNTS, TOTAL)).toMatchObject(expected);

    // Live from the promoted checkpoint on: a new issue is counted once, in its category.
    const issueId = `late-${randomUUID()}`;
    const at = new Date().toISOString();
    await ledger.eventStore.append(
      `issue-${issueId}`,
      [
        {
          type: 'IssueOpened',
          schemaVersion: 1,
          data: { issueId, customerId: 'cu-late', category: 'other', channel: 'web_form', chargeIds: [] },
          metadata: {
            eventId: randomUUID(),
            occurredAt: at,
            recordedAt: at,
            actor: { kind: 'service', id: 'version-test' },
            correlationId: randomUUID(),
            causationId: null,
            schemaVersion: 1,
          },
        },
      ],
      'no_stream',
    );
    const head = await ledger.eventStore.headPosition();
    for (let waited = 0; (await ledger.store.checkpoint('opened-counter')) < head; waited += 20) {
      if (waited > 10_000) throw new Error(`not live: ${JSON.stringify(host.statuses())}`);
      await sleep(20);
    }
    expect(await ledger.store.get(COUNTS, TOTAL)).toMatchObject({
      count: expected.count + 1,
      byCategory: { ...expected.byCategory, other: (expected.byCategory.other ?? 0) + 1 },
    });
    await host.stop();
  });

  it('takes documents from before versions were recorded for version 1', async () => {
    await new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(1)]).catchUpAll();
    // As a data directory written before this release: documents and checkpoint, no version.
    await ledger.store.commit('opened-counter', ledger.head, ledger.head, [
      { collection: PROJECTION_VERSIONS, id: 'opened-counter', doc: null },
    ]);
    expect(await ledger.store.get(PROJECTION_VERSIONS, 'opened-counter')).toBeNull();

    const unchanged = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(1)]);
    await unchanged.start();
    await unchanged.upgraded();
    expect(unchanged.rebuildProgress()).toEqual([]);
    await unchanged.stop();

    const upgraded = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(2)]);
    await upgraded.catchUpAll();
    expect(await ledger.store.get(COUNTS, TOTAL)).toMatchObject(await openedIssues());
    expect(await ledger.store.get(PROJECTION_VERSIONS, 'opened-counter')).toMatchObject({ version: 2 });
  });

  it('a failed upgrade leaves the old documents serving, the projection not following, and can be run again', async () => {
    await new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(1)]).catchUpAll();
    const old = await ledger.store.get(COUNTS, TOTAL);

    const failing = new ProjectorHost(ledger.eventStore, ledger.store, [openedCounter(2, true)]);
    await failing.start();
    await failing.upgraded();
    expect(failing.rebuildProgress()).toMatchObject([
      {
        projection: 'opened-counter',
        phase: 'failed',
        failure: expect.stringContaining('cannot apply IssueOpened'),
      },
    ]);
    expect(failing.statuses()[0].state).toBe('starting');
    expect(await ledger.store.get(COUNTS, TOTAL)).toEqual(old);
    expect(await ledger.store.get(PROJECTION_VERSIONS, 'opened-counter')).toMatchObject({ version: 1 });
    // A failed rebuild does not block the next one (it was refused as "already running").
    await expect(failing.rebuild('opened-counter')).rejects.toThrow('cannot apply IssueOpened');
    await failing.stop();
  });
});
