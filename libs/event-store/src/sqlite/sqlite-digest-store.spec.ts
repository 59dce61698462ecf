import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDigestStoreContract } from '../contract/digest-store.contract';
import { openSqlite } from './open-sqlite';
import { SqliteDigestStore } from './sqlite-digest-store';

describeDigestStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'digest-store-'));
  const store = new SqliteDigestStore(openSqlite(join(dir, 'ledger.db')), { owned: true });
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
