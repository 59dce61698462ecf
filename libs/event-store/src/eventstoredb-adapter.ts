import type {
  EventStoreDbEventStore,
  EventStoreDbEventStoreOptions,
} from './eventstoredb/eventstoredb-event-store';

export type {
  EventStoreCapabilities,
  EventStoreDbEventStore,
  EventStoreDbEventStoreOptions,
} from './eventstoredb/eventstoredb-event-store';

/**
 * The EventStoreDB adapter on a connection string. The adapter, and @eventstore/db-client with it, is loaded
 * on the first call only: this library's index never loads the client, so a ledger on the embedded store
 * (and each of its threads) runs without it.
 */
export async function openEventStoreDbEventStore(
  connectionString: string,
  options?: EventStoreDbEventStoreOptions,
): Promise<EventStoreDbEventStore> {
  // A require, not import(): this library is CommonJS (as in libs/ledger/src/http-entry.ts).
  type Adapter = typeof import('./eventstoredb/eventstoredb-event-store');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const adapter = require('./eventstoredb/eventstoredb-event-store') as Adapter;
  return adapter.EventStoreDbEventStore.fromConnectionString(connectionString, options);
}
