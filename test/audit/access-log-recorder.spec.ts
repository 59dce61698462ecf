import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import { uuidv7Generator, verifyLedger, EventStoreVerificationSource, type EventStore } from '@app/ledger';
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
});
