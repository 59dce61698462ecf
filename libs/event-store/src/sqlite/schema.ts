import type { Database } from 'better-sqlite3';

/**
 * Tables of the embedded ledger (docs/storage.md). `position` is the rowid: dense from 1 since rows are
 * never deleted and SQLite gives a new row max(rowid)+1 (no AUTOINCREMENT, so a rolled-back savepoint leaves
 * no gap); the ledger sequence of the Merkle tree is position - 1. `streams` keeps each head for O(1)
 * expected-revision checks and prevHash lookups.
 */
export function ensureEventStoreSchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY,
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      event_id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      schema_version INTEGER NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      canonical TEXT NOT NULL,
      hash TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      idempotency_key TEXT,
      UNIQUE (stream, revision)
    );
    CREATE INDEX IF NOT EXISTS events_idempotency_key ON events (idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    CREATE TABLE IF NOT EXISTS streams (
      stream TEXT PRIMARY KEY,
      revision INTEGER NOT NULL,
      last_hash TEXT NOT NULL,
      last_position INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
  ensureIdempotencySchema(db);
}

export function ensureIdempotencySchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency (
      scope TEXT PRIMARY KEY,
      request_hash TEXT NOT NULL,
      status INTEGER NOT NULL,
      body TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
}
