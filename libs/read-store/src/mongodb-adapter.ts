import type { MongoProbeOptions, MongoProbeResult } from './mongodb/mongo-probe';
import type { MongoStores, MongoStoresOptions } from './mongodb/mongo-stores';
import type { MongoReadModelStore, MongoReadModelStoreOptions } from './mongodb/mongo-read-model-store';

export type { MongoStores, MongoStoresOptions } from './mongodb/mongo-stores';
export type { MongoApiKeyStore, MongoApiKeyStoreOptions } from './mongodb/mongo-api-key-store';
export type { MongoIdempotencyStore } from './mongodb/mongo-idempotency-store';
export type { MongoDigestStore } from './mongodb/mongo-digest-store';
export type { MongoProbeOptions, MongoProbeResult, MongoStartupError } from './mongodb/mongo-probe';
export type {
  DocumentPositionGuardError,
  MongoReadModelStore,
  MongoReadModelStoreOptions,
} from './mongodb/mongo-read-model-store';

/**
 * The MongoDB read-model store on a connection string. The adapter, and the `mongodb` driver with it, is
 * loaded on the first call only: this library's index never loads the driver, so a ledger on the embedded
 * store (and each of its threads) runs without it.
 */
export function openMongoReadModelStore(
  uri: string,
  options?: MongoReadModelStoreOptions & { databaseName?: string },
): MongoReadModelStore {
  return readModelModule().MongoReadModelStore.fromConnectionString(uri, options);
}

/** The read-model, idempotency, API-key and digest stores on one client; loads the driver on the first call. */
export function openMongoStores(uri: string, options?: MongoStoresOptions): MongoStores {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const stores = require('./mongodb/mongo-stores') as typeof import('./mongodb/mongo-stores');
  return stores.openMongoStores(uri, options);
}

type ProbeModule = typeof import('./mongodb/mongo-probe');
type ReadModelModule = typeof import('./mongodb/mongo-read-model-store');

function readModelModule(): ReadModelModule {
  // A require, not import(): this library is CommonJS (as in libs/event-store/src/eventstoredb-adapter.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./mongodb/mongo-read-model-store') as ReadModelModule;
}

/**
 * Checks, before anything else opens it, that the MongoDB server is reachable and a replica set member:
 * rejects with MongoStartupError within 10 s, naming MongoDB and the hosts, never the credentials.
 */
export async function probeMongoServer(uri: string, options?: MongoProbeOptions): Promise<MongoProbeResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const probe = require('./mongodb/mongo-probe') as ProbeModule;
  return probe.probeMongo(uri, options);
}
