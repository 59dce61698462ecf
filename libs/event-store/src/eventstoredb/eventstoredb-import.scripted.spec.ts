import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import type { StoredEvent } from '@app/ledger';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { describeEventImportContract } from '../contract/event-import.contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { ScriptedEsdbServer } from './testing/scripted-esdb-server';

// The real client and adapter over real gRPC, against a protocol test double: see scripted-esdb-server.ts.
// Both ways the client appends: Streams.BatchAppend (listed by every server the ledger supports) and
// Streams.Append (used when ServerFeatures does not list it).
describe.each([
  { protocol: 'BatchAppend', batchAppend: true },
  { protocol: 'Append', batchAppend: false },
])('importing through Streams.$protocol', ({ protocol, batchAppend }) => {
  /** Every append the scripted server decided came through the protocol under test. */
  const expectServedThrough = (server: ScriptedEsdbServer) =>
    expect(batchAppend ? server.appendsServed.append : server.appendsServed.batchAppend).toBe(0);

  describeEventImportContract(
    `EventStoreDB adapter against the scripted gRPC server, appending through Streams.${protocol}`,
    async () => {
      const server = await ScriptedEsdbServer.start({ batchAppend });
      const store = EventStoreDbEventStore.fromConnectionString(server.connectionString);
      return {
        store,
        cleanup: async () => {
          await store.close();
          await server.stop();
          expectServedThrough(server);
        },
      };
    },
  );

  it('splits a run of one stream at the maximum append size and keeps the order of $all', async () => {
    const server = await ScriptedEsdbServer.start({ batchAppend });
    const store = EventStoreDbEventStore.fromConnectionString(server.connectionString, {
      maxAppendSizeBytes: 4096,
    });
    try {
      const events = await ledgerEvents(12, (n) => (n % 5 === 0 ? 'charge-1' : 'issue-1'), 'x'.repeat(1000));
      const result = await store.importEvents(events);
      const imported = await store.readAll();
      expect(imported.map((event) => event.canonical)).toEqual(events.map((event) => event.canonical));
      expect(result).toEqual({ imported: 12, lastPosition: imported[11].position });
      expect(server.log.map((record) => record.stream)).toEqual(events.map((event) => event.stream));
      expectServedThrough(server);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it.each([
    { answer: 'the original position', idempotentWithoutPosition: false },
    { answer: 'no position', idempotentWithoutPosition: true },
  ])(
    'retries a run whose answer was lost with the same ids, stored once, the retry answered with $answer',
    async ({ idempotentWithoutPosition }) => {
      const server = await ScriptedEsdbServer.start({ batchAppend });
      server.idempotentWithoutPosition = idempotentWithoutPosition;
      const store = EventStoreDbEventStore.fromConnectionString(server.connectionString, {
        unansweredRetryDelayMs: 1,
      });
      try {
        const events = await ledgerEvents(4, (n) => (n < 3 ? 'issue-1' : 'charge-1'), 'x');
        server.failNextAppends('after-write', 'before-write');
        const result = await store.importEvents(events);
        expect(server.log.map((record) => record.id)).toEqual(events.map((event) => event.metadata.eventId));
        expect(result).toEqual({ imported: 4, lastPosition: server.log[3].position });
        expectServedThrough(server);
      } finally {
        await store.close();
        await server.stop();
      }
    },
  );
});

/** `count` ledger events as another ledger stored them (SQLite), the n-th in stream `streamOf(n)`. */
async function ledgerEvents(
  count: number,
  streamOf: (n: number) => string,
  text: string,
): Promise<StoredEvent[]> {
  const source = new SqliteEventStore(new BetterSqlite3(':memory:'), { closeDatabase: true });
  try {
    for (let n = 0; n < count; n++) {
      await source.append(
        streamOf(n),
        [
          {
            type: 'NoteAdded',
            schemaVersion: 1,
            data: { n, text },
            metadata: {
              eventId: randomUUID(),
              occurredAt: '2025-06-01T12:00:00.000Z',
              recordedAt: '2025-06-01T12:00:01.000Z',
              actor: { kind: 'service', id: 'key-1' },
              correlationId: 'c',
              causationId: null,
              schemaVersion: 1,
            },
          },
        ],
        'any',
      );
    }
    return await source.readAll();
  } finally {
    await source.close();
  }
}
