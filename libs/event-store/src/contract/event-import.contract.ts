import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import {
  ImportRejectedError,
  verifyStreamChain,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '@app/ledger';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';

export interface EventImportContractSubject {
  /** The store events are imported into. */
  store: EventStore;
  cleanup(): Promise<void>;
}

export type EventImportContractFactory = () => Promise<EventImportContractSubject>;

function newEvent(type: string, data: Record<string, unknown>): NewEvent {
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'agent', id: 'key-import', agentId: 'agent-1' },
      correlationId: 'corr-import',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

/** What must be equal on both sides of a migration: everything but the engine's positions. */
const identity = (event: StoredEvent) => ({
  stream: event.stream,
  revision: event.revision,
  type: event.type,
  eventId: event.metadata.eventId,
  hash: event.metadata.hash,
  prevHash: event.metadata.prevHash,
  canonical: event.canonical,
  data: event.data,
  metadata: event.metadata,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected a rejection');
}

/**
 * The `importEvents` operation of the EventStore port (ledger migration), one code for every adapter: the
 * source is an embedded ledger in memory, written through the ordinary append, as `ledger migrate` reads
 * one; the subject is the store imported into.
 */
export function describeEventImportContract(name: string, factory: EventImportContractFactory): void {
  describe(`EventStore import contract: ${name}`, () => {
    let subject: EventImportContractSubject;
    let store: EventStore;
    let source: SqliteEventStore;
    let sourceEvents: StoredEvent[];
    let streams: string[];

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
      source = new SqliteEventStore(new BetterSqlite3(':memory:'), { closeDatabase: true });
      streams = ['issue', 'charge', 'customer'].map((kind) => `${kind}-${randomUUID()}`);
      // Interleaved streams, appends of one to three events, data with text that JSON escapes differently.
      for (let round = 0; round < 4; round++) {
        for (const [index, stream] of streams.entries()) {
          const count = ((round + index) % 3) + 1;
          const batch = Array.from({ length: count }, (_, n) =>
            newEvent('NoteAdded', { round, n, text: `ré ☃ 😀 "${stream}"`, amount: 1e21, tiny: 1e-7 }),
          );
          await source.append(stream, batch, round === 0 ? 'no_stream' : 'stream_exists');
        }
      }
      sourceEvents = await source.readAll();
    });

    afterEach(async () => {
      await source?.close();
      await subject?.cleanup();
    });

    const ours = async () => (await store.readAll()).filter((event) => streams.includes(event.stream));

    it('stores every event with its bytes and hash, in the order given, and appends chain on', async () => {
      let lastPosition: bigint | null = null;
      // Batches that cut through streams, as a migration's pages of the source do.
      for (let start = 0; start < sourceEvents.length; start += 5) {
        const batch = sourceEvents.slice(start, start + 5);
        const result = await store.importEvents(batch);
        expect(result.imported).toBe(batch.length);
        lastPosition = result.lastPosition;
      }
      const imported = await ours();
      expect(imported.map(identity)).toEqual(sourceEvents.map(identity));
      expect(imported.at(-1)?.position).toBe(lastPosition);
      expect(verifyStreamChain(imported)).toMatchObject({ ok: true, checked: sourceEvents.length });
      for (const stream of streams) {
        expect((await store.readStream(stream)).map(identity)).toEqual(
          sourceEvents.filter((event) => event.stream === stream).map(identity),
        );
      }

      const [head] = await store.readStream(streams[0], { direction: 'backwards', maxCount: 1 });
      await store.append(streams[0], [newEvent('NoteAdded', { after: true })], head.revision);
      const [appended] = await store.readStream(streams[0], { direction: 'backwards', maxCount: 1 });
      expect(appended.metadata.prevHash).toBe(head.metadata.hash);
      expect(verifyStreamChain(await store.readStream(streams[0])).ok).toBe(true);
      expect(await store.importEvents([])).toEqual({ imported: 0, lastPosition: null });
    });

    it('resumes after the last event stored, whatever batch it was in', async () => {
      const cut = 7;
      await store.importEvents(sourceEvents.slice(0, cut));
      const [last] = (await ours()).slice(-1);
      const resumeAt =
        sourceEvents.findIndex((event) => event.metadata.eventId === last.metadata.eventId) + 1;
      expect(resumeAt).toBe(cut);
      // A batch already stored cannot be stored again: its first event no longer follows its stream here.
      const again = await rejection(store.importEvents(sourceEvents.slice(0, cut)));
      expect(again).toBeInstanceOf(ImportRejectedError);
      expect(again).toMatchObject({ reason: 'revision-mismatch', stream: sourceEvents[0].stream });
      await store.importEvents(sourceEvents.slice(resumeAt));
      expect((await ours()).map(identity)).toEqual(sourceEvents.map(identity));
    });

    it('refuses an event whose bytes or hash were changed, storing nothing of its batch', async () => {
      const [first, second] = sourceEvents;
      const dataChanged: StoredEvent = { ...second, data: { ...second.data, amount: 2 } };
      const changed = await rejection(store.importEvents([first, dataChanged]));
      expect(changed).toBeInstanceOf(ImportRejectedError);
      expect(changed).toMatchObject({ reason: 'canonical-mismatch', stream: second.stream, revision: 0 });

      const rehashed: StoredEvent = { ...second, metadata: { ...second.metadata, hash: 'f'.repeat(64) } };
      expect(await rejection(store.importEvents([first, rehashed]))).toMatchObject({
        name: 'ImportRejectedError',
        reason: 'hash-mismatch',
      });
      expect(await ours()).toEqual([]);
    });

    it('refuses an event that does not follow its stream here: a gap, a repeat or another chain', async () => {
      const ofStream = (stream: string) => sourceEvents.filter((event) => event.stream === stream);
      const [issue0, issue1] = ofStream(streams[0]);
      expect(await rejection(store.importEvents([issue1]))).toMatchObject({
        reason: 'revision-mismatch',
        revision: 1,
      });
      // Within one batch too: the second event must follow the first.
      expect(await rejection(store.importEvents([issue0, issue0]))).toMatchObject({
        reason: 'revision-mismatch',
      });
      // A stream that exists here with other events: the chain does not continue it.
      const [charge0, charge1] = ofStream(streams[1]);
      await store.append(streams[1], [newEvent('NoteAdded', { native: true })], 'no_stream');
      expect(await rejection(store.importEvents([charge0]))).toMatchObject({ reason: 'revision-mismatch' });
      expect(await rejection(store.importEvents([charge1]))).toMatchObject({
        reason: 'prev-hash-mismatch',
        stream: streams[1],
        revision: 1,
      });
      expect((await ours()).map((event) => event.data)).toEqual([{ native: true }]);
    });
  });
}
