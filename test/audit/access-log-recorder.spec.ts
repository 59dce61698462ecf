import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import {
  AppendTooLargeError,
  uuidv7Generator,
  verifyLedger,
  EventStoreVerificationSource,
  type EventStore,
  type NewEvent,
} from '@app/ledger';
import { AccessLogRecorder, type AccessEntry } from '../../libs/ledger/src/audit/access-log/access-log';

function entry(at: string, actor = 'key1'): AccessEntry {
  return {
    at,
    actor,
    roles: ['auditor'],
    method: 'GET',
    route: '/issues/:issueId',
    ids: { issueId: 'is_1' },
    streams: ['issue-is_1'],
    status: 200,
    ip: '127.0.0.1',
  };
}

const clock = { now: () => new Date('2026-03-02T00:00:05.000Z') };

describe('AccessLogRecorder', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-'));
    store = SqliteEventStore.open(join(dir, 'ledger.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends a full batch at once and the rest after the interval, chained per UTC day', async () => {
    const recorder = new AccessLogRecorder(store, uuidv7Generator, clock, {
      maxBatch: 3,
      flushIntervalMs: 100,
    });
    recorder.record(entry('2026-03-01T23:59:59.900Z'));
    recorder.record(entry('2026-03-02T00:00:00.100Z'));
    expect(recorder.pending).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.headPosition()).toBe(-1n);
    recorder.record(entry('2026-03-02T00:00:00.200Z'));
    await recorder.flush();
    const first = await store.readAll();
    expect(first.map((e) => [e.stream, e.revision])).toEqual([
      ['accesslog-2026-03-01', 0],
      ['accesslog-2026-03-02', 0],
      ['accesslog-2026-03-02', 1],
    ]);
    expect(first[0]).toMatchObject({
      type: 'AccessRecorded',
      data: entry('2026-03-01T23:59:59.900Z'),
      metadata: {
        occurredAt: '2026-03-01T23:59:59.900Z',
        recordedAt: '2026-03-02T00:00:05.000Z',
        actor: { kind: 'system', id: 'access-log' },
      },
    });

    recorder.record(entry('2026-03-02T00:00:01.000Z', 'key2'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await store.readAll()).length).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const later = await store.readAll();
    expect(later.map((e) => e.data.actor)).toEqual(['key1', 'key1', 'key1', 'key2']);
    expect(await verifyLedger(new EventStoreVerificationSource(store))).toMatchObject({
      ok: true,
      checked: 4,
    });
  });

  it('close() appends what is buffered; later entries go straight to the store', async () => {
    const recorder = new AccessLogRecorder(store, uuidv7Generator, clock, {
      maxBatch: 100,
      flushIntervalMs: 60_000,
    });
    recorder.record(entry('2026-03-02T10:00:00.000Z'));
    recorder.record(entry('2026-03-02T10:00:01.000Z'));
    await recorder.close();
    expect((await store.readAll()).length).toBe(2);
    recorder.record(entry('2026-03-02T10:00:02.000Z'));
    await recorder.flush();
    expect((await store.readAll()).length).toBe(3);
  });

  it('keeps the entries of a failed append for the next flush, bounded', async () => {
    let failures = 1;
    const flaky: EventStore = Object.create(store, {
      append: {
        value: (...args: Parameters<EventStore['append']>) =>
          failures-- > 0 ? Promise.reject(new Error('disk full')) : store.append(...args),
      },
    });
    const errors: Array<[string, number]> = [];
    const recorder = new AccessLogRecorder(flaky, uuidv7Generator, clock, {
      maxBatch: 100,
      flushIntervalMs: 60_000,
      maxBuffered: 2,
      onError: (error, dropped) => errors.push([(error as Error).message, dropped]),
    });
    recorder.record(entry('2026-03-02T10:00:00.000Z', 'a'));
    recorder.record(entry('2026-03-02T10:00:01.000Z', 'b'));
    recorder.record(entry('2026-03-02T10:00:02.000Z', 'c'));
    await recorder.flush();
    expect(errors).toEqual([['disk full', 1]]);
    expect(recorder.pending).toBe(2);
    await recorder.close();
    expect((await store.readAll()).map((e) => e.data.actor)).toEqual(['b', 'c']);
  });

  /** The store, refusing (as EventStoreDB does) any append whose canonical bytes would exceed `maxBytes`. */
  function sizeLimited(maxBytes: number, appended: number[], failing = { after: Infinity }): EventStore {
    let appends = 0;
    return Object.create(store, {
      append: {
        value: async (stream: string, events: NewEvent[], expected: Parameters<EventStore['append']>[2]) => {
          if (appends++ >= failing.after) throw new Error('connection lost');
          const result = await store.append(stream, events, expected);
          const stored = await store.readStream(stream, {
            fromRevision: result.nextExpectedRevision - events.length + 1,
          });
          const bytes = stored.reduce((sum, event) => sum + Buffer.byteLength(event.canonical), 0);
          if (bytes > maxBytes) throw new AppendTooLargeError(stream, maxBytes);
          appended.push(events.length);
          return result;
        },
      },
    });
  }

  it('splits a large backlog into appends under the maximum append size, in order', async () => {
    const appended: number[] = [];
    const recorder = new AccessLogRecorder(sizeLimited(16 * 1024, appended), uuidv7Generator, clock, {
      maxBatch: 10_000,
      flushIntervalMs: 60_000,
      maxAppendBytes: 16 * 1024,
    });
    const at = (index: number) => new Date(Date.UTC(2026, 2, 2, 10, 0, 0, index)).toISOString();
    for (let index = 0; index < 300; index++) recorder.record(entry(at(index), `key${index}`));
    await recorder.close();
    const stored = await store.readAll();
    expect(stored.map((event) => event.data.actor)).toEqual(
      Array.from({ length: 300 }, (_, index) => `key${index}`),
    );
    expect(appended.length).toBeGreaterThan(1);
    expect(appended.reduce((sum, count) => sum + count, 0)).toBe(300);
    expect(await verifyLedger(new EventStoreVerificationSource(store))).toMatchObject({ ok: true });
  });

  it('keeps only the entries no append stored when a split flush fails part way', async () => {
    const appended: number[] = [];
    const errors: string[] = [];
    const failing = { after: 1 };
    const recorder = new AccessLogRecorder(
      sizeLimited(16 * 1024, appended, failing),
      uuidv7Generator,
      clock,
      {
        maxBatch: 10_000,
        flushIntervalMs: 60_000,
        maxAppendBytes: 16 * 1024,
        onError: (error) => errors.push((error as Error).message),
      },
    );
    const at = (index: number) => new Date(Date.UTC(2026, 2, 2, 10, 0, 0, index)).toISOString();
    for (let index = 0; index < 100; index++) recorder.record(entry(at(index), `key${index}`));
    await recorder.flush();
    expect(errors).toEqual(['connection lost']);
    expect(appended).toHaveLength(1);
    expect(recorder.pending).toBe(100 - appended[0]);
    failing.after = Infinity;
    await recorder.close();
    expect((await store.readAll()).map((event) => event.data.actor)).toEqual(
      Array.from({ length: 100 }, (_, index) => `key${index}`),
    );
  });
});
