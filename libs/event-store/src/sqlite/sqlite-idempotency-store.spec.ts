import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIdempotencyStoreContract } from '../contract/idempotency-store.contract';
import { openSqlite } from './open-sqlite';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

describeIdempotencyStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idempotency-contract-'));
  const file = join(dir, 'ledger.db');
  const handles = [openSqlite(file)];
  return {
    store: new SqliteIdempotencyStore(handles[0]),
    async reopen() {
      const handle = openSqlite(file);
      handles.push(handle);
      return new SqliteIdempotencyStore(handle);
    },
    async cleanup() {
      for (const handle of handles) handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteIdempotencyStore', () => {
  it('commits claims without an fsync, leaving the shared connection fsyncing every other commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idempotency-claims-'));
    const db = openSqlite(join(dir, 'ledger.db'));
    try {
      const store = new SqliteIdempotencyStore(db);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      const claim = { scope: 's', holder: 'h', expiresAt: '2026-01-01T00:00:30.000Z' };
      expect(await store.claim(claim, '2026-01-01T00:00:00.000Z')).toBe(true);
      await store.release('s', 'h');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
