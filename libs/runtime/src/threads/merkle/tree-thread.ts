import { parentPort, workerData } from 'node:worker_threads';
import {
  BACKSTOP_AUTOCHECKPOINT_PAGES,
  openEventStoreDbEventStore,
  openSqlite,
  SqliteDigestStore,
  SqliteEventStore,
} from '@app/event-store';
import { MerkleTreeBuilder, type EventStore } from '@app/ledger';
import type { FromTreeThread, ToTreeThread, TreeThreadData } from './messages';
import { nameThisThread, THREAD_NAMES } from '../thread-name';

// The Merkle tree builder of the embedded profile, in a thread of its own: reading, hashing and writing
// each event's leaf never takes time from the request thread (docs/hashing.md, "Where the tree is built").
// In the EventStoreDB profile it reads the events through a client of its own, over the EventStore port;
// the tree is the only writer of leaves, so each gets the next sequence in ledger order.
const port = parentPort!;
const { file, followIntervalMs, batchSize, eventStoreConnectionString } = workerData as TreeThreadData;
const send = (message: FromTreeThread) => port.postMessage(message);
nameThisThread(THREAD_NAMES.merkleTree);

/** Settles once main() has read the tree's head, or failed to: a stop waits for it. */
let startupDone!: () => void;
const startup = new Promise<void>((resolve) => (startupDone = resolve));

async function main(): Promise<void> {
  const db = openSqlite(file);
  // The tree is derived: a batch lost to a power cut rolls back whole, resume point included, and is
  // appended again. Digests, which are not derived, are written by the main thread's connection.
  db.pragma('synchronous = NORMAL');
  // The projector thread checkpoints the WAL (WalCheckpointer); this connection only as a backstop.
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const events: EventStore =
    eventStoreConnectionString === undefined
      ? new SqliteEventStore(db)
      : await openEventStoreDbEventStore(eventStoreConnectionString);
  const tree = new SqliteDigestStore(db);
  const builder = new MerkleTreeBuilder(events, tree, { batchSize });
  let lastFailure: string | undefined;
  const follow = setInterval(() => {
    builder.catchUp().then(
      () => (lastFailure = undefined),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (message !== lastFailure) send({ type: 'follow-failed', message });
        lastFailure = message;
      },
    );
  }, followIntervalMs);
  port.on('message', (message: ToTreeThread) => {
    switch (message.type) {
      case 'catch-up':
        builder.catchUp().then(
          (treeSize) => send({ type: 'caught-up', id: message.id, treeSize }),
          (error: unknown) =>
            send({
              type: 'catch-up-failed',
              id: message.id,
              message: error instanceof Error ? error.message : String(error),
            }),
        );
        return;
      case 'stop':
        void (async () => {
          // A restarted thread can be told to stop while it starts: not before that is over.
          await startup;
          clearInterval(follow);
          await builder.catchUp().catch(() => undefined);
          await tree.close();
          await events.close();
          db.close();
          send({ type: 'stopped' });
          port.close();
        })();
        return;
    }
  });
  let treeSize: number;
  try {
    treeSize = (await tree.head()).treeSize;
  } finally {
    startupDone();
  }
  send({ type: 'ready', treeSize });
}

main().catch((error: unknown) => {
  startupDone();
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
