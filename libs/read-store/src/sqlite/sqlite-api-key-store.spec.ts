import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from '@app/event-store';
import type { ApiKeyRecord } from '@app/ledger';
import { holdWriteLockFor } from '@app/testing';
import { SqliteApiKeyStore } from './sqlite-api-key-store';

const record = (id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id,
  name: `key ${id}`,
  roles: ['agent', 'auditor'],
  secretHash: `hash-of-${id}`,
  createdAt: '2025-01-02T03:04:05.000Z',
  revokedAt: null,
  ...overrides,
});

describe('SqliteApiKeyStore', () => {
  let db: Database.Database;
  let store: SqliteApiKeyStore;

  beforeEach(() => {
    db = new Database(':memory:');
    store = new SqliteApiKeyStore(db);
  });
  afterEach(() => db.close());

  it('starts empty', async () => {
    expect(await store.count()).toBe(0);
    expect(await store.list()).toEqual([]);
    expect(await store.findBySecretHash('nothing')).toBeNull();
  });

  it('finds an inserted key by its secret hash, roles and all', async () => {
    await store.insert(record('k1'));
    expect(await store.findBySecretHash('hash-of-k1')).toEqual(record('k1'));
    expect(await store.count()).toBe(1);
  });

  it('lists keys in creation order', async () => {
    await store.insert(record('k2', { createdAt: '2025-01-03T00:00:00.000Z' }));
    await store.insert(record('k1', { createdAt: '2025-01-01T00:00:00.000Z' }));
    expect((await store.list()).map((key) => key.id)).toEqual(['k1', 'k2']);
  });

  it('revokes a live key once', async () => {
    await store.insert(record('k1'));
    expect(await store.revoke('k1', '2025-02-01T00:00:00.000Z')).toBe(true);
    expect(await store.revoke('k1', '2025-03-01T00:00:00.000Z')).toBe(false);
    expect(await store.findBySecretHash('hash-of-k1')).toEqual(
      record('k1', { revokedAt: '2025-02-01T00:00:00.000Z' }),
    );
  });

  it('reports an unknown id as not revoked', async () => {
    expect(await store.revoke('missing', '2025-02-01T00:00:00.000Z')).toBe(false);
  });

  it('refuses a duplicate id or secret hash', async () => {
    // SqliteError comes from the native addon's realm, so match its fields rather than use toThrow.
    const constraintError = { code: expect.stringMatching(/^SQLITE_CONSTRAINT/) };
    await store.insert(record('k1'));
    await expect(store.insert(record('k1', { secretHash: 'other' }))).rejects.toMatchObject(constraintError);
    await expect(store.insert(record('k2', { secretHash: 'hash-of-k1' }))).rejects.toMatchObject(
      constraintError,
    );
    expect(await store.count()).toBe(1);
  });

  it('keeps keys in the file across reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-key-store-'));
    try {
      const file = join(dir, 'ledger.db');
      const first = new Database(file);
      await new SqliteApiKeyStore(first).insert(record('k1'));
      first.close();
      const second = new Database(file);
      expect(await new SqliteApiKeyStore(second).list()).toEqual([record('k1')]);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates and revokes keys while another connection commits, without sleeping the thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    const file = join(dir, 'ledger.db');
    const own = openSqlite(file);
    const holder = openSqlite(file);
    const onFile = new SqliteApiKeyStore(own);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const holdLockFor = (ms: number) => holdWriteLockFor(holder, ms);
    try {
      // Only a timer of this thread ends the other connection's transaction: a busy handler would sleep
      // through it and fail with SQLITE_BUSY.
      let released = holdLockFor(40);
      const [inserted] = await Promise.allSettled([onFile.insert(record('k1')), released]);
      expect(inserted.status).toBe('fulfilled');
      released = holdLockFor(40);
      const [revoked] = await Promise.allSettled([onFile.revoke('k1', '2025-02-01T00:00:00.000Z'), released]);
      expect(revoked).toMatchObject({ status: 'fulfilled', value: true });
      expect(ticks).toBeGreaterThanOrEqual(8);
      expect((await onFile.findBySecretHash('hash-of-k1'))?.revokedAt).toBe('2025-02-01T00:00:00.000Z');
    } finally {
      clearInterval(ticker);
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
      own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
