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
  forgetEventStoreStatistics(db);
}

/**
 * The event store's tables get no planner statistics: each of their statements has one possible plan,
 * and with STAT4 samples of `events` SQLite plans a stream read with its bound values, so it recompiles
 * the statement at every run (about 5 µs more per command). See refreshPlannerStatistics.
 */
export const EVENT_STORE_TABLES: readonly string[] = [
  'events',
  'streams',
  'idempotency',
  'idempotency_claims',
];
const EVENT_STORE_TABLE_LIST = EVENT_STORE_TABLES.map((table) => `'${table}'`).join(', ');

/**
 * Removes what an ANALYZE of the whole file left for the event store's tables (earlier builds of the
 * ledger ran `PRAGMA optimize` over every table), and reloads this connection's statistics. A no-op when there is none.
 */
function forgetEventStoreStatistics(db: Database): void {
  if (db.readonly) return;
  const statTables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('sqlite_stat1', 'sqlite_stat4')",
    )
    .all()
    .map((row) => row.name);
  const held = statTables.some(
    (table) =>
      db.prepare(`SELECT 1 FROM ${table} WHERE tbl IN (${EVENT_STORE_TABLE_LIST}) LIMIT 1`).get() !==
      undefined,
  );
  if (!held) return;
  db.transaction(() => {
    for (const table of statTables) db.exec(`DELETE FROM ${table} WHERE tbl IN (${EVENT_STORE_TABLE_LIST})`);
  })();
  // ANALYZE of sqlite_schema gathers nothing: it makes this connection read the statistics tables again.
  db.exec('ANALYZE sqlite_schema');
}

/** Rows each index's statistics are drawn from (SQLite's documentation suggests 100–1000 for a running app). */
const ANALYSIS_LIMIT = 1000;

/**
 * Planner statistics for every table of the file except the event store's (EVENT_STORE_TABLES): the read
 * models need them, e.g. so that `status = 'open' ORDER BY openedAt` walks the openedAt index instead of
 * sorting every open issue. Each table is analyzed from a bounded sample (`analysis_limit`), in its own
 * short write transaction.
 */
export function refreshPlannerStatistics(db: Database): void {
  const tables = db
    .prepare<[], { name: string }>(
      `SELECT name FROM sqlite_schema WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'
         AND name NOT IN (${EVENT_STORE_TABLE_LIST}) ORDER BY name`,
    )
    .all()
    .map((row) => row.name);
  const limit = db.pragma('analysis_limit', { simple: true }) as number;
  db.pragma(`analysis_limit = ${ANALYSIS_LIMIT}`);
  try {
    for (const table of tables) db.exec(`ANALYZE "${table.replaceAll('"', '""')}"`);
  } finally {
    db.pragma(`analysis_limit = ${limit}`);
  }
}

/**
 * `answer` (the answer as JSON) came after `body` (its text): a file written before has rows with `body`
 * only, which keep replaying as they are, and gets the column on first open.
 */
export function ensureIdempotencySchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS idempotency (
      scope TEXT PRIMARY KEY,
      request_hash TEXT NOT NULL,
      status INTEGER NOT NULL,
      body TEXT NOT NULL,
      created_at TEXT NOT NULL,
      answer TEXT
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS idempotency_fingerprint_key (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      secret BLOB NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS idempotency_claims (
      scope TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
  `);
  const hasAnswer = () =>
    db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('idempotency')")
      .all()
      .some((column) => column.name === 'answer');
  if (db.readonly || hasAnswer()) return;
  try {
    db.exec('ALTER TABLE idempotency ADD COLUMN answer TEXT');
  } catch (error) {
    // Another connection on the file added it first.
    if (!hasAnswer()) throw error;
  }
}

/** Stores one event row: the append path and the import of another ledger's events write the same columns. */
export const INSERT_EVENT_SQL = `INSERT INTO events (stream, revision, event_id, type, schema_version, data, metadata,
    canonical, hash, recorded_at, idempotency_key)
  VALUES (@stream, @revision, @event_id, @type, @schema_version, @data, @metadata, @canonical, @hash,
    @recorded_at, @idempotency_key)`;

/** Moves a stream's head row to its newest event (inserted for a new stream). */
export const UPSERT_STREAM_SQL = `INSERT INTO streams (stream, revision, last_hash, last_position)
  VALUES (@stream, @revision, @last_hash, @last_position)
  ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash,
    last_position = excluded.last_position`;
