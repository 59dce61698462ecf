import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import {
  appendAccessEntries,
  MAX_SCANNED_PER_PAGE,
  readAccessLog,
  uuidv7Generator,
  type AccessEntry,
} from '@app/ledger';

const clock = { now: () => new Date('2026-05-03T00:00:00.000Z') };

function entry(at: string, actor: string, issueId = 'is_1'): AccessEntry {
  return {
    at,
    actor,
    roles: ['agent'],
    method: 'GET',
    route: '/issues/:issueId',
    ids: { issueId },
    streams: [`issue-${issueId}`],
    status: 200,
    ip: '10.0.0.1',
  };
}

describe('readAccessLog', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-reader-'));
    store = SqliteEventStore.open(join(dir, 'ledger.db'));
    const busy = Array.from({ length: MAX_SCANNED_PER_PAGE + 50 }, (_, i) =>
      entry(new Date(Date.UTC(2026, 4, 1, 8) + i * 1000).toISOString(), 'busy-key'),
    );
    await appendAccessEntries(store, busy, uuidv7Generator, clock);
    await appendAccessEntries(
      store,
      [
        entry('2026-05-01T23:59:59.000Z', 'rare-key', 'is_9'),
        entry('2026-05-02T00:00:01.000Z', 'rare-key', 'is_9'),
        entry('2026-05-02T12:00:00.000Z', 'other-key'),
      ],
      uuidv7Generator,
      clock,
    );
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const range = { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-02T23:59:59Z') };

  it('bounds the events read per page: a short page with a cursor, then the match', async () => {
    const first = await readAccessLog(store, { ...range, actor: 'rare-key' }, 50);
    expect(first.items).toEqual([]);
    expect(first.scanned).toBe(MAX_SCANNED_PER_PAGE);
    expect(first.nextCursor).not.toBeNull();
    const second = await readAccessLog(store, { ...range, actor: 'rare-key' }, 50, first.nextCursor!);
    expect(second.items.map((item) => [item.logStream, item.at])).toEqual([
      ['accesslog-2026-05-01', '2026-05-01T23:59:59.000Z'],
      ['accesslog-2026-05-02', '2026-05-02T00:00:01.000Z'],
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it('pages across day streams without losing or repeating an entry', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await readAccessLog(store, { ...range, stream: 'issue-is_9' }, 1, cursor);
      seen.push(...page.items.map((item) => item.eventId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(2);
    expect(new Set(seen).size).toBe(2);
  });

  it('keeps to the time range within a day and to the route', async () => {
    const noon = await readAccessLog(
      store,
      { from: new Date('2026-05-02T11:00:00Z'), to: new Date('2026-05-02T13:00:00Z') },
      50,
    );
    expect(noon.items.map((item) => item.actor)).toEqual(['other-key']);
    const none = await readAccessLog(store, { ...range, route: '/audit/verify' }, 50);
    expect(none.items).toEqual([]);
  });
});
