import { parentPort, workerData } from 'node:worker_threads';
import {
  BACKSTOP_AUTOCHECKPOINT_PAGES,
  openEventStoreDbEventStore,
  openSqlite,
  refreshPlannerStatistics,
  SqliteEventStore,
  WalCheckpointer,
} from '@app/event-store';
import {
  ALL_PROJECTIONS,
  ProjectorHost,
  RebuildInProgressError,
  UnknownProjectionError,
  type EventStore,
  type ProjectionStatus,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import type { FromProjector, ProjectorThreadData, ToProjector } from './messages';
import { nameThisThread, THREAD_NAMES } from '../thread-name';

// The projector thread of ledger-api: its own SQLite connection, so that projection and rebuild work never
// blocks the request thread (better-sqlite3 is synchronous). In the EventStoreDB profile it reads the
// events through a client of its own, over the EventStore port, and writes the read models here.
const port = parentPort!;
const { file, batchSize, eventStoreConnectionString } = workerData as ProjectorThreadData;
const send = (message: FromProjector) => port.postMessage(message);
nameThisThread(THREAD_NAMES.projector);
const STATISTICS_INTERVAL_MS = 10 * 60 * 1000;

// Statuses change after every batch of every projection: the latest of each is sent once per turn of the
// event loop, which is as fresh as a minPosition wait can use.
const queuedStatuses = new Map<string, ProjectionStatus>();
function queueStatus(status: ProjectionStatus): void {
  if (queuedStatuses.size === 0) {
    setImmediate(() => {
      for (const queued of queuedStatuses.values()) send({ type: 'status', status: queued });
      queuedStatuses.clear();
    });
  }
  queuedStatuses.set(status.name, status);
}

let statistics: NodeJS.Timeout | undefined;
/** Settles once main() has started the projections, or failed to: a stop waits for it. */
let startupDone!: () => void;
const startup = new Promise<void>((resolve) => (startupDone = resolve));

async function main(): Promise<void> {
  const db = openSqlite(file);
  // Read models are derived: after a power loss the last projector transactions may roll back, checkpoint
  // included, and are simply applied again. So this connection does not wait for an fsync per batch.
  db.pragma('synchronous = NORMAL');
  // Each projection's commit is a SAVEPOINT of the batch's transaction, whose rollback journal SQLite
  // otherwise spills past 64 KiB to a temporary file: 7% of this thread's CPU went to those writes.
  db.pragma('temp_store = MEMORY');
  // The WAL is checkpointed here, on a timer rather than inside this connection's commits, and restarted
  // under steady load (docs/storage.md, "Checkpoints").
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = WalCheckpointer.start(db, {
    onError: (error) => process.stderr.write(`projector: WAL checkpoint failed: ${String(error)}\n`),
  });
  // Embedded: the events of the same file, on this connection; a commit of the main thread wakes it.
  let sqliteEvents: SqliteEventStore | undefined;
  let eventStore: EventStore;
  if (eventStoreConnectionString === undefined) eventStore = sqliteEvents = new SqliteEventStore(db);
  else eventStore = await openEventStoreDbEventStore(eventStoreConnectionString);
  const store = new SqliteReadModelStore(db);
  const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS, {
    batchSize,
    onStatus: (status) => queueStatus(status),
    onRebuildProgress: (progress) => send({ type: 'rebuild-progress', progress }),
  });
  port.on('message', (message: ToProjector) => {
    switch (message.type) {
      case 'committed':
        sqliteEvents?.wake();
        return;
      case 'retry':
        // An unknown name was refused by the main thread already; nothing else can fail here.
        host.retry(message.name).catch(() => undefined);
        return;
      case 'rebuild':
        host.rebuild(message.name, { compare: message.compare }).then(
          (report) => send({ type: 'rebuild-done', id: message.id, report }),
          (error: unknown) =>
            send({
              type: 'rebuild-failed',
              id: message.id,
              kind:
                error instanceof UnknownProjectionError
                  ? 'unknown'
                  : error instanceof RebuildInProgressError
                    ? 'in-progress'
                    : 'error',
              message: error instanceof Error ? error.message : String(error),
            }),
        );
        return;
      case 'stop':
        void (async () => {
          // A restarted thread can be told to stop while it starts: not before that is over.
          await startup;
          clearInterval(statistics);
          checkpointer.stop();
          await host.stop();
          await eventStore.close();
          await store.close();
          db.close();
          send({ type: 'stopped' });
          port.close();
        })();
        return;
    }
  });
  try {
    await start(host, db);
  } finally {
    startupDone();
  }
  send({ type: 'ready', statuses: host.statuses() });
}

async function start(host: ProjectorHost, db: ReturnType<typeof openSqlite>): Promise<void> {
  await host.start();
  // Planner statistics of the read models (not of the event store's tables), gathered at start and
  // refreshed every 10 minutes. The write lock held past busy_timeout (another process's long rebuild)
  // leaves them as they are until the next time.
  const refreshStatistics = () => {
    try {
      refreshPlannerStatistics(db);
    } catch (error) {
      process.stderr.write(`projector: planner statistics not refreshed: ${String(error)}\n`);
    }
  };
  refreshStatistics();
  statistics = setInterval(refreshStatistics, STATISTICS_INTERVAL_MS).unref();
}

main().catch((error: unknown) => {
  startupDone();
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
