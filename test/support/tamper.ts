import { createHash } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import type { EventRow } from '@app/event-store';
import { canonicalEventBytes, canonicalize } from '@app/ledger';

/** A row of the events table, as the tampering tests read and rewrite it. */
export type StoredRow = EventRow;

/**
 * Tampering applied straight to the SQLite file, as someone with write access to the disk would: with its
 * own connection, bypassing the ledger. Each returns what it changed so a test can check verify names it.
 */
export class Tamper {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  static async on<T>(file: string, edit: (tamper: Tamper) => T): Promise<T> {
    const db = new BetterSqlite3(file);
    db.pragma('busy_timeout = 5000');
    try {
      return edit(new Tamper(db));
    } finally {
      db.close();
    }
  }

  row(stream: string, revision: number): StoredRow {
    const row = this.db
      .prepare<[string, number], StoredRow>('SELECT * FROM events WHERE stream = ? AND revision = ?')
      .get(stream, revision);
    if (!row) throw new Error(`no event ${stream}#${revision}`);
    return row;
  }

  changeData(stream: string, revision: number, change: (data: Record<string, unknown>) => void): StoredRow {
    const row = this.row(stream, revision);
    const data = JSON.parse(row.data) as Record<string, unknown>;
    change(data);
    this.db.prepare('UPDATE events SET data = ? WHERE position = ?').run(canonicalize(data), row.position);
    return row;
  }

  changeMetadata(
    stream: string,
    revision: number,
    change: (metadata: Record<string, unknown>) => void,
  ): StoredRow {
    const row = this.row(stream, revision);
    const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
    change(metadata);
    this.db
      .prepare('UPDATE events SET metadata = ? WHERE position = ?')
      .run(canonicalize(metadata), row.position);
    return row;
  }

  changeCanonical(stream: string, revision: number, from: string, to: string): StoredRow {
    const row = this.row(stream, revision);
    if (!row.canonical.includes(from)) throw new Error(`canonical of ${stream}#${revision} lacks ${from}`);
    this.db
      .prepare('UPDATE events SET canonical = ? WHERE position = ?')
      .run(row.canonical.replace(from, to), row.position);
    return row;
  }

  /** Data, canonical bytes and both hash copies rewritten consistently: only the chain can tell. */
  rewrite(stream: string, revision: number, change: (data: Record<string, unknown>) => void): StoredRow {
    const row = this.row(stream, revision);
    const data = JSON.parse(row.data) as Record<string, unknown>;
    change(data);
    const { hash: _old, ...metadata } = JSON.parse(row.metadata) as Record<string, unknown>;
    const canonical = canonicalEventBytes({
      stream,
      revision,
      type: row.type,
      schemaVersion: row.schema_version,
      data,
      metadata: metadata as never,
    });
    const hash = createHash('sha256').update(canonical).digest('hex');
    this.db
      .prepare('UPDATE events SET data = ?, metadata = ?, canonical = ?, hash = ? WHERE position = ?')
      .run(canonicalize(data), canonicalize({ ...metadata, hash }), canonical, hash, row.position);
    return row;
  }

  remove(stream: string, revision: number): StoredRow {
    const row = this.row(stream, revision);
    this.db.prepare('DELETE FROM events WHERE position = ?').run(row.position);
    return row;
  }

  /** Exchanges the global positions of two events (the log reordered; every byte kept). */
  swapPositions(a: StoredRow, b: StoredRow): void {
    const swap = this.db.transaction(() => {
      const update = this.db.prepare('UPDATE events SET position = ? WHERE position = ?');
      update.run(-1, a.position);
      update.run(a.position, b.position);
      update.run(b.position, -1);
    });
    swap();
  }

  /**
   * A forged event appended to a stream: well-formed and self-consistent, chained to `prevHash` (by default
   * a wrong one), optionally with the stream head moved along as the ledger would have.
   */
  insert(
    stream: string,
    options: {
      prevHash?: string;
      updateHead?: boolean;
      data?: Record<string, unknown>;
      metadata?: Record<string, unknown>;
    } = {},
  ): StoredRow {
    const last = this.db
      .prepare<[string], StoredRow>('SELECT * FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1')
      .get(stream)!;
    const revision = last.revision + 1;
    const lastMetadata = JSON.parse(last.metadata) as Record<string, unknown>;
    const metadata = {
      ...lastMetadata,
      eventId: `forged-${revision}-${Date.now()}`,
      prevHash: options.prevHash ?? 'f'.repeat(64),
      ...options.metadata,
    } as Record<string, unknown>;
    delete metadata.hash;
    const data = options.data ?? (JSON.parse(last.data) as Record<string, unknown>);
    const canonical = canonicalEventBytes({
      stream,
      revision,
      type: last.type,
      schemaVersion: last.schema_version,
      data,
      metadata: metadata as never,
    });
    const hash = createHash('sha256').update(canonical).digest('hex');
    const inserted = this.db
      .prepare(
        `INSERT INTO events (stream, revision, event_id, type, schema_version, data, metadata, canonical, hash,
           recorded_at, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      )
      .run(
        stream,
        revision,
        metadata.eventId as string,
        last.type,
        last.schema_version,
        canonicalize(data),
        canonicalize({ ...metadata, hash }),
        canonical,
        hash,
        last.recorded_at,
      );
    if (options.updateHead) {
      this.db
        .prepare('UPDATE streams SET revision = ?, last_hash = ?, last_position = ? WHERE stream = ?')
        .run(revision, hash, Number(inserted.lastInsertRowid), stream);
    }
    return this.row(stream, revision);
  }
}

/** Copies the events and streams tables aside, so a test can tamper, look, and put everything back. */
export function backupLedgerTables(file: string): void {
  const db = new BetterSqlite3(file);
  try {
    db.exec(`
      DROP TABLE IF EXISTS tamper_backup_events; DROP TABLE IF EXISTS tamper_backup_streams;
      CREATE TABLE tamper_backup_events AS SELECT * FROM events;
      CREATE TABLE tamper_backup_streams AS SELECT * FROM streams;
    `);
  } finally {
    db.close();
  }
}

export function restoreLedgerTables(file: string): void {
  const db = new BetterSqlite3(file);
  db.pragma('busy_timeout = 5000');
  try {
    db.transaction(() => {
      db.exec(`
        DELETE FROM events; INSERT INTO events SELECT * FROM tamper_backup_events;
        DELETE FROM streams; INSERT INTO streams SELECT * FROM tamper_backup_streams;
      `);
    })();
  } finally {
    db.close();
  }
}
