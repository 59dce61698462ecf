import { randomUUID } from 'node:crypto';
import { EventStoreDBClient } from '@eventstore/db-client';
import {
  AppendTooLargeError,
  eventHash,
  StorageUnavailableError,
  WrongExpectedRevisionError,
  ZERO_HASH,
  type NewEvent,
  type StoredEvent,
} from '@app/ledger';
import { describeEventStoreContract } from '../contract/event-store.contract';
import { EventStoreDbEventStore, LEDGER_EVENT_FORMAT } from './eventstoredb-event-store';
import { ScriptedEsdbServer } from './testing/scripted-esdb-server';

// The real client and adapter over real gRPC, against a protocol test double: see scripted-esdb-server.ts.

function newEvent(data: Record<string, unknown> = {}): NewEvent {
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'agent', id: 'key-1', agentId: 'agent-1' },
      correlationId: 'corr-1',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected a rejection');
}

describeEventStoreContract('EventStoreDB adapter against the scripted gRPC server', async () => {
  const server = await ScriptedEsdbServer.start();
  const store = EventStoreDbEventStore.fromConnectionString(server.connectionString);
  return {
    store,
    capabilities: store.capabilities,
    cleanup: async () => {
      await store.close();
      await server.stop();
    },
  };
});

describe('EventStoreDbEventStore over gRPC (scripted server)', () => {
  let server: ScriptedEsdbServer;
  let store: EventStoreDbEventStore;

  beforeEach(async () => {
    server = await ScriptedEsdbServer.start();
    store = EventStoreDbEventStore.fromConnectionString(server.connectionString, {
      unansweredRetryDelayMs: 1,
    });
  });

  afterEach(async () => {
    await store.close();
    await server.stop();
  });

  it('stores each event as binary canonical bytes with a small JSON metadata, and reads the bytes back', async () => {
    const appended = [
      newEvent({ text: 'héllo ☃ 😀', amount: 1e21, tiny: 1e-7, nested: { b: [1, 2.5], a: null } }),
    ];
    appended[0].metadata.idempotencyKey = 'key-1';
    await store.append('issue-1', appended, 'no_stream');
    const [record] = server.log;
    expect(record.contentType).toBe('application/octet-stream');
    const [read] = await store.readStream('issue-1');
    expect(Buffer.from(record.data).equals(Buffer.from(read.canonical, 'utf8'))).toBe(true);
    expect(eventHash(record.data)).toBe(read.metadata.hash);
    expect(JSON.parse(Buffer.from(record.customMetadata).toString('utf8'))).toEqual({
      format: LEDGER_EVENT_FORMAT,
      hash: read.metadata.hash,
      schemaVersion: 1,
    });
    expect(read).toMatchObject({
      stream: 'issue-1',
      revision: 0,
      type: 'NoteAdded',
      position: record.position,
    });
    expect(read.data).toEqual(appended[0].data);
    expect(read.metadata).toEqual({ ...appended[0].metadata, prevHash: ZERO_HASH, hash: read.metadata.hash });
  });

  it('maps wrong expected versions, exact and no_stream, to the port error with the actual revision', async () => {
    await store.append('charge-1', [newEvent(), newEvent()], 'no_stream');
    expect(await rejection(store.append('charge-1', [newEvent()], 'no_stream'))).toEqual(
      new WrongExpectedRevisionError('charge-1', 'no_stream', 1),
    );
    // The previous event exists, so the server itself decides: its answer carries current revision 1.
    expect(await rejection(store.append('charge-1', [newEvent()], 0))).toMatchObject({
      name: 'WrongExpectedRevisionError',
      expected: 0,
      actual: 1,
    });
    // The client reports an absent stream as "no_stream": the port says -1.
    const onAbsent = await rejection(store.append('charge-absent', [newEvent()], 3));
    expect(onAbsent).toBeInstanceOf(WrongExpectedRevisionError);
    expect(onAbsent).toMatchObject({ expected: 3, actual: -1 });
    expect(server.log).toHaveLength(2);
  });

  it('answers a retry at the same revision, which the server acknowledges without a position, with the original', async () => {
    const events = [newEvent(), newEvent()];
    const original = await store.append('issue-2', events, 'no_stream');
    await store.append('issue-2', [newEvent()], 1);
    expect(await store.append('issue-2', events, 'no_stream')).toEqual(original);
    expect(server.log).toHaveLength(3);
  });

  it('skips system and foreign events in $all, filling each page, and takes the head from ledger events', async () => {
    server.writeForeign('$statistics-127.0.0.1:2113', '$statsCollected', { proc: {} });
    const first = await store.append('issue-3', [newEvent({ n: 1 })], 'no_stream');
    server.writeForeign('$scavenges', '$scavengeStarted', {});
    server.writeForeign('orders-1', 'OrderPlaced', { id: 1 });
    const second = await store.append('issue-3', [newEvent({ n: 2 })], 0);
    server.writeForeign('$$$settings', '$settings', {});

    const all = await store.readAll();
    expect(all.map((event: StoredEvent) => event.position)).toEqual([first.position, second.position]);
    expect((await store.readAll({ maxCount: 2 })).map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await store.readAll({ fromPosition: first.position + 1n, maxCount: 1 })).toEqual([all[1]]);
    expect(await store.headPosition()).toBe(second.position);
    expect(server.log.at(-1)?.stream).toBe('$$$settings');
  });

  it('reads a missing stream as empty, either way', async () => {
    expect(await store.readStream('issue-none')).toEqual([]);
    expect(await store.readStream('issue-none', { direction: 'backwards' })).toEqual([]);
    expect(await store.headPosition()).toBe(-1n);
  });

  it('appends at the tail for any and stream_exists, retrying when another writer got there first', async () => {
    await store.append('issue-4', [newEvent()], 'no_stream');
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => store.append('issue-4', [newEvent()], 'any')),
    );
    expect(racing.map((result) => result.nextExpectedRevision).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.append('issue-4', [newEvent()], 'stream_exists')).nextExpectedRevision).toBe(7);
  });

  it('refuses throwOnAppendFailure=false', () => {
    expect(() =>
      EventStoreDbEventStore.fromConnectionString(`${server.connectionString}&throwOnAppendFailure=false`),
    ).toThrow(/throwOnAppendFailure=false/);
  });

  it('turns a conflict answered as success: false (throwOnAppendFailure=false) into the port error', async () => {
    const lenient = new EventStoreDbEventStore(
      EventStoreDBClient.connectionString(`${server.connectionString}&throwOnAppendFailure=false`),
    );
    try {
      await lenient.append('issue-5', [newEvent()], 'no_stream');
      expect(await rejection(lenient.append('issue-5', [newEvent()], 'no_stream'))).toMatchObject({
        name: 'WrongExpectedRevisionError',
        actual: 0,
      });
    } finally {
      await lenient.close();
    }
  });

  it('retries an append whose answer was lost with the same ids, so it is stored once', async () => {
    await store.append('issue-6', [newEvent()], 'no_stream');
    server.failNextAppends('after-write', 'before-write');
    const result = await store.append('issue-6', [newEvent(), newEvent()], 'any');
    expect(server.log.map((record) => record.revision)).toEqual([0, 1, 2]);
    expect(result).toEqual({ stream: 'issue-6', nextExpectedRevision: 2, position: server.log[2].position });
  });

  it('answers StorageUnavailableError when the server stays unavailable, having written nothing', async () => {
    server.failNextAppends('before-write', 'before-write', 'before-write', 'before-write');
    const error = await rejection(store.append('issue-7', [newEvent()], 'no_stream'));
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(server.log).toEqual([]);
  });

  it('refuses an append over the maximum append size before sending it', async () => {
    const small = new EventStoreDbEventStore(EventStoreDBClient.connectionString(server.connectionString), {
      maxAppendSizeBytes: 4096,
    });
    try {
      const error = await rejection(
        small.append('issue-8', [newEvent({ text: 'x'.repeat(5000) })], 'no_stream'),
      );
      expect(error).toBeInstanceOf(AppendTooLargeError);
      expect(error).toMatchObject({ stream: 'issue-8', maxBytes: 4096 });
      expect(server.log).toEqual([]);
      expect(
        (await small.append('issue-8', [newEvent({ text: 'x' })], 'no_stream')).nextExpectedRevision,
      ).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('answers the server refusing of a too-large append as AppendTooLargeError, having written nothing', async () => {
    server.maxAppendSizeBytes = 2048;
    const error = await rejection(
      store.append('issue-10', [newEvent({ text: 'x'.repeat(3000) })], 'no_stream'),
    );
    expect(error).toBeInstanceOf(AppendTooLargeError);
    expect(error).toMatchObject({ stream: 'issue-10', maxBytes: 2048 });
    expect(server.log).toEqual([]);
  });

  it('subscribes again after a drop from the last delivered position, delivering each event once', async () => {
    await store.append('issue-9', [newEvent({ n: 0 }), newEvent({ n: 1 })], 'no_stream');
    server.writeForeign('$statistics-1', '$statsCollected', {});
    const subscription = store.subscribeToAll({ filter: { streamPrefixes: ['issue-'] } });
    const iterator = subscription[Symbol.asyncIterator]();
    try {
      const seen = [(await iterator.next()).value, (await iterator.next()).value];
      server.dropSubscriptions();
      await store.append('issue-9', [newEvent({ n: 2 })], 1);
      seen.push((await iterator.next()).value);
      expect(seen.map((event: StoredEvent) => event.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    } finally {
      await subscription.unsubscribe();
    }
  });
});
