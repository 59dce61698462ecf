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
