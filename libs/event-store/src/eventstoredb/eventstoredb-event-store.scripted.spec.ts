import { randomUUID } from 'node:crypto';
import { EventStoreDBClient } from '@eventstore/db-client';
import {
  AppendTooLargeError,
  eventHash,
  isSubscriptionCheckpoint,
  StorageUnavailableError,
  WrongExpectedRevisionError,
  ZERO_HASH,
  type NewEvent,
  type StoredEvent,
  type Subscription,
  type SubscriptionItem,
} from '@app/ledger';
import { describeEventStoreContract } from '../contract/event-store.contract';
import {
  EventStoreDbEventStore,
  isSupportedServerVersion,
  LEDGER_EVENT_FORMAT,
  MIN_SERVER_VERSION,
  UnsupportedEventStoreServerError,
} from './eventstoredb-event-store';
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

/**
 * The two ways the client appends: through Streams.BatchAppend when the server's ServerFeatures lists it,
 * as every server the ledger supports does, and through Streams.Append when it does not. They answer the
 * same outcomes in different shapes (a Status packing the details, or fields and trailers of the answer).
 */
const APPEND_PROTOCOLS = [
  { protocol: 'BatchAppend', batchAppend: true },
  { protocol: 'Append', batchAppend: false },
] as const;

/** Asserts that a scripted server took every append it decided through the protocol under test. */
function expectServedThrough(server: ScriptedEsdbServer, batchAppend: boolean): void {
  const { append, batchAppend: batched } = server.appendsServed;
  expect(batchAppend ? append : batched).toBe(0);
}

describe.each(APPEND_PROTOCOLS)('appending through Streams.$protocol', ({ protocol, batchAppend }) => {
  describeEventStoreContract(
    `EventStoreDB adapter against the scripted gRPC server, appending through Streams.${protocol}`,
    async () => {
      const server = await ScriptedEsdbServer.start({ batchAppend });
      const store = EventStoreDbEventStore.fromConnectionString(server.connectionString);
      return {
        store,
        capabilities: store.capabilities,
        cleanup: async () => {
          await store.close();
          await server.stop();
          expectServedThrough(server, batchAppend);
        },
      };
    },
  );

  describe(`EventStoreDbEventStore appends over gRPC through Streams.${protocol} (scripted server)`, () => {
    let server: ScriptedEsdbServer;
    let store: EventStoreDbEventStore;

    beforeEach(async () => {
      server = await ScriptedEsdbServer.start({ batchAppend });
      store = EventStoreDbEventStore.fromConnectionString(server.connectionString, {
        unansweredRetryDelayMs: 1,
      });
    });

    afterEach(async () => {
      await store.close();
      await server.stop();
      expectServedThrough(server, batchAppend);
    });

    it(`appends through Streams.${protocol}, as ServerFeatures leads the client to`, async () => {
      await store.append('issue-0', [newEvent()], 'no_stream');
      await store.append('issue-0', [newEvent(), newEvent()], 0);
      expect(server.appendsServed).toEqual(
        batchAppend ? { append: 0, batchAppend: 2 } : { append: 2, batchAppend: 0 },
      );
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
      expect(read.metadata).toEqual({
        ...appended[0].metadata,
        prevHash: ZERO_HASH,
        hash: read.metadata.hash,
      });
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

    it('answers a retry at the same revision, which the server acknowledges with the original position, with the original', async () => {
      const events = [newEvent(), newEvent()];
      const original = await store.append('issue-2', events, 'no_stream');
      await store.append('issue-2', [newEvent()], 1);
      expect(await store.append('issue-2', events, 'no_stream')).toEqual(original);
      expect(server.log).toHaveLength(3);
    });

    it('answers a retry at the same revision acknowledged without a position with the original, read back', async () => {
      server.idempotentWithoutPosition = true;
      const events = [newEvent(), newEvent()];
      const original = await store.append('issue-2', events, 'no_stream');
      await store.append('issue-2', [newEvent()], 1);
      expect(await store.append('issue-2', events, 'no_stream')).toEqual(original);
      expect(server.log).toHaveLength(3);
    });

    it('appends at the tail for any and stream_exists, retrying when another writer got there first', async () => {
      await store.append('issue-4', [newEvent()], 'no_stream');
      const racing = await Promise.all(
        Array.from({ length: 6 }, () => store.append('issue-4', [newEvent()], 'any')),
      );
      expect(racing.map((result) => result.nextExpectedRevision).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await store.append('issue-4', [newEvent()], 'stream_exists')).nextExpectedRevision).toBe(7);
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
        await lenient.append('issue-5', [newEvent(), newEvent()], 0);
        expect(await rejection(lenient.append('issue-5', [newEvent()], 1))).toMatchObject({
          name: 'WrongExpectedRevisionError',
          expected: 1,
          actual: 2,
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
      expect(result).toEqual({
        stream: 'issue-6',
        nextExpectedRevision: 2,
        position: server.log[2].position,
      });
    });

    it('retries every append in flight when the connection drops, storing each once', async () => {
      server.failNextAppends('after-write');
      const streams = ['issue-11', 'issue-12', 'issue-13'];
      const results = await Promise.all(
        streams.map((stream) => store.append(stream, [newEvent({ stream })], 'no_stream')),
      );
      expect(server.log.map((record) => record.stream).sort()).toEqual(streams);
      expect(results).toEqual(
        streams.map((stream) => ({
          stream,
          nextExpectedRevision: 0,
          position: server.log.find((record) => record.stream === stream)?.position,
        })),
      );
    });

    it('retries an append whose commit timed out on the server with the same ids, so it is stored once', async () => {
      await store.append('issue-14', [newEvent()], 'no_stream');
      server.failNextAppends('commit-timeout');
      const result = await store.append('issue-14', [newEvent(), newEvent()], 0);
      expect(server.log.map((record) => record.revision)).toEqual([0, 1, 2]);
      expect(result).toEqual({
        stream: 'issue-14',
        nextExpectedRevision: 2,
        position: server.log[2].position,
      });
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

    it('answers an append the server refuses as too large with AppendTooLargeError, having written nothing', async () => {
      server.maxAppendSizeBytes = 2048;
      const error = await rejection(
        store.append('issue-10', [newEvent({ text: 'x'.repeat(3000) })], 'no_stream'),
      );
      expect(error).toBeInstanceOf(AppendTooLargeError);
      expect(error).toMatchObject({ stream: 'issue-10', maxBytes: 2048 });
      expect(server.log).toEqual([]);
      // Refused whole: the next append at the same revision is the stream's first.
      expect((await store.append('issue-10', [newEvent()], 'no_stream')).nextExpectedRevision).toBe(0);
    });

    describe('an append larger than the client sends in one BatchAppend request (3 MiB)', () => {
      const large = () => Array.from({ length: 4 }, (_, n) => newEvent({ n, text: 'x'.repeat(1_200_000) }));
      let roomy: EventStoreDbEventStore;

      beforeEach(() => {
        roomy = new EventStoreDbEventStore(EventStoreDBClient.connectionString(server.connectionString), {
          maxAppendSizeBytes: 8 * 1024 * 1024,
        });
      });

      afterEach(async () => {
        await roomy.close();
      });

      it('is stored whole, as one append', async () => {
        server.maxAppendSizeBytes = 8 * 1024 * 1024;
        const result = await roomy.append('issue-15', large(), 'no_stream');
        expect(server.log.map((record) => record.revision)).toEqual([0, 1, 2, 3]);
        expect(result).toEqual({
          stream: 'issue-15',
          nextExpectedRevision: 3,
          position: server.log[3].position,
        });
        expect(server.appendsServed.append + server.appendsServed.batchAppend).toBe(1);
      });

      it('is refused whole when over the server maximum, and the next append goes through', async () => {
        server.maxAppendSizeBytes = 2 * 1024 * 1024;
        const error = await rejection(roomy.append('issue-16', large(), 'no_stream'));
        expect(error).toMatchObject({
          name: 'AppendTooLargeError',
          stream: 'issue-16',
          maxBytes: 2 * 1024 * 1024,
        });
        expect(server.log).toEqual([]);
        expect((await roomy.append('issue-16', [newEvent()], 'no_stream')).nextExpectedRevision).toBe(0);
      });
    });
  });
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

  it('refuses throwOnAppendFailure=false', () => {
    expect(() =>
      EventStoreDbEventStore.fromConnectionString(`${server.connectionString}&throwOnAppendFailure=false`),
    ).toThrow(/throwOnAppendFailure=false/);
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

  describe('checkpoints', () => {
    /**
     * Items until `count` events have come and then a checkpoint. It reads slowly (a turn of the event
     * loop per item), so that the adapter's queue fills, the client's stream is paused and holds unread
     * events when the client reports checkpoints.
     */
    async function collect(
      subscription: Subscription<SubscriptionItem>,
      count: number,
      last = (_checkpoint: bigint) => true,
    ) {
      const items: SubscriptionItem[] = [];
      let events = 0;
      for await (const item of subscription) {
        items.push(item);
        if (!isSubscriptionCheckpoint(item)) events++;
        else if (events >= count && last(item.position)) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return items;
    }

    /** Every checkpoint comes after every event at or before it, and before every event after it. */
    function expectInServerOrder(items: SubscriptionItem[], matching: bigint[]): void {
      const events = items.filter((item) => !isSubscriptionCheckpoint(item)).map((item) => item.position);
      expect(events).toEqual(matching);
      items.forEach((item, index) => {
        if (!isSubscriptionCheckpoint(item)) return;
        const before = items.slice(0, index).filter((earlier) => !isSubscriptionCheckpoint(earlier));
        const after = items.slice(index + 1).filter((later) => !isSubscriptionCheckpoint(later));
        expect(before.length).toBe(matching.filter((position) => position <= item.position).length);
        expect(after.every((later) => later.position > item.position)).toBe(true);
      });
    }

    async function appendMany(stream: string, appends: number, perAppend: number): Promise<void> {
      let revision: number | 'no_stream' = 'no_stream';
      for (let append = 0; append < appends; append++) {
        const events = Array.from({ length: perAppend }, (_, index) => newEvent({ append, index }));
        revision = (await store.append(stream, events, revision)).nextExpectedRevision;
      }
    }

    it('yields every event sent before a checkpoint first, though the client buffers them and pauses', async () => {
      // A checkpoint every 45 records, 18 or so of them ledger events of the filter: more than the 16 the
      // client buffers, with hundreds of records in flight.
      server.checkpoints.interval = 45;
      for (let round = 0; round < 12; round++) {
        await appendMany(`issue-${round}`, 1, 20);
        await appendMany(`other-${round}`, 3, 10);
      }
      const matching = server.log
        .filter((record) => record.stream.startsWith('issue-'))
        .map((record) => record.position);
      const subscription = store.subscribeToAll({
        filter: { streamPrefixes: ['issue-'] },
        checkpoints: true,
      });
      try {
        const items = await collect(subscription, matching.length);
        // Checkpoints at records of other streams (those at a delivered event add nothing and are left out).
        expect(items.filter(isSubscriptionCheckpoint).length).toBeGreaterThan(6);
        expectInServerOrder(items, matching);
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('takes a checkpoint sent with prepare = 0 at its commit position, and resumes from it', async () => {
      server.checkpoints.prepareZero = true;
      server.checkpoints.interval = 10;
      await store.append('issue-1', [newEvent({ n: 1 })], 'no_stream');
      await appendMany('other-1', 3, 5);
      const lastOther = server.log.at(-1)!.position;
      const subscription = store.subscribeToAll({
        filter: { streamPrefixes: ['issue-'] },
        checkpoints: true,
      });
      let checkpoint: bigint;
      try {
        const items = await collect(subscription, 1, (position) => position === lastOther);
        const checkpoints = items.filter(isSubscriptionCheckpoint).map((item) => item.position);
        // One after ten records considered, one on going live at the last record: commit positions.
        expect(checkpoints).toEqual([server.log[9].position, lastOther]);
        checkpoint = checkpoints.at(-1)!;
      } finally {
        await subscription.unsubscribe();
      }
      const later = await store.append('issue-1', [newEvent({ n: 2 })], 0);
      const resumed = store.subscribeToAll({
        fromPosition: checkpoint,
        filter: { streamPrefixes: ['issue-'] },
        checkpoints: true,
      });
      try {
        const { value: first } = await resumed[Symbol.asyncIterator]().next();
        expect(first).toMatchObject({ stream: 'issue-1', revision: 1, position: later.position });
      } finally {
        await resumed.unsubscribe();
      }
    });

    it('subscribes again after a drop mid-stream from the last event or checkpoint, yielding each event once', async () => {
      server.checkpoints.interval = 10;
      for (let round = 0; round < 4; round++) {
        await appendMany(`issue-${round}`, 3, 5);
        await appendMany(`other-${round}`, 1, 4);
      }
      const matching = server.log
        .filter((record) => record.stream.startsWith('issue-'))
        .map((record) => record.position);
      server.dropNextSubscriptionAfter(23);
      const subscription = store.subscribeToAll({
        filter: { streamPrefixes: ['issue-'] },
        checkpoints: true,
      });
      try {
        const items = await collect(subscription, matching.length);
        expectInServerOrder(items, matching);
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('ignores a checkpoint outside the log, as servers before 24.10.5 could send on going live', async () => {
      server.checkpoints.outsideLogOnGoingLive = true;
      await appendMany('other-1', 1, 5);
      const subscription = store.subscribeToAll({
        filter: { streamPrefixes: ['issue-'] },
        checkpoints: true,
      });
      try {
        const iterator = subscription[Symbol.asyncIterator]();
        const next = iterator.next();
        const live = await store.append('issue-1', [newEvent()], 'no_stream');
        expect((await next).value).toMatchObject({ stream: 'issue-1', position: live.position });
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('filters on the server even without stream prefixes, so that it gets checkpoints', async () => {
      server.checkpoints.interval = 5;
      await store.append('issue-1', [newEvent()], 'no_stream');
      for (let index = 0; index < 6; index++)
        server.writeForeign(`$statistics-${index}`, '$statsCollected', {});
      const subscription = store.subscribeToAll({ checkpoints: true });
      try {
        const end = server.log.at(-1)!.position;
        const items = await collect(subscription, 1, (position) => position === end);
        expect(items[0]).toMatchObject({ stream: 'issue-1' });
        // Checkpoints after five records, and on going live: the system events themselves never come.
        expect(items.slice(1)).toEqual([
          { kind: 'checkpoint', position: server.log[4].position },
          { kind: 'checkpoint', position: end },
        ]);
      } finally {
        await subscription.unsubscribe();
      }
    });
  });

  describe('checkServer', () => {
    /** A new client each time: the client keeps the server's features once fetched. */
    async function checked(version: string | undefined): Promise<unknown> {
      server.serverVersion = version;
      const fresh = EventStoreDbEventStore.fromConnectionString(server.connectionString);
      try {
        return await fresh.checkServer();
      } catch (error) {
        return error;
      } finally {
        await fresh.close();
      }
    }

    it('accepts the minimum version and later ones, as ServerFeatures reports them', async () => {
      expect(MIN_SERVER_VERSION).toBe('24.10.5');
      expect(await checked('24.10.5')).toEqual({ serverVersion: '24.10.5' });
      expect(await checked('25.0.1')).toEqual({ serverVersion: '25.0.1' });
      expect(await checked('26.0.3')).toEqual({ serverVersion: '26.0.3' });
    });

    it('refuses an older server, 25.0.0, and one that does not report its version', async () => {
      for (const version of ['24.10.4', '23.10.5', '25.0.0', undefined]) {
        const error = await checked(version);
        expect(error).toBeInstanceOf(UnsupportedEventStoreServerError);
        expect(error).toMatchObject({ serverVersion: version ?? 'unknown' });
        expect((error as Error).message).toContain('24.10.5 or later');
      }
    });

    it('answers StorageUnavailableError when the server does not answer', async () => {
      const fresh = EventStoreDbEventStore.fromConnectionString(server.connectionString);
      await server.stop();
      try {
        expect(await rejection(fresh.checkServer())).toBeInstanceOf(StorageUnavailableError);
      } finally {
        await fresh.close();
      }
    });

    it('compares versions by number, prerelease tags aside', () => {
      const supported = ['24.10.5', '24.10.14', '24.11.0', '25.0.1', '25.0.1-rc.2', '26.1.0'];
      const refused = ['24.10.4', '24.9.9', '23.10.9', '25.0.0', '25.0.0-rc.6', '0.0.0', 'unknown', ''];
      expect(supported.filter(isSupportedServerVersion)).toEqual(supported);
      expect(refused.filter(isSupportedServerVersion)).toEqual([]);
    });
  });
});
