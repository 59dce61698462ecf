import type { KeyObject } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
import { WorkerTreeBuilder } from './merkle/worker-tree-builder';
import type { SupervisionOptions } from './supervised-thread';
import { WorkerProjections } from './projector/worker-projections';

export const LEDGER_DB_FILE = 'ledger.db';

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
  const file = join(dataDir, LEDGER_DB_FILE);
  let projections: WorkerProjections | undefined;
  // Checkpoints are the projector thread's (WalCheckpointer, off the request thread); the connections of
  // the request thread and of the Merkle thread checkpoint only past 64 MiB of WAL, as a backstop.
  const eventStore = SqliteEventStore.open(file, {
    onCommitted: () => projections?.committed(),
    walAutocheckpointPages: BACKSTOP_AUTOCHECKPOINT_PAGES,
  });
  // The Merkle tree is built in a thread of its own (merkle/tree-thread.ts), never inside the append
  // transaction (docs/hashing.md, "Where the tree is built"); this connection serves proofs and writes
  // digests, fsynced at each COMMIT since they are not derived.
  const digestDb = openSqlite(file);
  digestDb.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const digestStore = new SqliteDigestStore(digestDb, { owned: true });
  let key: KeyObject;
  try {
    ({ key } = await resolveSigningKey(options.signingKey, digestStore, systemClock));
  } catch (error) {
    await digestStore.close();
    await eventStore.close();
    throw error;
  }
  const db = openSqlite(file);
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const readModels = new SqliteReadModelStore(db);
  try {
    projections = await WorkerProjections.start(
      { file, batchSize: options.projectionBatchSize },
      options.supervision,
    );
  } catch (error) {
    await digestStore.close();
    await eventStore.close();
    db.close();
    throw error;
  }
  const logTreeError = (message: string) => process.stderr.write(`merkle tree: ${message}\n`);
  let treeBuilder: WorkerTreeBuilder;
  try {
    treeBuilder = await WorkerTreeBuilder.start(
      { file, followIntervalMs: TREE_FOLLOW_INTERVAL_MS, batchSize: 5000 },
      logTreeError,
      options.supervision,
    );
  } catch (error) {
    await projections.stop();
    await digestStore.close();
    await eventStore.close();
    db.close();
    throw error;
  }
  const publisher = new DigestPublisher(treeBuilder, digestStore, key, systemClock, (error) =>
    logTreeError(error instanceof Error ? error.message : String(error)),
  );
  publisher.start(options.digestIntervalSeconds ?? DEFAULT_DIGEST_INTERVAL_SECONDS, null);
  const adapters: LedgerAdapters = {
    eventStore,
    apiKeys: new SqliteApiKeyStore(db),
    idempotency: new SqliteIdempotencyStore(db),
    readModels,
    projections,
    slaTargets: options.slaTargets,
    engines: { events: 'sqlite', readModels: 'sqlite' },
    digests: { store: digestStore, publisher },
    // Small batches: a verification in the API yields to requests every 2000 events.
    verification: new SqliteVerificationSource(file, { batchSize: 2000 }),
  };
  const started = projections;
  return {
    adapters,
    projections: started,
    async close() {
      await started.stop();
      await publisher.stop();
      await treeBuilder.stop();
      await digestStore.close();
      await eventStore.close();
      await readModels.close();
      if (db.open) db.close();
    },
  };
}
