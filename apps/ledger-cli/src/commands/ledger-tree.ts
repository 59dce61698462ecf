import { SqliteDigestStore } from '@app/event-store';
import {
  DigestPublisher,
  MerkleTreeBuilder,
  publicKeyPem,
  resolveSigningKey,
  systemClock,
  type EventStore,
} from '@app/ledger';
import type { Io } from '../cli';
import type { LedgerDb } from '../ledger-db';

export interface LedgerTree {
  events: EventStore;
  tree: SqliteDigestStore;
  publisher: DigestPublisher;
  close(): Promise<void>;
}

/**
 * The Merkle tree and a digest publisher on the CLI's connection, over `events` (the ledger's, whichever
 * engine keeps them; the caller closes them). Signs with
 * LEDGER_SIGNING_KEY (`configured`) when set, else with the key kept in ledger.db (the one the API uses).
 */
export async function openLedgerTree(
  events: EventStore,
  db: LedgerDb,
  io: Io,
  configured: string | undefined,
): Promise<LedgerTree> {
  const tree = new SqliteDigestStore(db);
  const latest = await tree.latestDigest();
  if (!configured && latest && !(await tree.signingKey())) {
    // The API signs with a configured key; generating another here would split the digests' keys.
    await tree.close();
    throw new Error(
      'The published digests are signed with a configured key, not one kept in ledger.db: ' +
        'set LEDGER_SIGNING_KEY for the CLI as for the API.',
    );
  }
  const { key } = await resolveSigningKey(configured, tree, systemClock);
  if (latest && latest.publicKey !== publicKeyPem(key)) {
    io.stderr('warning: this signing key differs from the key of the latest published digest\n');
  }
  const builder = new MerkleTreeBuilder(events, tree, {
    onProgress: (size) => io.stderr(`\rmerkle tree: ${size.toLocaleString('en')} leaves   `),
  });
  return {
    events,
    tree,
    publisher: new DigestPublisher(builder, tree, key, systemClock),
    async close() {
      await tree.close();
    },
  };
}
