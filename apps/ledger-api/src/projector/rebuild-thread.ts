import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, type ReadModelStore, type StagedReadModels } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import type { FromRebuildThread, RebuildThreadData } from './parallel-rebuild';

// One thread of a parallel rebuild: its own connection, its share of the projections, one pass over the
// events. Its writes take the write lock only while holding the threads' shared mutex, so that the threads
// hand the lock over at once instead of backing off in SQLite's busy handler.
const { file, names, batchSize, lock } = workerData as RebuildThreadData;
const mutex = new Int32Array(lock);
const send = (message: FromRebuildThread) => parentPort!.postMessage(message);

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` holding the mutex. Calls of this thread are queued first (a rebuild stages its projections
 * concurrently): a second acquire from the thread that holds the mutex would wait for itself forever.
 */
function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(async () => {
    while (Atomics.compareExchange(mutex, 0, 0, 1) !== 0) Atomics.wait(mutex, 0, 1, 100);
    try {
      return await work();
    } finally {
      Atomics.store(mutex, 0, 0);
      Atomics.notify(mutex, 0, 1);
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

function lockedStage(staged: StagedReadModels): StagedReadModels {
  return {
    projection: staged.projection,
    checkpoint: (projection) => staged.checkpoint(projection),
    get: (collection, id) => staged.get(collection, id),
    getMany: (collection, ids) => staged.getMany(collection, ids),
    list: (collection, query) => staged.list(collection, query),
    scan: (collection, query) => staged.scan(collection, query),
    commit: (projection, from, to, changes) =>
      exclusively(() => staged.commit(projection, from, to, changes)),
    promote: () => exclusively(() => staged.promote()),
    discard: () => exclusively(() => staged.discard()),
  };
}

async function main(): Promise<void> {
  const db = openSqlite(file);
  const eventStore = new SqliteEventStore(db);
  const store = new SqliteReadModelStore(db);
  const locked: ReadModelStore = {
    ensureCollections: (specs) => exclusively(() => store.ensureCollections(specs)),
    checkpoint: (projection) => store.checkpoint(projection),
    commit: (projection, from, to, changes) => exclusively(() => store.commit(projection, from, to, changes)),
    commitTogether: (commits) => exclusively(() => store.commitTogether(commits)),
    get: (collection, id) => store.get(collection, id),
    getMany: (collection, ids) => store.getMany(collection, ids),
    list: (collection, query) => store.list(collection, query),
    scan: (collection, query) => store.scan(collection, query),
    stage: async (projection, specs) => lockedStage(await exclusively(() => store.stage(projection, specs))),
    close: () => store.close(),
  };
  try {
    const projections = ALL_PROJECTIONS.filter((projection) => names.includes(projection.name));
    const host = new ProjectorHost(eventStore, locked, projections, { batchSize });
    let last = 0;
    const report = await host.rebuildAll((progress) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      send({ type: 'progress', applied: progress.applied, position: progress.position.toString() });
    });
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
