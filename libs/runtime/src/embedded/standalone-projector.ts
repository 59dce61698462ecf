import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, type EventStore, type ProjectionStatus } from '@app/ledger';
import { SqliteLeaseStore, SqliteReadModelStore } from '@app/read-store';
import type { LedgerConfig } from '../config';
import { connectEventStoreDb } from '../eventstoredb/eventstoredb-ledger';
import { sqliteLedgerFile } from '../open-ledger';
import { Resources } from '../resources';
import {
  DEFAULT_LEASE_TIMING,
  leaseGuard,
  projectorHolderId,
  type ProjectorLeaseSettings,
} from './projector-leases';

export interface StandaloneProjector {
  /** How many projections it may run (those whose lease it holds at a time). */
  projections: number;
  /** This instance's holder id in the lease table. */
  holder: string;
  /** Stops the projections (each finishes its batch), then closes the store. */
  close(): Promise<void>;
}

/**
 * The projector on its own process (apps/ledger-projector): every projection on one connection to the
 * ledger's file, in this thread; the events are the file's own, or read from EventStoreDB when
 * EVENTSTORE_CONNECTION_STRING is set. Checkpoints live with the read models, so it and an API's projector
 * thread on the same file never apply a batch twice (the losing commit re-reads and resumes). Several of
 * these share the projections through leases in the ledger file (docs/projections.md "Leases"): each runs
 * the ones whose lease it holds, and every commit checks the lease's token in its own transaction.
 */
export async function startStandaloneProjector(
  config: LedgerConfig,
  options: {
    onStatus?: (status: ProjectionStatus) => void;
    leases?: Partial<ProjectorLeaseSettings>;
    onLease?: (event: { projection: string; held: boolean; token: bigint }) => void;
  } = {},
): Promise<StandaloneProjector> {
  const holder = projectorHolderId();
  const settings = { ...DEFAULT_LEASE_TIMING, commitLog: false, ...options.leases };
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
    const leases = new SqliteLeaseStore(db);
    // The store's guard asks the host for its tokens; the host needs the store first.
    const built: { host?: ProjectorHost } = {};
    const guard = leaseGuard(db, leases, () => built.host, holder, settings.commitLog);
    const store = resources.add('the read models', new SqliteReadModelStore(db, { guard }), (models) =>
      models.close(),
    );
    const host = (built.host = resources.add(
      'the projections',
      new ProjectorHost(eventStore, store, ALL_PROJECTIONS, {
        onStatus: options.onStatus,
        leases: {
          store: leases,
          holder,
          ttlMs: settings.ttlMs,
          renewMs: settings.renewMs,
          onChange: options.onLease,
        },
      }),
      (projector) => projector.stop(),
    ));
    await host.start();
    return { projections: ALL_PROJECTIONS.length, holder, close: () => resources.close() };
  } catch (error) {
    return resources.abandon(error);
  }
}
