import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, RebuildInProgressError, UnknownProjectionError } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import type { FromProjector, ProjectorThreadData, ToProjector } from './messages';

// The projector thread of the embedded profile: its own SQLite connection, so that projection and rebuild
// work never blocks the request thread (better-sqlite3 is synchronous).
const port = parentPort!;
const { file, batchSize } = workerData as ProjectorThreadData;
const send = (message: FromProjector) => port.postMessage(message);

async function main(): Promise<void> {
  const db = openSqlite(file);
  const eventStore = new SqliteEventStore(db);
  const store = new SqliteReadModelStore(db);
  const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS, {
    batchSize,
    onStatus: (status) => send({ type: 'status', status }),
    onRebuildProgress: (progress) => send({ type: 'rebuild-progress', progress }),
  });
  port.on('message', (message: ToProjector) => {
    switch (message.type) {
      case 'committed':
        eventStore.wake();
        return;
      case 'retry':
        try {
          host.retry(message.name);
        } catch {
          // An unknown name: the main thread validated it; nothing to retry.
        }
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
  await host.start();
  send({ type: 'ready', statuses: host.statuses() });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
