import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite } from '@app/event-store';
import { LeaseLostError } from '@app/ledger';
import { describeLeaseStoreContract } from '../contract/lease-store.contract';
import { SqliteLeaseStore } from './sqlite-lease-store';

describeLeaseStoreContract('SQLite', async (now) => {
  const dir = mkdtempSync(join(tmpdir(), 'lease-contract-'));
  const file = join(dir, 'ledger.db');
  const handles = [openSqlite(file)];
  return {
    store: new SqliteLeaseStore(handles[0], { now }),
    async reopen() {
      const handle = openSqlite(file);
      handles.push(handle);
      return new SqliteLeaseStore(handle, { now });
    },
    async cleanup() {
      for (const handle of handles) handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteLeaseStore.checkHeld (the fence in a commit transaction)', () => {
  let dir: string;
  let db: Database;
  let clock: number;
  let store: SqliteLeaseStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lease-fence-'));
    db = openSqlite(join(dir, 'ledger.db'));
    clock = 1000;
    store = new SqliteLeaseStore(db, { now: () => clock });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes for the current token, even past the expiry while nobody took over', async () => {
    const lease = (await store.acquire('timeline', 'a', 100))!;
    expect(() => store.checkHeld('timeline', lease.token)).not.toThrow();
    clock += 1000;
    expect(() => store.checkHeld('timeline', lease.token)).not.toThrow();
  });

  it('refuses an old token after a takeover, no token at all, and a lease never taken', async () => {
    const first = (await store.acquire('timeline', 'a', 100))!;
    clock += 100;
    await store.acquire('timeline', 'b', 100);
    expect(() => store.checkHeld('timeline', first.token)).toThrow(LeaseLostError);
    expect(() => store.checkHeld('timeline', undefined)).toThrow(LeaseLostError);
    expect(() => store.checkHeld('metrics', 1n)).toThrow(LeaseLostError);
  });
});
