import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import type { FromRebuildThread, RebuildThreadData } from './parallel-rebuild';
import { nameThisThread, THREAD_NAMES } from '../thread-name';

// One thread of a parallel rebuild: its own connection, its share of the projections, one pass over the
// events. Its write transactions run holding the threads' shared mutex, so that the threads hand SQLite's
// write lock over at once instead of backing off in its busy handler; documents are serialised before.
const { file, names, batchSize, lock } = workerData as RebuildThreadData;
const mutex = new Int32Array(lock);
const send = (message: FromRebuildThread) => parentPort!.postMessage(message);
nameThisThread(THREAD_NAMES.rebuild);

/** Runs `work` holding the mutex (blocking this thread while the other holds it: it has nothing else to do). */
function exclusively<T>(work: () => T): T {
  while (Atomics.compareExchange(mutex, 0, 0, 1) !== 0) Atomics.wait(mutex, 0, 1, 100);
  try {
    return work();
  } finally {
    Atomics.store(mutex, 0, 0);
    Atomics.notify(mutex, 0, 1);
  }
}

async function main(): Promise<void> {
  const db = openSqlite(file);
  const eventStore = new SqliteEventStore(db);
  const store = new SqliteReadModelStore(db, { writeLock: exclusively });
  try {
    const projections = ALL_PROJECTIONS.filter((projection) => names.includes(projection.name));
    const host = new ProjectorHost(eventStore, store, projections, { batchSize });
    let last = 0;
    const report = await host.rebuildAll(
      (progress) => {
        const now = Date.now();
        if (now - last < 200) return;
        last = now;
        send({ type: 'progress', applied: progress.applied, position: progress.position.toString() });
      },
      // While the other thread writes, go on with the next batch: its documents are held meanwhile.
      { mayFlush: () => Atomics.load(mutex, 0) === 0 },
    );
    send({ type: 'done', applied: report.applied });
  } finally {
    await eventStore.close();
    await store.close();
    db.close();
  }
}

main().catch((error: unknown) =>
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
