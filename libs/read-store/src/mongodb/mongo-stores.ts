import { MongoClient } from 'mongodb';
import { MongoApiKeyStore, type MongoApiKeyStoreOptions } from './mongo-api-key-store';
import { MongoDigestStore } from './mongo-digest-store';
import { MongoIdempotencyStore } from './mongo-idempotency-store';
import { MongoReadModelStore, type MongoReadModelStoreOptions } from './mongo-read-model-store';

export interface MongoStoresOptions {
  /** The database; the connection string's when omitted. */
  databaseName?: string;
  readModels?: MongoReadModelStoreOptions;
  apiKeys?: MongoApiKeyStoreOptions;
}

/** The MongoDB adapters on one client (one connection pool), closed together. */
export interface MongoStores {
  readModels: MongoReadModelStore;
  idempotency: MongoIdempotencyStore;
  apiKeys: MongoApiKeyStore;
  digests: MongoDigestStore;
  close(): Promise<void>;
}

export function openMongoStores(uri: string, options: MongoStoresOptions = {}): MongoStores {
  // 64-bit positions come back as bigint; `undefined` fields are left out rather than written as null.
  const client = new MongoClient(uri, { useBigInt64: true, ignoreUndefined: true });
  const db = client.db(options.databaseName);
  const readModels = new MongoReadModelStore(client, options.databaseName, options.readModels);
  return {
    readModels,
    idempotency: new MongoIdempotencyStore(db),
    apiKeys: new MongoApiKeyStore(db, options.apiKeys),
    digests: new MongoDigestStore(client, db),
    async close() {
      await readModels.close();
      await client.close();
    },
  };
}
