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
  ALL_PROJECTIONS,
  DEFAULT_DIGEST_INTERVAL_SECONDS,
  DigestPublisher,
  PolledProjections,
  EventStoreVerificationSource,
  TREE_FOLLOW_INTERVAL_MS,
  resolveSigningKey,
  systemClock,
  type EngineConnection,
  type EventStore,
  type LedgerAdapters,
  type ProjectionsControl,
  type SlaTargets,
} from '@app/ledger';
import { SqliteApiKeyStore, SqliteReadModelStore } from '@app/read-store';
import { ConfigurationError, type ProjectionsPlacement } from '../config';
import { Resources } from '../resources';
import { WorkerTreeBuilder } from '../threads/merkle/worker-tree-builder';
import { WorkerProjections } from '../threads/projector/worker-projections';
import type { SupervisionOptions } from '../threads/supervised-thread';
import { ledgerFile } from './ledger-file';

export interface EmbeddedLedger {
  adapters: LedgerAdapters;
  projections: ProjectionsControl;
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
  /** LEDGER_PROJECTIONS: `external` starts no projector thread and polls the checkpoints instead. */
  projections?: ProjectionsPlacement;
}

/**
 * Where the events of a ledger whose other data is in the SQLite file live: in that file (the embedded
 * profile), or on an EventStoreDB server, through an adapter already opened (and reached) by the caller.
 */
export type LedgerEvents =
  { engine: 'sqlite' } | { engine: 'eventstoredb'; store: EventStore; connectionString: string };

/**
 * The single-machine profile: one SQLite file under the data directory holds events and everything else.
 * Connections on the request thread: the event store's own (its group fsync of the WAL covers exactly its
 * commits, see docs/storage.md), one for API keys, idempotency answers and queries, one for digests and
 * proofs (both synced at each COMMIT). The projector thread and the Merkle tree thread have one each.
 */
export function openEmbeddedLedger(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedLedger> {
  return openLedgerOnSqliteFile(dataDir, { engine: 'sqlite' }, options);
}

/**
 * The SQLite file of `dataDir` with everything but the events when they live on EventStoreDB
 * (docs/storage.md, "Profiles"): read models, idempotency records, API keys, the Merkle tree and digests.
 * The projector and Merkle tree threads then read the events through clients of their own.
 */
export async function openLedgerOnSqliteFile(
  dataDir: string,
  events: LedgerEvents,
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
    const eventStore: EventStore = resources.add(
      'the event store',
      events.engine === 'sqlite'
        ? SqliteEventStore.open(file, {
            onCommitted: () => projections?.committed(),
            walAutocheckpointPages: BACKSTOP_AUTOCHECKPOINT_PAGES,
          })
        : events.store,
      (store) => store.close(),
    );
    const eventStoreConnectionString = events.engine === 'eventstoredb' ? events.connectionString : undefined;
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
    if (events.engine === 'eventstoredb') refuseEmbeddedEvents(db, dataDir);
    const readModels = resources.add('the read models', new SqliteReadModelStore(db), (store) =>
      store.close(),
    );
    let started: ProjectionsControl;
    if (options.projections === 'external') {
      // Another process projects (apps/ledger-projector): this one only reads the checkpoints it commits.
      started = resources.add(
        'the checkpoint poller',
        await PolledProjections.start(readModels, eventStore, ALL_PROJECTIONS),
        (poller) => poller.stop(),
      );
    } else {
      projections = resources.add(
        'the projector thread',
        await WorkerProjections.start(
          { file, eventStoreConnectionString, batchSize: options.projectionBatchSize },
          options.supervision,
        ),
        (thread) => thread.stop(),
      );
      started = projections;
    }
    const logTreeError = (message: string) => process.stderr.write(`merkle tree: ${message}\n`);
    const treeBuilder = resources.add(
      'the Merkle tree thread',
      await WorkerTreeBuilder.start(
        { file, eventStoreConnectionString, followIntervalMs: TREE_FOLLOW_INTERVAL_MS, batchSize: 5000 },
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
      engines: { events: events.engine, readModels: 'sqlite' },
      engineConnections: engineConnections(events, eventStore, db),
      digests: { store: digestStore, publisher },
      // Small batches: a verification in the API yields to requests every 2000 events. On EventStoreDB it
      // reads through the port and recomputes the hash of each event's stored bytes.
      verification:
        events.engine === 'sqlite'
          ? new SqliteVerificationSource(file, { batchSize: 2000 })
          : new EventStoreVerificationSource(eventStore, {
              countAll: async () => (await digestStore.head()).treeSize,
            }),
    };
    return { adapters, projections: started, close: () => resources.close() };
  } catch (error) {
    return resources.abandon(error);
  }
}

/**
 * The data directory of a ledger on EventStoreDB must not hold an embedded ledger's events: its read
 * models, Merkle tree and digests would describe those, with the embedded store's positions.
 */
function refuseEmbeddedEvents(db: ReturnType<typeof openSqlite>, dataDir: string): void {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'events'").get();
  if (hasTable && db.prepare('SELECT 1 FROM events LIMIT 1').get()) {
    throw new ConfigurationError(
      `EVENTSTORE_CONNECTION_STRING is set, and LEDGER_DATA_DIR (${dataDir}) holds an embedded ledger's ` +
        'events: its read models, Merkle tree and digests describe those. Move that ledger with ' +
        '`npm run ledger -- migrate --to <esdb-url>`, or give the EventStoreDB profile a data directory of its own.',
    );
  }
}

/** How long /health waits for a server's answer before calling it unavailable. */
const ENGINE_CHECK_DEADLINE_MS = 2000;

function engineConnections(
  events: LedgerEvents,
  eventStore: EventStore,
  db: ReturnType<typeof openSqlite>,
): EngineConnection[] {
  const sqlite = async () => db.open && db.prepare('SELECT 1').pluck().get() === 1;
  const derived: EngineConnection['holds'] = ['read models', 'idempotency records', 'API keys', 'digests'];
  if (events.engine === 'sqlite') {
    return [{ engine: 'sqlite', holds: ['events', ...derived], check: sqlite }];
  }
  return [
    {
      engine: 'eventstoredb',
      holds: ['events'],
      check: () => withinDeadline(eventStore.headPosition(), ENGINE_CHECK_DEADLINE_MS),
    },
    { engine: 'sqlite', holds: derived, check: sqlite },
  ];
}

/** True when `work` settles successfully within `ms`; false when it fails or takes longer. */
async function withinDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
