import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, type EventStore, type ProjectionStatus } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import type { LedgerConfig } from '../config';
import { connectEventStoreDb } from '../eventstoredb/eventstoredb-ledger';
import { sqliteLedgerFile } from '../open-ledger';
import { Resources } from '../resources';

export interface StandaloneProjector {
  /** How many projections it runs. */
  projections: number;
  /** Stops the projections (each finishes its batch), then closes the store. */
  close(): Promise<void>;
}

/**
 * The projector on its own process (apps/ledger-projector): every projection on one connection to the
 * ledger's file, in this thread; the events are the file's own, or read from EventStoreDB when
 * EVENTSTORE_CONNECTION_STRING is set. Checkpoints live with the read models, so it and an API's projector
 * thread on the same file never apply a batch twice (the losing commit re-reads and resumes).
 */
export async function startStandaloneProjector(
  config: LedgerConfig,
  options: { onStatus?: (status: ProjectionStatus) => void } = {},
): Promise<StandaloneProjector> {
  const file = sqliteLedgerFile(config);
  const connectionString = config.eventStoreConnectionString;
  const resources = new Resources();
  try {
    const remote = connectionString === undefined ? undefined : await connectEventStoreDb(connectionString);
    if (remote) resources.add('the EventStoreDB client', remote, (store) => store.close());
    const db = resources.add('the ledger connection', openSqlite(file), (connection) => {
      if (connection.open) connection.close();
    });
    const eventStore: EventStore =
      remote ?? resources.add('the event store', new SqliteEventStore(db), (store) => store.close());
    const store = resources.add('the read models', new SqliteReadModelStore(db), (models) => models.close());
    const host = resources.add(
      'the projections',
      new ProjectorHost(eventStore, store, ALL_PROJECTIONS, { onStatus: options.onStatus }),
      (projector) => projector.stop(),
    );
    await host.start();
    return { projections: ALL_PROJECTIONS.length, close: () => resources.close() };
  } catch (error) {
    return resources.abandon(error);
  }
}
