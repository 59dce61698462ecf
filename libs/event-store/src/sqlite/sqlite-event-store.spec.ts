import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import {
  DuplicateEventIdError,
  IdempotencyScopeTakenError,
  verifyStreamChain,
  WrongExpectedRevisionError,
  type IdempotencyWrite,
  type NewEvent,
  type StoredEvent,
} from '@app/ledger';
import { holdWriteLockFor } from '@app/testing';
import { describeEventStoreContract } from '../contract/event-store.contract';
import { openSqlite } from './open-sqlite';
import { EVENT_STORE_TABLES, refreshPlannerStatistics } from './schema';
import { SqliteEventStore } from './sqlite-event-store';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

const WAIT_MS = 5000;

describeEventStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'event-store-'));
  const db = openSqlite(join(dir, 'nested', 'ledger.db'));
  const store = new SqliteEventStore(db);
  return {
    store,
    idempotency: new SqliteIdempotencyStore(db),
    async cleanup() {
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

function newEvent(data: Record<string, unknown> = {}): NewEvent {
  return {
    type: 'ThingHappened',
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'system', id: 'sqlite-spec' },
      correlationId: 'corr',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

function idempotency(scope: string, extra: Record<string, unknown> = {}): IdempotencyWrite {
  return { scope, requestHash: `hash-of-${scope}`, status: 201, extra };
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out ${what}`)), WAIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes one event row from another OS process, through its own connection, as a foreign writer would. */
function appendFromChildProcess(file: string, stream: string): Promise<void> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 5000');
    const stream = process.argv[2];
    db.transaction(() => {
      const metadata = JSON.stringify({ eventId: 'child-1', prevHash: '0'.repeat(64), hash: 'f'.repeat(64) });
      const { lastInsertRowid } = db.prepare(
        "INSERT INTO events (stream, revision, event_id, type, schema_version, data, metadata, canonical, hash, recorded_at) " +
        "VALUES (?, 0, 'child-1', 'ChildWrote', 1, '{}', ?, '{}', ?, '2025-06-01T00:00:00.000Z')",
      ).run(stream, metadata, 'f'.repeat(64));
      db.prepare('INSERT INTO streams (stream, revision, last_hash, last_position) VALUES (?, 0, ?, ?)')
        .run(stream, 'f'.repeat(64), lastInsertRowid);
    })();
    db.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, file, stream], {
      cwd: join(__dirname, '..', '..', '..', '..'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`)),
    );
  });
}

describe('SqliteEventStore on a file', () => {
  let dir: string;
  let file: string;
  let db: Database;
  let store: SqliteEventStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'event-store-'));
    file = join(dir, 'ledger.db');
    db = openSqlite(file);
    store = new SqliteEventStore(db);
  });

  afterEach(async () => {
    await store.close();
    if (db.open) db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the shared pragmas', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('leaves WAL checkpoints to other connections below its walAutocheckpointPages mark', async () => {
    const payload = { text: 'x'.repeat(2000) };
    const fill = async (target: SqliteEventStore, stream: string) => {
      for (let batch = 0; batch < 10; batch++) {
        const events = Array.from({ length: 300 }, () => newEvent(payload));
        await target.append(stream, events, batch === 0 ? 'no_stream' : batch * 300 - 1);
      }
    };
    // ~6 MB of events: past SQLite's default mark of 1000 pages, so the default checkpoints into the file.
    await fill(store, 'defaults');
    const checkpointed = statSync(file).size;
    const other = join(dir, 'backstop.db');
    const backstop = SqliteEventStore.open(other, { walAutocheckpointPages: 100_000 });
    try {
      await fill(backstop, 'backstop');
      expect(statSync(other).size).toBeLessThan(checkpointed / 4);
      expect(statSync(`${other}-wal`).size).toBeGreaterThan(checkpointed / 2);
    } finally {
      await backstop.close();
    }
  });

  it('opened with open(), waits for a taken write lock without blocking the event loop', async () => {
    const own = SqliteEventStore.open(join(dir, 'own.db'));
    const holder = openSqlite(join(dir, 'own.db'));
    const ticks: number[] = [];
    const ticker = setInterval(() => ticks.push(Date.now()), 5);
    try {
      await own.append('warm-1', [newEvent()], 'no_stream');
      // Another connection (a projector's) holds the write lock; only a timer of this thread releases it.
      const released = holdWriteLockFor(holder, 60);
      const appended = own.append('waiting-1', [newEvent({ waited: true })], 'no_stream');
      const outcome = await Promise.allSettled([appended, released]);
      // A busy handler would have slept the thread until busy_timeout, then failed with SQLITE_BUSY.
      expect(outcome[0]).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 0 } });
      expect(ticks.length).toBeGreaterThanOrEqual(5);
      expect((await own.readStream('waiting-1'))[0].data).toEqual({ waited: true });
    } finally {
      clearInterval(ticker);
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
      await own.close();
    }
  }, 15_000);

  it('finds everything again after reopening the file, and appends on from there', async () => {
    await store.append('issue-1', [newEvent({ n: 1 }), newEvent({ n: 2 })], 'no_stream');
    await store.append('charge-1', [newEvent({ n: 3 })], 'no_stream');
    await store.close();
    db.close();

    const reopened = SqliteEventStore.open(file);
    try {
      const all = await reopened.readAll();
      expect(all.map((event) => [event.position, event.stream, event.revision, event.data])).toEqual([
        [1n, 'issue-1', 0, { n: 1 }],
        [2n, 'issue-1', 1, { n: 2 }],
        [3n, 'charge-1', 0, { n: 3 }],
      ]);
      expect(verifyStreamChain(all).ok).toBe(true);
      expect(await reopened.append('issue-1', [newEvent()], 1)).toEqual({
        stream: 'issue-1',
        nextExpectedRevision: 2,
        position: 4n,
      });
      expect(verifyStreamChain(await reopened.readStream('issue-1'))).toMatchObject({ ok: true, checked: 3 });
    } finally {
      await reopened.close();
    }
  });

  it('stores canonical JSON for data and metadata, so parsed events re-encode to the hashed bytes', async () => {
    await store.append('issue-1', [newEvent({ z: 1, a: { y: [1.5, 'é'], b: null } })], 'no_stream');
    const row = db.prepare('SELECT data, metadata, canonical, hash FROM events').get() as Record<
      string,
      string
    >;
    expect(row.data).toBe('{"a":{"b":null,"y":[1.5,"é"]},"z":1}');
    expect(JSON.parse(row.metadata).hash).toBe(row.hash);
    expect(row.canonical).toContain(`"data":${row.data}`);
  });

  it('keeps positions dense (ledger sequence = position - 1) when appends in a batch fail', async () => {
    const outcomes = await Promise.allSettled([
      store.append('a', [newEvent()], 'no_stream'),
      store.append('a', [newEvent()], 'no_stream'),
      store.append('b', [newEvent({ bad: Number.NaN })], 'any'),
      store.append('b', [newEvent(), newEvent()], 'any'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect((await store.readAll()).map((event) => event.position)).toEqual([1n, 2n, 3n]);
    expect(await store.headPosition()).toBe(3n);
  });

  it('group-commits concurrent appends in one transaction and acknowledges only committed events', async () => {
    const before = store.stats.commits;
    const reader = openSqlite(file);
    const visibleAtAck: number[] = [];
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          store.append(`stream-${index}`, [newEvent()], 'no_stream').then(() => {
            const row = reader.prepare('SELECT COUNT(*) AS count FROM events').get() as { count: number };
            visibleAtAck.push(row.count);
          }),
        ),
      );
    } finally {
      reader.close();
    }
    expect(store.stats.commits - before).toBe(1);
    expect(visibleAtAck).toEqual(Array.from({ length: 50 }, () => 50));
  });

  it('commits queued appends before close() resolves', async () => {
    const pending = Array.from({ length: 5 }, (_, index) =>
      store.append(`s-${index}`, [newEvent()], 'no_stream'),
    );
    await store.close();
    expect((await Promise.all(pending)).map((result) => result.position)).toEqual([1n, 2n, 3n, 4n, 5n]);
    await expect(store.append('late', [newEvent()], 'any')).rejects.toThrow(/closed/);
    const reopened = SqliteEventStore.open(file);
    try {
      expect(await reopened.headPosition()).toBe(5n);
    } finally {
      await reopened.close();
    }
  });

  it('treats the same ids with other content as a duplicate, not a replay', async () => {
    const event = newEvent({ amount: 100 });
    await store.append('charge-1', [event], 'no_stream');
    const altered = { ...event, data: { amount: 200 } };
    await expect(store.append('charge-1', [altered], 'no_stream')).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
    await expect(store.append('charge-1', [event, event], 'no_stream')).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
  });

  describe('idempotency records', () => {
    let records: SqliteIdempotencyStore;
    beforeEach(() => {
      records = new SqliteIdempotencyStore(db);
    });

    it('writes the record in the append transaction, completed with its result', async () => {
      const result = await store.append('issue-1', [newEvent(), newEvent()], 'no_stream', {
        idempotency: idempotency('s1', { issueId: 'is_1' }),
      });
      expect(await records.get('s1')).toEqual({
        scope: 's1',
        requestHash: 'hash-of-s1',
        status: 201,
        answer: {
          kind: 'outcome',
          stream: 'issue-1',
          revision: 1,
          position: result.position.toString(),
          extra: { issueId: 'is_1' },
          changed: true,
        },
        createdAt: '2025-06-01T12:00:01.000Z',
      });
    });

    it('rolls back the events when the record cannot be written, leaving the rest of the batch', async () => {
      await records.put({
        scope: 'taken',
        requestHash: 'h',
        status: 200,
        answer: { kind: 'body', body: '{}' },
        createdAt: 'then',
      });
      const outcomes = await Promise.allSettled([
        store.append('a', [newEvent()], 'no_stream', { idempotency: idempotency('fine-a') }),
        store.append('b', [newEvent()], 'no_stream', { idempotency: idempotency('taken') }),
        // JSON has no bigint: the record cannot be encoded.
        store.append('c', [newEvent()], 'no_stream', { idempotency: idempotency('broken', { n: 1n }) }),
        store.append('d', [newEvent()], 'no_stream', { idempotency: idempotency('fine-d') }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyScopeTakenError);
      expect((await store.readAll()).map((event) => event.stream)).toEqual(['a', 'd']);
      expect(await records.get('taken')).toMatchObject({
        requestHash: 'h',
        answer: { kind: 'body', body: '{}' },
      });
      expect(await records.get('broken')).toBeNull();
      expect(await records.get('fine-d')).toMatchObject({ answer: { stream: 'd', position: '2' } });
    });

    it('replays a record written before answers were kept as data, from its body text', async () => {
      db.prepare(
        `INSERT INTO idempotency (scope, request_hash, status, body, created_at)
         VALUES ('old', 'h', 201, '{"stream":"a","revision":0,"position":"1"}', 't')`,
      ).run();
      expect(await records.get('old')).toEqual({
        scope: 'old',
        requestHash: 'h',
        status: 201,
        answer: { kind: 'body', body: '{"stream":"a","revision":0,"position":"1"}' },
        createdAt: 't',
      });
    });
  });

  describe('planner statistics', () => {
    const analyzedTables = (handle: Database) =>
      ['sqlite_stat1', 'sqlite_stat4'].map((table) =>
        handle
          .prepare<[], { tbl: string }>(`SELECT DISTINCT tbl FROM ${table} ORDER BY tbl`)
          .all()
          .map((row) => row.tbl),
      );
    const fillSomeStreams = async () => {
      for (let n = 0; n < 40; n++) await store.append(`issue-${n % 8}`, [newEvent({ n })], 'any');
      db.exec(`CREATE TABLE rm_things (id TEXT PRIMARY KEY, status TEXT NOT NULL);
               CREATE INDEX rm_things_status ON rm_things (status);`);
      const insert = db.prepare('INSERT INTO rm_things (id, status) VALUES (?, ?)');
      for (let n = 0; n < 50; n++) insert.run(`t-${n}`, n % 3 === 0 ? 'open' : 'closed');
    };

    it('are gathered for every table but the event store own ones', async () => {
      await fillSomeStreams();
      refreshPlannerStatistics(db);
      const [stat1, stat4] = analyzedTables(db);
      expect(stat1).toContain('rm_things');
      // A bounded ANALYZE (analysis_limit) gathers no STAT4 samples, for any table.
      expect(stat4).toEqual([]);
      for (const table of EVENT_STORE_TABLES) {
        expect(stat1).not.toContain(table);
        expect(stat4).not.toContain(table);
      }
      expect(db.pragma('analysis_limit', { simple: true })).toBe(0);
    });

    it('left for the event store by an ANALYZE of the whole file are dropped when a store opens', async () => {
      await fillSomeStreams();
      db.exec('ANALYZE');
      expect(analyzedTables(db)[1]).toEqual(expect.arrayContaining(['events', 'rm_things']));
      const second = openSqlite(file);
      try {
        const reopened = new SqliteEventStore(second);
        const [stat1, stat4] = analyzedTables(second);
        expect(stat1).toEqual(['rm_things']);
        expect(stat4).toEqual(['rm_things']);
        expect(await reopened.readStream('issue-3')).toHaveLength(5);
        await reopened.close();
      } finally {
        second.close();
      }
    });
  });

  describe('subscriptions fed by other connections', () => {
    it('wakes on a commit by another process through PRAGMA data_version', async () => {
      await store.append('before', [newEvent()], 'no_stream');
      const subscription = store.subscribeToAll({ fromPosition: 1n });
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        const next = iterator.next();
        await appendFromChildProcess(file, 'child-stream');
        const delivered = await within(next, 'waiting for the child process commit');
        expect(delivered.value).toMatchObject({ stream: 'child-stream', type: 'ChildWrote', position: 2n });
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('wakes on a commit through a second connection in this process', async () => {
      const other = SqliteEventStore.open(file, { pollIntervalMs: 20 });
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        const next = iterator.next();
        const result = await other.append('elsewhere', [newEvent({ from: 'other' })], 'no_stream');
        const delivered = (await within(next, 'waiting for the other connection')).value as StoredEvent;
        expect(delivered).toMatchObject({
          stream: 'elsewhere',
          data: { from: 'other' },
          position: result.position,
        });
      } finally {
        await subscription.unsubscribe();
        await other.close();
      }
    });

    it('ends live subscriptions on close()', async () => {
      const subscription = store.subscribeToAll();
      const next = subscription[Symbol.asyncIterator]().next();
      await store.close();
      expect(await within(next, 'waiting for the end')).toEqual({ done: true, value: undefined });
    });

    it('shares the pages unfiltered subscriptions read: one query and one parse for all of them', async () => {
      const paged = new SqliteEventStore(db, { subscriptionPageSize: 4 });
      for (let n = 0; n < 10; n++) await paged.append(`thing-${n % 3}`, [newEvent({ n })], 'any');
      const take = async (subscription: ReturnType<SqliteEventStore['subscribeToAll']>, count: number) => {
        const iterator = subscription[Symbol.asyncIterator]();
        const seen: StoredEvent[] = [];
        while (seen.length < count)
          seen.push((await within(iterator.next(), 'shared page')).value as StoredEvent);
        return seen;
      };
      const first = paged.subscribeToAll();
      const second = paged.subscribeToAll({ fromPosition: 3n });
      const filtered = paged.subscribeToAll({ filter: { streamPrefixes: ['thing-'] } });
      try {
        const a = await take(first, 10);
        const b = await take(second, 7);
        const c = await take(filtered, 10);
        expect(a.map((event) => event.position)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
        expect(b.map((event) => event.position)).toEqual(a.slice(3).map((event) => event.position));
        b.forEach((event, index) => expect(event).toBe(a[index + 3]));
        // A filtered subscription reads its own pages.
        expect(c).toEqual(a);
        c.forEach((event, index) => expect(event).not.toBe(a[index]));
      } finally {
        await Promise.all([first, second, filtered].map((subscription) => subscription.unsubscribe()));
        await paged.close();
      }
    });

    it('pages through a long history, filtered, without skipping or repeating', async () => {
      const paged = new SqliteEventStore(db, { subscriptionPageSize: 7 });
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all([
          paged.append('keep-1', [newEvent({ batch }), newEvent({ batch })], 'any'),
          paged.append('drop-1', [newEvent(), newEvent(), newEvent()], 'any'),
        ]);
      }
      const subscription = paged.subscribeToAll({ filter: { streamPrefixes: ['keep-'] } });
      const iterator = subscription[Symbol.asyncIterator]();
      const seen: number[] = [];
      try {
        while (seen.length < 20) {
          const { value } = await within(iterator.next(), 'paging');
          seen.push((value as StoredEvent).revision);
        }
        const next = iterator.next();
        await paged.append('keep-1', [newEvent()], 19);
        expect(((await within(next, 'live after paging')).value as StoredEvent).revision).toBe(20);
      } finally {
        await subscription.unsubscribe();
        await paged.close();
      }
      expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => index));
    });
  });
});
