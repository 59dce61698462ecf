import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describeIdempotencyStoreContract } from '@app/event-store';
// The digest contract is imported by its file, as the SQLite spec does: it needs fast-check, a dev
// dependency that the event-store index must not load.
import { describeDigestStoreContract } from '../../../event-store/src/contract/digest-store.contract';
import { describeApiKeyStoreContract } from '../contract/api-key-store.contract';
import { describeReadModelStoreContract } from '../contract/read-model-store.contract';
import { MongoApiKeyStore } from './mongo-api-key-store';
import { MongoDigestStore } from './mongo-digest-store';
import { MongoIdempotencyStore } from './mongo-idempotency-store';
import { MongoReadModelStore } from './mongo-read-model-store';

const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the MongoDB contract suites';

/**
 * A database of its own for suites whose names are fixed (idempotency scopes, API keys), dropped at
 * cleanup; `reopen` is another client on it, as another process would open it.
 */
async function isolatedDatabase(connectionString: string) {
  const name = `ledger_contract_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const clients: MongoClient[] = [];
  const connect = () => {
    const client = new MongoClient(connectionString, { useBigInt64: true });
    clients.push(client);
    return client;
  };
  const open = async () => connect().db(name);
  const client = connect();
  const db = client.db(name);
  return {
    client,
    db,
    open,
    async cleanup() {
      await db.dropDatabase();
      for (const client of clients) await client.close();
    },
  };
}

if (uri) {
  describeReadModelStoreContract('MongoDB (MONGODB_URI)', async () => {
    // Collection and projection names are unique per test, so one database serves every run.
    const stores: MongoReadModelStore[] = [];
    const open = () => {
      const store = MongoReadModelStore.fromConnectionString(uri, {
        databaseName: 'ledger_contract',
        scanPageSize: 300,
      });
      stores.push(store);
      return store;
    };
    return {
      store: open(),
      openPeer: async () => open(),
      async cleanup() {
        for (const store of stores) await store.close();
      },
    };
  });

  describeIdempotencyStoreContract('MongoDB (MONGODB_URI)', async () => {
    const storage = await isolatedDatabase(uri);
    return {
      store: new MongoIdempotencyStore(storage.db),
      reopen: async () => new MongoIdempotencyStore(await storage.open()),
      cleanup: () => storage.cleanup(),
    };
  });

  describeApiKeyStoreContract('MongoDB (MONGODB_URI)', async () => {
    const storage = await isolatedDatabase(uri);
    return {
      store: new MongoApiKeyStore(storage.db),
      reopen: async () => new MongoApiKeyStore(await storage.open()),
      cleanup: () => storage.cleanup(),
    };
  });

  describeDigestStoreContract('MongoDB (MONGODB_URI)', async () => {
    const storage = await isolatedDatabase(uri);
    return { store: new MongoDigestStore(storage.client, storage.db), cleanup: () => storage.cleanup() };
  });
} else {
  // No MongoDB server can run here by default: say so in one line rather than skip silently.
  describe('MongoDB contract suites (read models, idempotency, API keys, digests)', () => {
    it(SKIPPED, () => {
      process.stdout.write(`${SKIPPED}\n`);
    });
  });
}
