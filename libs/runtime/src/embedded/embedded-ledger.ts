import { mkdirSync } from 'node:fs';
import {
  BACKSTOP_AUTOCHECKPOINT_PAGES,
  openSqlite,
  SqliteDigestStore,
  SqliteEventStore,
  SqliteIdempotencyStore,
  SqliteVerificationSource,
} from '@app/event-store';
import {
  DEFAULT_DIGEST_INTERVAL_SECONDS,
  DigestPublisher,
  TREE_FOLLOW_INTERVAL_MS,
  resolveSigningKey,
  systemClock,
  type LedgerAdapters,
  type SlaTargets,
} from '@app/ledger';
import { SqliteApiKeyStore, SqliteReadModelStore } from '@app/read-store';
import { Resources } from '../resources';
import { WorkerTreeBuilder } from '../threads/merkle/worker-tree-builder';
import { WorkerProjections } from '../threads/projector/worker-projections';
import type { SupervisionOptions } from '../threads/supervised-thread';
import { ledgerFile } from './ledger-file';

export interface EmbeddedLedger {
  adapters: LedgerAdapters;
  projections: WorkerProjections;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  slaTargets?: SlaTargets;
  /** Events per projection transaction in the projector thread. */
  projectionBatchSize?: number;
  /** Seconds between scheduled digests (0: only on demand); default 60. */
  digestIntervalSeconds?: number;
  /** LEDGER_SIGNING_KEY; without it the key kept in the database (generated on first start) signs. */
  signingKey?: string;
  /** How the projector and Merkle tree threads are restarted when they stop unexpectedly. */
  supervision?: SupervisionOptions;
}

/**
 * The single-machine profile: one SQLite file under the data directory holds events and everything else.
 * Connections on the request thread: the event store's own (its group fsync of the WAL covers exactly its
 * commits, see docs/storage.md), one for API keys, idempotency answers and queries, one for digests and
 * proofs (both synced at each COMMIT). The projector thread and the Merkle tree thread have one each.
 */
export async function openEmbeddedLedger(
  dataDir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedLedger> {
  mkdirSync(dataDir, { recursive: true });
  const file = ledgerFile(dataDir);
  const resources = new Resources();
  // Set once the projector thread runs; commits before that have nothing to wake.
  let projections: WorkerProjections | undefined;
  try {
    // Checkpoints are the projector thread's (WalCheckpointer, off the request thread); the connections of
    // the request thread and of the Merkle thread checkpoint only past 64 MiB of WAL, as a backstop.
    const eventStore = resources.add(
      'the event store',
      SqliteEventStore.open(file, {
        onCommitted: () => projections?.committed(),
        walAutocheckpointPages: BACKSTOP_AUTOCHECKPOINT_PAGES,
      }),
      (store) => store.close(),
    );
    // The Merkle tree is built in a thread of its own (threads/merkle/tree-thread.ts), never inside the
    // append transaction (docs/hashing.md, "Where the tree is built"); this connection serves proofs and
    // writes digests, fsynced at each COMMIT since they are not derived.
    const digestDb = openSqlite(file);
    digestDb.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    const digestStore = resources.add(
      'the digest store',
      new SqliteDigestStore(digestDb, { owned: true }),
      (store) => store.close(),
    );
    const { key } = await resolveSigningKey(options.signingKey, digestStore, systemClock);
    const db = resources.add('the API keys and read models connection', openSqlite(file), (connection) => {
      if (connection.open) connection.close();
    });
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    const readModels = resources.add('the read models', new SqliteReadModelStore(db), (store) =>
      store.close(),
    );
    const started = resources.add(
      'the projector thread',
      await WorkerProjections.start({ file, batchSize: options.projectionBatchSize }, options.supervision),
      (thread) => thread.stop(),
    );
    projections = started;
    const logTreeError = (message: string) => process.stderr.write(`merkle tree: ${message}\n`);
    const treeBuilder = resources.add(
      'the Merkle tree thread',
      await WorkerTreeBuilder.start(
        { file, followIntervalMs: TREE_FOLLOW_INTERVAL_MS, batchSize: 5000 },
        logTreeError,
        options.supervision,
      ),
      (thread) => thread.stop(),
    );
    const publisher = resources.add(
      'the digest publisher',
      new DigestPublisher(treeBuilder, digestStore, key, systemClock, (error) =>
        logTreeError(error instanceof Error ? error.message : String(error)),
      ),
      (scheduled) => scheduled.stop(),
    );
    publisher.start(options.digestIntervalSeconds ?? DEFAULT_DIGEST_INTERVAL_SECONDS, null);
    const adapters: LedgerAdapters = {
      eventStore,
      apiKeys: new SqliteApiKeyStore(db),
      idempotency: new SqliteIdempotencyStore(db),
      readModels,
      projections: started,
      slaTargets: options.slaTargets,
      engines: { events: 'sqlite', readModels: 'sqlite' },
      digests: { store: digestStore, publisher },
      // Small batches: a verification in the API yields to requests every 2000 events.
      verification: new SqliteVerificationSource(file, { batchSize: 2000 }),
    };
    return { adapters, projections: started, close: () => resources.close() };
  } catch (error) {
    return resources.abandon(error);
  }
}
