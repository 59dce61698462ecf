import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { describeEventImportContract } from '../contract/event-import.contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { ScriptedEsdbServer } from './testing/scripted-esdb-server';

// The real client and adapter over real gRPC, against a protocol test double: see scripted-esdb-server.ts.
describeEventImportContract('EventStoreDB adapter against the scripted gRPC server', async () => {
  const server = await ScriptedEsdbServer.start();
  const store = EventStoreDbEventStore.fromConnectionString(server.connectionString);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await server.stop();
    },
  };
});

describe('EventStoreDbEventStore.importEvents over gRPC (scripted server)', () => {
  it('splits a run of one stream at the maximum append size and keeps the order of $all', async () => {
    const server = await ScriptedEsdbServer.start();
    const store = EventStoreDbEventStore.fromConnectionString(server.connectionString, {
      maxAppendSizeBytes: 4096,
    });
    const source = new SqliteEventStore(new BetterSqlite3(':memory:'), { closeDatabase: true });
    try {
      for (let n = 0; n < 12; n++) {
        await source.append(
          n % 5 === 0 ? 'charge-1' : 'issue-1',
          [
            {
              type: 'NoteAdded',
              schemaVersion: 1,
              data: { n, text: 'x'.repeat(1000) },
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
      const events = await source.readAll();
      const result = await store.importEvents(events);
      const imported = await store.readAll();
      expect(imported.map((event) => event.canonical)).toEqual(events.map((event) => event.canonical));
      expect(result).toEqual({ imported: 12, lastPosition: imported[11].position });
      expect(server.log.map((record) => record.stream)).toEqual(events.map((event) => event.stream));
    } finally {
      await source.close();
      await store.close();
      await server.stop();
    }
  });
});
