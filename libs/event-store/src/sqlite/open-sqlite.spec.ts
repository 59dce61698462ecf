import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { holdWriteLockFor } from '@app/testing';
import { openSqlite, writeWithoutSleeping } from './open-sqlite';
import { SqliteDigestStore } from './sqlite-digest-store';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

describe('writes on the request thread while another connection holds the write lock', () => {
  let dir: string;
  let db: Database;
  let holder: Database;
  let ticks: number;
  let ticker: NodeJS.Timeout;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'open-sqlite-'));
    db = openSqlite(join(dir, 'ledger.db'));
    holder = openSqlite(join(dir, 'ledger.db'));
    db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    ticks = 0;
    ticker = setInterval(() => ticks++, 5);
  });

  afterEach(async () => {
    clearInterval(ticker);
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const holdLockFor = (ms: number) => holdWriteLockFor(holder, ms);

  it('wait from timers, so that the event loop runs on, and keep the connection busy_timeout', async () => {
    const released = holdLockFor(60);
    const [written] = await Promise.allSettled([
      writeWithoutSleeping(db, () => db.prepare("INSERT INTO things (name) VALUES ('first')").run()),
      released,
    ]);
    // Sleeping in SQLite's busy handler would have kept the timer from releasing the lock: SQLITE_BUSY.
    expect(written).toMatchObject({ status: 'fulfilled', value: { changes: 1 } });
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(db.prepare('SELECT name FROM things').pluck().all()).toEqual(['first']);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  }, 15_000);

  it('throw other errors at once', async () => {
    // Not toThrow: errors from better-sqlite3's native code are of the realm that first loaded it, which
    // in a jest worker running several files need not be this file's (their `instanceof Error` is false).
    await expect(
      writeWithoutSleeping(db, () => db.exec('INSERT INTO nowhere VALUES (1)')),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/no such table/),
    });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('store idempotency answers and digests that way', async () => {
    const idempotency = new SqliteIdempotencyStore(db);
    const digests = new SqliteDigestStore(db);
    const released = holdLockFor(40);
    const [stored, saved] = await Promise.allSettled([
      idempotency.put({
        scope: 's-1',
        requestHash: 'h',
        status: 409,
        answer: { kind: 'problem', problem: {} },
        createdAt: '2026-01-01T00:00:00.000Z',
      }),
      digests.saveDigest({
        treeSize: 3,
        rootHash: 'ab'.repeat(32),
        createdAt: '2026-01-01T00:00:00.000Z',
        signature: 'c2ln',
        publicKey: 'key',
        algorithm: 'Ed25519',
      }),
      released,
    ]);
    expect(stored).toMatchObject({ status: 'fulfilled', value: true });
    expect(saved).toMatchObject({ status: 'fulfilled', value: { treeSize: 3 } });
    expect((await idempotency.get('s-1'))?.status).toBe(409);
  }, 15_000);
});
