import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from '@app/event-store';
import type { ApiKeyRecord } from '@app/ledger';
import { holdWriteLockFor } from '@app/testing';
import { describeApiKeyStoreContract } from '../contract/api-key-store.contract';
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

describeApiKeyStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-key-contract-'));
  const file = join(dir, 'ledger.db');
  const handles = [openSqlite(file)];
  return {
    store: new SqliteApiKeyStore(handles[0]),
    async reopen() {
      const handle = openSqlite(file);
      handles.push(handle);
      return new SqliteApiKeyStore(handle);
    },
    async cleanup() {
      for (const handle of handles) handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteApiKeyStore', () => {
  let db: Database.Database;
  let store: SqliteApiKeyStore;

  beforeEach(() => {
    db = new Database(':memory:');
    store = new SqliteApiKeyStore(db);
  });
  afterEach(() => db.close());

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
