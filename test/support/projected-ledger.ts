import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';

/** A ledger file in a temp dir with a generated history, and a read store with every collection. */
export interface ProjectedLedger {
  dir: string;
  db: Database;
  eventStore: SqliteEventStore;
  store: SqliteReadModelStore;
  head: bigint;
  close(): Promise<void>;
}

export async function openProjectedLedger(options: {
  prefix: string;
  seed: number;
  events: number;
}): Promise<ProjectedLedger> {
  const dir = mkdtempSync(join(tmpdir(), options.prefix));
  const db = openSqlite(join(dir, 'ledger.db'));
  // Faster appends for the fixture; durability is what other suites test.
  db.pragma('synchronous = NORMAL');
  const eventStore = new SqliteEventStore(db);
  await appendLedgerHistory(eventStore, options.seed, options.events);
  const head = await eventStore.headPosition();
  const store = new SqliteReadModelStore(db);
  await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
  return {
    dir,
    db,
    eventStore,
    store,
    head,
    async close() {
      await eventStore.close();
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
