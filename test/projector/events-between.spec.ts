import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteEventStore } from '@app/event-store';
import { eventsBetween, type ProjectionStatus } from '@app/ledger';
import { projectionOverview } from '../../libs/ledger/src/http/projection-overview';

const fact = (n: number) => ({
  type: 'NoteAdded',
  schemaVersion: 1,
  data: { n },
  metadata: {
    eventId: randomUUID(),
    occurredAt: '2026-06-01T12:00:00.000Z',
    recordedAt: '2026-06-01T12:00:01.000Z',
    actor: { kind: 'service' as const, id: 'key-1' },
    correlationId: 'c',
    causationId: null,
    schemaVersion: 1,
  },
});

describe('eventsBetween on the embedded store (dense positions from 1)', () => {
  let store: SqliteEventStore;
  beforeEach(async () => {
    store = new SqliteEventStore(new BetterSqlite3(':memory:'), { closeDatabase: true });
    for (let n = 0; n < 3; n++) await store.append(`issue-${n}`, [fact(n)], 'no_stream');
  });
  afterEach(() => store.close());

  it('counts the events after a position up to another, -1 being before the first', async () => {
    const head = await store.headPosition();
    expect(await eventsBetween(store, -1n, head)).toBe(3);
    expect(await eventsBetween(store, 1n, head)).toBe(2);
    expect(await eventsBetween(store, head, head)).toBe(0);
    expect(await eventsBetween(store, -1n, -1n)).toBe(0);
  });

  it('gives a projection that applied nothing a lag of every event, not one more', async () => {
    const status: ProjectionStatus = {
      name: 'fresh',
      version: 1,
      state: 'catching-up',
      position: '-1',
      lastRecordedAt: null,
      failure: null,
    };
    const overview = await projectionOverview(
      {
        statuses: () => [status],
        rebuilds: () => [],
        waitFor: async () => false,
        retry: async () => undefined,
        rebuild: () => Promise.reject(new Error('not asked')),
      },
      store,
    );
    expect(overview.projections.map(({ name, lagEvents }) => [name, lagEvents])).toEqual([['fresh', '3']]);
  });
});
