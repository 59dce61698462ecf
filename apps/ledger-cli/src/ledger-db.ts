import { existsSync, mkdirSync } from 'node:fs';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import type { EventStore } from '@app/ledger';
import { connectEventStoreDb, sqliteLedgerFile, type LedgerConfig } from '@app/runtime';
import { NotFoundError, type Io } from './cli';

export type LedgerDb = ReturnType<typeof openSqlite>;

/**
 * Opens <dataDir>/ledger.db, the API's file (with the events in the embedded profile, without them when
 * they are on EventStoreDB). Commands that only read refuse a missing file rather than create an empty
 * ledger in the wrong place; `create` is for commands that make sense on a fresh install.
 */
export function openLedgerDb(config: LedgerConfig, io: Io, { create }: { create: boolean }): LedgerDb {
  const file = sqliteLedgerFile(config);
  if (!existsSync(file)) {
    if (!create) {
      throw new NotFoundError(`No ledger database at ${file}; pass --data-dir or set LEDGER_DATA_DIR.`);
    }
    mkdirSync(config.dataDir, { recursive: true });
    io.stderr(`Creating ${file}\n`);
  }
  return openSqlite(file);
}

export async function withLedgerDb<T>(
  config: LedgerConfig,
  io: Io,
  options: { create: boolean },
  use: (db: LedgerDb) => Promise<T>,
): Promise<T> {
  const db = openLedgerDb(config, io, options);
  try {
    return await use(db);
  } finally {
    if (db.open) db.close();
  }
}

/** The events of the ledger: the file's own in the embedded profile, else the EventStoreDB server's. */
async function openEvents(config: LedgerConfig, db: LedgerDb): Promise<EventStore> {
  const connectionString = config.eventStoreConnectionString;
  return connectionString === undefined ? new SqliteEventStore(db) : connectEventStoreDb(connectionString);
}

/**
 * The ledger's events through the EventStore port, wherever the configuration keeps them, and the SQLite
 * file with the rest (the Merkle tree and digests): for commands that need both.
 */
export function withLedgerEvents<T>(
  config: LedgerConfig,
  io: Io,
  use: (events: EventStore, db: LedgerDb) => Promise<T>,
): Promise<T> {
  return withLedgerDb(config, io, { create: false }, async (db) => {
    const events = await openEvents(config, db);
    try {
      return await use(events, db);
    } finally {
      await events.close();
    }
  });
}

/**
 * The ledger's events through the EventStore port, for commands that read nothing else: on EventStoreDB
 * they need no data directory at all.
 */
export async function withEventStore<T>(
  config: LedgerConfig,
  io: Io,
  use: (events: EventStore) => Promise<T>,
): Promise<T> {
  if (config.eventStoreConnectionString === undefined) {
    return withLedgerEvents(config, io, (events) => use(events));
  }
  const events = await connectEventStoreDb(config.eventStoreConnectionString);
  try {
    return await use(events);
  } finally {
    await events.close();
  }
}

/** JSON with bigint positions as strings (they exceed 2^53 in principle). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    2,
  );
}
