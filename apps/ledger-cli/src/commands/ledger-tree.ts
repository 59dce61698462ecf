import { SqliteDigestStore, SqliteEventStore } from '@app/event-store';
import { DigestPublisher, MerkleTreeBuilder, resolveSigningKey, systemClock } from '@app/ledger';
import type { Io } from '../cli';
import type { LedgerDb } from '../ledger-db';

export interface LedgerTree {
  events: SqliteEventStore;
  tree: SqliteDigestStore;
  publisher: DigestPublisher;
  close(): Promise<void>;
}

/**
 * The event store, the Merkle tree and a digest publisher on the CLI's connection. Signs with
 * LEDGER_SIGNING_KEY when set, else with the key kept in ledger.db (the one the API uses).
 */
export async function openLedgerTree(db: LedgerDb, io: Io): Promise<LedgerTree> {
  const events = new SqliteEventStore(db);
  const tree = new SqliteDigestStore(db);
  const { key } = await resolveSigningKey(io.env.LEDGER_SIGNING_KEY, tree, systemClock);
  const builder = new MerkleTreeBuilder(events, tree, {
    onProgress: (size) => io.stderr(`\rmerkle tree: ${size.toLocaleString('en')} leaves   `),
  });
  return {
    events,
    tree,
    publisher: new DigestPublisher(builder, tree, key, systemClock),
    async close() {
      await tree.close();
      await events.close();
    },
  };
}
