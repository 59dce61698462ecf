import { createHash, randomUUID } from 'node:crypto';
import {
  DuplicateEventIdError,
  verifyStreamChain,
  WrongExpectedRevisionError,
  ZERO_HASH,
  type AppendResult,
  type EventStore,
  type IdempotencyStore,
  isSubscriptionCheckpoint,
  type NewEvent,
  type StoredEvent,
  type SubscriptionItem,
} from '@app/ledger';

export interface EventStoreContractSubject {
  store: EventStore;
  /** Where the adapter writes the records of AppendOptions.idempotency, when it does so itself. */
  idempotency?: IdempotencyStore;
  /** What the engine cannot promise; the suite asserts the declared limitation instead. Default: all. */
  capabilities?: Partial<EventStoreContractCapabilities>;
  cleanup(): Promise<void>;
}

export interface EventStoreContractCapabilities {
  /**
   * An event id already stored at another place (another stream, another revision) is refused. EventStoreDB
   * keeps no global index of ids: it only recognises a retry at the same expected revision.
   */
  refusesEventIdsReusedElsewhere: boolean;
  /** subscribeToAll works; false while an adapter throws "not supported yet" from it. */
  subscriptions: boolean;
}

const ALL_CAPABILITIES: EventStoreContractCapabilities = {
  refusesEventIdsReusedElsewhere: true,
  subscriptions: true,
};

export type EventStoreContractFactory = () => Promise<EventStoreContractSubject>;

/** Bound on every wait in the suite: generous for a loaded CI machine, still a failure rather than a hang. */
const WAIT_MS = 5000;
/** How soon a live event must reach a subscription in the appending process. */
const LIVE_DELIVERY_MS = 500;

function newEvent(type: string, data: Record<string, unknown> = {}): NewEvent {
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'service', id: 'key-contract' },
      correlationId: 'corr-contract',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

const events = (count: number, prefix = 'Thing') =>
  Array.from({ length: count }, (_, index) => newEvent(`${prefix}Happened`, { index }));

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function take(iterator: AsyncIterator<StoredEvent>, count: number): Promise<StoredEvent[]> {
  const taken: StoredEvent[] = [];
  while (taken.length < count) {
    const next = await within(iterator.next(), WAIT_MS, `waiting for event ${taken.length + 1} of ${count}`);
    if (next.done) throw new Error(`Subscription ended after ${taken.length} of ${count} events`);
    taken.push(next.value);
  }
  return taken;
}

/** Items up to and including the first that `found` accepts, each within WAIT_MS of the previous. */
async function takeUntil(
  iterator: AsyncIterator<SubscriptionItem>,
  found: (item: SubscriptionItem) => boolean,
  what: string,
): Promise<SubscriptionItem[]> {
  const taken: SubscriptionItem[] = [];
  for (;;) {
    const next = await within(iterator.next(), WAIT_MS, `waiting for ${what}`);
    if (next.done) throw new Error(`Subscription ended before ${what}`);
    taken.push(next.value);
    if (found(next.value)) return taken;
  }
}

/**
 * What a consumer may rely on: checkpoints never go back, none is behind an event yielded before it, and
 * every event yielded after a checkpoint is past it (so resuming from the checkpoint would not miss it).
 */
function expectCheckpointsInOrder(items: readonly SubscriptionItem[]): void {
  let lastEvent: bigint | undefined;
  let lastCheckpoint: bigint | undefined;
  for (const item of items) {
    if (isSubscriptionCheckpoint(item)) {
      if (lastCheckpoint !== undefined) expect(item.position).toBeGreaterThanOrEqual(lastCheckpoint);
      if (lastEvent !== undefined) expect(item.position).toBeGreaterThanOrEqual(lastEvent);
      lastCheckpoint = item.position;
    } else {
      if (lastCheckpoint !== undefined) expect(item.position).toBeGreaterThan(lastCheckpoint);
      lastEvent = item.position;
    }
  }
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
 * The EventStore port's semantics (EventStoreDB's), run against every adapter. Streams get unique names,
 * so the suite also passes against a shared server that already holds other events.
 */
export function describeEventStoreContract(name: string, factory: EventStoreContractFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: EventStoreContractSubject;
    let store: EventStore;
    const can = (capability: keyof EventStoreContractCapabilities) =>
      ({ ...ALL_CAPABILITIES, ...subject.capabilities })[capability];
    const streamName = (kind = 'contract') => `${kind}-${randomUUID()}`;

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
    });

    afterEach(async () => {
      await subject?.cleanup();
    });

    describe('append and expected revision', () => {
      it('creates a stream at no_stream and reads back what was appended', async () => {
        const stream = streamName();
        const appended = [
          newEvent('NoteAdded', { text: 'héllo ☃ 😀', nested: { b: [1, 2.5, null], a: true } }),
        ];
        appended.push(newEvent('NoteAdded', { text: 'second' }));
        appended[1].metadata.idempotencyKey = 'key-1';
        appended[1].metadata.actor = { kind: 'agent', id: 'key-contract', agentId: 'agent-1' };
        const result = await store.append(stream, appended, 'no_stream');
        expect(result).toEqual({ stream, nextExpectedRevision: 1, position: expect.any(BigInt) });

        const read = await store.readStream(stream);
        expect(read.map((event) => [event.revision, event.type, event.data])).toEqual([
          [0, 'NoteAdded', appended[0].data],
          [1, 'NoteAdded', appended[1].data],
        ]);
        expect(read[1].position).toBe(result.position);
        expect(read[0].position < read[1].position).toBe(true);
        expect(read[1].metadata).toEqual({
          ...appended[1].metadata,
          prevHash: read[0].metadata.hash,
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        expect(read[0]).toMatchObject({ stream, schemaVersion: 1 });
      });

      it('rejects no_stream on an existing stream with the current revision', async () => {
        const stream = streamName();
        await store.append(stream, events(3), 'no_stream');
        const error = await rejection(store.append(stream, events(1), 'no_stream'));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ stream, expected: 'no_stream', actual: 2 });
        expect(await store.readStream(stream)).toHaveLength(3);
      });

      it('appends at the exact current revision and rejects any other', async () => {
        const stream = streamName();
        await store.append(stream, events(2), 'no_stream');
        for (const stale of [0, 2, 7]) {
          const error = await rejection(store.append(stream, events(1), stale));
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ stream, expected: stale, actual: 1 });
        }
        const result = await store.append(stream, events(2), 1);
        expect(result.nextExpectedRevision).toBe(3);
        expect((await store.readStream(stream)).map((event) => event.revision)).toEqual([0, 1, 2, 3]);
      });

      it('reports actual -1 for an exact revision on an absent stream', async () => {
        const stream = streamName();
        const error = await rejection(store.append(stream, events(1), 0));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ stream, expected: 0, actual: -1 });
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('accepts stream_exists only when the stream exists', async () => {
        const stream = streamName();
        const error = await rejection(store.append(stream, events(1), 'stream_exists'));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ stream, expected: 'stream_exists', actual: -1 });
        await store.append(stream, events(1), 'no_stream');
        const result = await store.append(stream, events(1), 'stream_exists');
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('accepts any whether or not the stream exists', async () => {
        const stream = streamName();
        expect((await store.append(stream, events(2), 'any')).nextExpectedRevision).toBe(1);
        expect((await store.append(stream, events(1), 'any')).nextExpectedRevision).toBe(2);
      });
    });

    describe('idempotence', () => {
      it('answers the original result when the same ids are appended at the same expected revision', async () => {
        const stream = streamName();
        const first = events(2);
        const original = await store.append(stream, first, 'no_stream');
        const later = events(1);
        const laterResult = await store.append(stream, later, 1);

        expect(await store.append(stream, first, 'no_stream')).toEqual(original);
        expect(await store.append(stream, later, 1)).toEqual(laterResult);
        expect(await store.append(stream, later, 'any')).toEqual(laterResult);
        expect((await store.readStream(stream)).map((event) => event.metadata.eventId)).toEqual(
          [...first, ...later].map((event) => event.metadata.eventId),
        );
        expect(await store.headPosition()).toBe(laterResult.position);
      });

      it('rejects ids already stored elsewhere or only partly stored', async () => {
        if (!can('refusesEventIdsReusedElsewhere')) {
          // Declared by the adapter (the engine stores such an append); the suite holds it to that declaration.
          expect(subject.capabilities).toMatchObject({ refusesEventIdsReusedElsewhere: false });
          return;
        }
        const stream = streamName();
        const first = events(2);
        await store.append(stream, first, 'no_stream');
        const fresh = newEvent('ThingHappened');

        const partly = await rejection(store.append(stream, [first[1], fresh], 1));
        expect(partly).toBeInstanceOf(DuplicateEventIdError);
        expect(partly).toMatchObject({ eventId: first[1].metadata.eventId });

        const elsewhere = await rejection(store.append(streamName(), [first[0]], 'no_stream'));
        expect(elsewhere).toBeInstanceOf(DuplicateEventIdError);

        const otherRevision = await rejection(store.append(stream, [first[1]], 1));
        expect(otherRevision).toBeInstanceOf(DuplicateEventIdError);

        expect(await store.readStream(stream)).toHaveLength(2);
        expect((await store.append(stream, [fresh], 1)).nextExpectedRevision).toBe(2);
      });
    });

    describe('reading', () => {
      let stream: string;
      beforeEach(async () => {
        stream = streamName();
        await store.append(stream, events(5), 'no_stream');
      });

      const revisions = (read: StoredEvent[]) => read.map((event) => event.revision);

      it('reads forwards from a revision, at most maxCount', async () => {
        expect(revisions(await store.readStream(stream))).toEqual([0, 1, 2, 3, 4]);
        expect(revisions(await store.readStream(stream, { fromRevision: 2 }))).toEqual([2, 3, 4]);
        expect(revisions(await store.readStream(stream, { fromRevision: 1, maxCount: 2 }))).toEqual([1, 2]);
        expect(revisions(await store.readStream(stream, { fromRevision: 'start', maxCount: 1 }))).toEqual([
          0,
        ]);
        expect(await store.readStream(stream, { fromRevision: 'end' })).toEqual([]);
        expect(await store.readStream(stream, { fromRevision: 9 })).toEqual([]);
      });

      it('reads backwards from the end or a revision, at most maxCount', async () => {
        expect(revisions(await store.readStream(stream, { direction: 'backwards' }))).toEqual([
          4, 3, 2, 1, 0,
        ]);
        expect(
          revisions(await store.readStream(stream, { direction: 'backwards', fromRevision: 3, maxCount: 2 })),
        ).toEqual([3, 2]);
        expect(
          revisions(
            await store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 }),
          ),
        ).toEqual([4]);
        expect(
          revisions(await store.readStream(stream, { direction: 'backwards', fromRevision: 'start' })),
        ).toEqual([0]);
      });

      it('reads an absent stream as empty', async () => {
        expect(await store.readStream(streamName())).toEqual([]);
        expect(await store.readStream(streamName(), { direction: 'backwards' })).toEqual([]);
      });

      it('reads all events in global commit order from an inclusive position', async () => {
        const other = streamName();
        const a = await store.append(other, events(1), 'no_stream');
        const b = await store.append(stream, events(1), 4);
        const c = await store.append(other, events(1), 0);
        const fromA = await store.readAll({ fromPosition: a.position });
        expect(fromA.map((event) => [event.stream, event.revision])).toEqual([
          [other, 0],
          [stream, 5],
          [other, 1],
        ]);
        expect(fromA.map((event) => event.position)).toEqual([a.position, b.position, c.position]);
        expect(
          (await store.readAll({ fromPosition: b.position, maxCount: 1 })).map((e) => e.position),
        ).toEqual([b.position]);
        expect(await store.headPosition()).toBe(c.position);

        const all = await store.readAll();
        for (let index = 1; index < all.length; index++) {
          expect(all[index - 1].position < all[index].position).toBe(true);
        }
        expect(all.slice(-3)).toEqual(fromA);
      });
    });

    describe('hash chain', () => {
      it('chains every stream from the zero hash across appends, verifiably', async () => {
        const stream = streamName();
        await store.append(stream, events(2), 'no_stream');
        await store.append(stream, events(3), 1);
        const read = await store.readStream(stream);
        expect(read[0].metadata.prevHash).toBe(ZERO_HASH);
        expect(read[2].metadata.prevHash).toBe(read[1].metadata.hash);
        for (const event of read) {
          expect(createHash('sha256').update(event.canonical, 'utf8').digest('hex')).toBe(
            event.metadata.hash,
          );
        }
        expect(verifyStreamChain(read)).toEqual({ ok: true, checked: 5, firstBroken: null });
      });
    });

    describe('subscribeToAll', () => {
      // An adapter that declares no subscriptions must refuse them at once, never hand out a dead one.
      const refusedAsDeclared = () => {
        if (can('subscriptions')) return false;
        expect(() => store.subscribeToAll()).toThrow(/not supported yet/);
        return true;
      };

      it('delivers history, then live events at once, until unsubscribed', async () => {
        if (refusedAsDeclared()) return;
        const stream = streamName();
        const start = await store.headPosition();
        const historic = await store.append(stream, events(3), 'no_stream');
        const subscription = store.subscribeToAll({ fromPosition: start === -1n ? 'start' : start });
        const iterator = subscription[Symbol.asyncIterator]();
        const history = await take(iterator, 3);
        expect(history.every((event) => event.stream === stream)).toBe(true);
        expect(history.map((event) => event.revision)).toEqual([0, 1, 2]);
        expect(history[2].position).toBe(historic.position);

        const next = iterator.next();
        const appendedAt = Date.now();
        const live = await store.append(stream, events(1), 2);
        const delivered = await within(next, WAIT_MS, 'waiting for a live event');
        expect(Date.now() - appendedAt).toBeLessThan(LIVE_DELIVERY_MS);
        expect(delivered).toEqual({ done: false, value: expect.objectContaining({ stream, revision: 3 }) });
        expect(delivered.value.position).toBe(live.position);

        const waiting = iterator.next();
        await subscription.unsubscribe();
        expect(await within(waiting, WAIT_MS, 'waiting for the end after unsubscribe')).toEqual({
          done: true,
          value: undefined,
        });
      });

      it('starts strictly after the given position', async () => {
        if (refusedAsDeclared()) return;
        const stream = streamName();
        const first = await store.append(stream, events(1), 'no_stream');
        const second = await store.append(stream, events(1), 0);
        const subscription = store.subscribeToAll({ fromPosition: first.position });
        try {
          const [event] = await take(subscription[Symbol.asyncIterator](), 1);
          expect(event.position).toBe(second.position);
        } finally {
          await subscription.unsubscribe();
        }
      });

      it('starts at the beginning from position -1, the head of an empty ledger', async () => {
        if (refusedAsDeclared()) return;
        const tag = randomUUID().slice(0, 8);
        const appended = await store.append(`${tag}thing-1`, events(1), 'no_stream');
        const subscription = store.subscribeToAll({
          fromPosition: -1n,
          filter: { streamPrefixes: [`${tag}thing-`] },
        });
        try {
          const [event] = await take(subscription[Symbol.asyncIterator](), 1);
          expect(event.position).toBe(appended.position);
        } finally {
          await subscription.unsubscribe();
        }
      });

      it('delivers only streams matching a prefix, history and live', async () => {
        if (refusedAsDeclared()) return;
        const tag = randomUUID().slice(0, 8);
        const wanted = `${tag}charge-1`;
        const alsoWanted = `${tag}issue-1`;
        const unwanted = `${tag}customer-1`;
        const start = await store.headPosition();
        await store.append(unwanted, events(2), 'no_stream');
        await store.append(wanted, events(1), 'no_stream');
        await store.append(unwanted, events(1), 1);
        const subscription = store.subscribeToAll({
          fromPosition: start === -1n ? 'start' : start,
          filter: { streamPrefixes: [`${tag}charge-`, `${tag}issue-`] },
        });
        const iterator = subscription[Symbol.asyncIterator]();
        try {
          const [historic] = await take(iterator, 1);
          expect(historic.stream).toBe(wanted);
          const next = iterator.next();
          await store.append(unwanted, events(1), 2);
          await store.append(alsoWanted, events(1), 'no_stream');
          const live = await within(next, WAIT_MS, 'waiting for a filtered live event');
          expect(live.value).toMatchObject({ stream: alsoWanted, revision: 0 });
        } finally {
          await subscription.unsubscribe();
        }
      });
    });

    describe('subscribeToAll with checkpoints', () => {
      // EventStoreDB sends a checkpoint every 32 events its filter considered (by default), or on going
      // live; SQLite after a page it scanned past its last match. Enough unmatched events cover either.
      const UNMATCHED_APPENDS = 8;
      const UNMATCHED_PER_APPEND = 10;

      it('yields checkpoints past a stretch its filter leaves out, in order with the events', async () => {
        if (!can('subscriptions')) return;
        const tag = randomUUID().slice(0, 8);
        const wanted = `${tag}probe-1`;
        const start = await store.headPosition();
        const first = await store.append(wanted, events(1), 'no_stream');
        const subscription = store.subscribeToAll({
          fromPosition: start === -1n ? 'start' : start,
          filter: { streamPrefixes: [`${tag}probe-`] },
          checkpoints: true,
        });
        const iterator = subscription[Symbol.asyncIterator]();
        const items: SubscriptionItem[] = [];
        try {
          items.push(
            ...(await takeUntil(iterator, (item) => !isSubscriptionCheckpoint(item), 'the matching event')),
          );
          expect(items.at(-1)).toMatchObject({ stream: wanted, revision: 0, position: first.position });
          let unmatched = -1;
          for (let append = 0; append < UNMATCHED_APPENDS; append++) {
            const result = await store.append(
              `${tag}other-1`,
              events(UNMATCHED_PER_APPEND),
              unmatched === -1 ? 'no_stream' : unmatched,
            );
            unmatched = result.nextExpectedRevision;
          }
          const stretch = await takeUntil(
            iterator,
            (item) => isSubscriptionCheckpoint(item) && item.position > first.position,
            'a checkpoint past the matching event',
          );
          expect(stretch.filter((item) => !isSubscriptionCheckpoint(item))).toEqual([]);
          items.push(...stretch);
          const checkpoint = stretch.at(-1)!.position;

          const second = await store.append(wanted, events(1), 0);
          items.push(
            ...(await takeUntil(
              iterator,
              (item) => !isSubscriptionCheckpoint(item),
              'the next matching event',
            )),
          );
          expect(items.at(-1)).toMatchObject({ stream: wanted, revision: 1, position: second.position });
          expectCheckpointsInOrder(items);

          // Resuming from the checkpoint neither misses nor repeats an event.
          const resumed = store.subscribeToAll({
            fromPosition: checkpoint,
            filter: { streamPrefixes: [`${tag}probe-`] },
            checkpoints: true,
          });
          try {
            const after = await takeUntil(
              resumed[Symbol.asyncIterator](),
              (item) => !isSubscriptionCheckpoint(item),
              'the event after the checkpoint',
            );
            expect(after.at(-1)).toMatchObject({ stream: wanted, revision: 1 });
            expectCheckpointsInOrder(after);
          } finally {
            await resumed.unsubscribe();
          }
        } finally {
          await subscription.unsubscribe();
        }
      });

      it('yields only events when checkpoints are not asked for', async () => {
        if (!can('subscriptions')) return;
        const tag = randomUUID().slice(0, 8);
        const start = await store.headPosition();
        await store.append(`${tag}other-1`, events(UNMATCHED_PER_APPEND * UNMATCHED_APPENDS), 'no_stream');
        const wanted = await store.append(`${tag}probe-1`, events(1), 'no_stream');
        const subscription = store.subscribeToAll({
          fromPosition: start === -1n ? 'start' : start,
          filter: { streamPrefixes: [`${tag}probe-`] },
        });
        try {
          const [event] = await take(subscription[Symbol.asyncIterator](), 1);
          expect(isSubscriptionCheckpoint(event)).toBe(false);
          expect(event.position).toBe(wanted.position);
        } finally {
          await subscription.unsubscribe();
        }
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of many appends at the same expected revision win', async () => {
        const stream = streamName();
        await store.append(stream, events(1), 'no_stream');
        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(stream, events(1), 0)),
        );
        const won = settled.filter((outcome) => outcome.status === 'fulfilled');
        const lost = settled.filter((outcome) => outcome.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const outcome of lost) {
          expect(outcome.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(outcome.reason).toMatchObject({ stream, expected: 0, actual: 1 });
        }
        expect((await store.readStream(stream)).map((event) => event.revision)).toEqual([0, 1]);
      });

      it('commits many concurrent appends across streams with gap-free revisions and chains', async () => {
        const streams = Array.from({ length: 20 }, () => streamName('group'));
        const perStream = 10;
        const results: AppendResult[] = await Promise.all(
          streams.flatMap((stream) =>
            Array.from({ length: perStream }, () => store.append(stream, events(1), 'any')),
          ),
        );
        // Writers that follow their own revision, all streams at once.
        await Promise.all(
          streams.map(async (stream) => {
            for (let revision = perStream - 1; revision < perStream + 4; revision++) {
              await store.append(stream, events(1), revision);
            }
          }),
        );
        const positions = new Set(results.map((result) => result.position));
        expect(positions.size).toBe(results.length);
        for (const stream of streams) {
          const read = await store.readStream(stream);
          expect(read.map((event) => event.revision)).toEqual(
            Array.from({ length: perStream + 5 }, (_, i) => i),
          );
          expect(verifyStreamChain(read).ok).toBe(true);
        }
      });
    });

    describe('idempotency record', () => {
      it('is written with the append when the adapter records idempotency, completed with the result', async () => {
        const stream = streamName();
        const scope = createHash('sha256').update(randomUUID()).digest('hex');
        const append = () =>
          store.append(stream, events(2), 'no_stream', {
            idempotency: { scope, requestHash: 'request-hash', status: 201, extra: { issueId: 'is_1' } },
          });
        if (!store.recordsIdempotency) {
          await expect(append()).rejects.toThrow();
          return;
        }
        const result = await append();
        if (subject.idempotency) {
          expect(await subject.idempotency.get(scope)).toEqual({
            scope,
            requestHash: 'request-hash',
            status: 201,
            answer: {
              kind: 'outcome',
              stream,
              revision: 1,
              position: result.position.toString(),
              extra: { issueId: 'is_1' },
              changed: true,
            },
            createdAt: expect.any(String),
          });
        }
      });
    });
  });
}
