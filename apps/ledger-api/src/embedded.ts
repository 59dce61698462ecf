import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore, SqliteIdempotencyStore } from '@app/event-store';
import type { LedgerAdapters } from '@app/ledger';
import { SqliteApiKeyStore } from '@app/read-store';

export const LEDGER_DB_FILE = 'ledger.db';

export interface EmbeddedLedger {
  adapters: LedgerAdapters;
  close(): Promise<void>;
}

/**
 * The single-machine profile: one SQLite file under the data directory holds events and everything else.
 * The event store has a connection of its own, so that its group fsync of the WAL (docs/storage.md) covers
 * exactly its commits; API keys and idempotency answers share a second one that syncs at each COMMIT.
 */
export function openEmbeddedLedger(dataDir: string): EmbeddedLedger {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LEDGER_DB_FILE);
  const eventStore = SqliteEventStore.open(file);
  const db = openSqlite(file);
  const adapters: LedgerAdapters = {
    eventStore,
    apiKeys: new SqliteApiKeyStore(db),
    idempotency: new SqliteIdempotencyStore(db),
    engines: { events: 'sqlite', readModels: 'sqlite' },
  };
  return {
    adapters,
    async close() {
      await eventStore.close();
      if (db.open) db.close();
    },
  };
}
