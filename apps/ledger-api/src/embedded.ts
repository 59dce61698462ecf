import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  openSqlite,
  SqliteEventStore,
  SqliteIdempotencyStore,
  SqliteVerificationSource,
} from '@app/event-store';
import type { LedgerAdapters, SlaTargets } from '@app/ledger';
import { SqliteApiKeyStore, SqliteReadModelStore } from '@app/read-store';
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
}

/**
 * The single-machine profile: one SQLite file under the data directory holds events and everything else.
 * Three connections: the event store's own (its group fsync of the WAL covers exactly its commits, see
 * docs/storage.md), one for API keys, idempotency answers and queries (synced at each COMMIT), and the
 * projector thread's.
 */
export async function openEmbeddedLedger(
  dataDir: string,
  options: EmbeddedOptions = {},
): Promise<EmbeddedLedger> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LEDGER_DB_FILE);
  let projections: WorkerProjections | undefined;
  const eventStore = SqliteEventStore.open(file, { onCommitted: () => projections?.committed() });
  const db = openSqlite(file);
  const readModels = new SqliteReadModelStore(db);
  try {
    projections = await WorkerProjections.start({ file, batchSize: options.projectionBatchSize });
  } catch (error) {
    await eventStore.close();
    db.close();
    throw error;
  }
  const adapters: LedgerAdapters = {
    eventStore,
    apiKeys: new SqliteApiKeyStore(db),
    idempotency: new SqliteIdempotencyStore(db),
    readModels,
    projections,
    slaTargets: options.slaTargets,
    engines: { events: 'sqlite', readModels: 'sqlite' },
    verification: new SqliteVerificationSource(file),
  };
  const started = projections;
  return {
    adapters,
    projections: started,
    async close() {
      await started.stop();
      await eventStore.close();
      await readModels.close();
      if (db.open) db.close();
    },
  };
}
