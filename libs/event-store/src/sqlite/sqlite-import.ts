import type { Database, Statement, Transaction } from 'better-sqlite3';
import {
  ABSENT_STREAM_HEAD,
  canonicalize,
  checkImportBatch,
  ImportRejectedError,
  type ImportHead,
  type ImportResult,
  type StoredEvent,
} from '@app/ledger';
import type { EventRow } from './event-row';
import { INSERT_EVENT_SQL, UPSERT_STREAM_SQL } from './schema';

/**
 * `importEvents` of the SQLite adapter: one IMMEDIATE transaction per batch, checked whole before the first
 * insert (checkImportBatch), so a refused batch stores nothing and a committed one is the resume point of
 * an interrupted migration. The columns are written as `append` writes them: data and metadata in JCS, the
 * canonical bytes and hash given, so the verifier's fast path holds for imported events too.
 */
export class SqliteEventImporter {
  private readonly selectHead: Statement<[string], { revision: number; last_hash: string }>;
  private readonly selectEventId: Statement<[string], { stream: string; revision: number }>;
  private readonly insertEvent: Statement<[Omit<EventRow, 'position'>]>;
  private readonly upsertStream: Statement<
    [{ stream: string; revision: number; last_hash: string; last_position: number }]
  >;
  private readonly importBatch: Transaction<(events: readonly StoredEvent[]) => ImportResult>;

  constructor(db: Database) {
    this.selectHead = db.prepare('SELECT revision, last_hash FROM streams WHERE stream = ?');
    this.selectEventId = db.prepare('SELECT stream, revision FROM events WHERE event_id = ?');
    this.insertEvent = db.prepare(INSERT_EVENT_SQL);
    this.upsertStream = db.prepare(UPSERT_STREAM_SQL);
    this.importBatch = db.transaction((events: readonly StoredEvent[]) => this.importNow(events));
  }

  /** Synchronous: the batch is committed (or refused) when this returns. */
  import(events: readonly StoredEvent[]): ImportResult {
    if (events.length === 0) return { imported: 0, lastPosition: null };
    return this.importBatch.immediate(events);
  }

  private importNow(events: readonly StoredEvent[]): ImportResult {
    // Checked inside the transaction: the heads read are the ones the inserts follow.
    const heads = checkImportBatch(events, (stream) => this.headOf(stream));
    const lastPositions = new Map<string, number>();
    let lastPosition = 0;
    for (const event of events) {
      const { metadata } = event;
      const taken = this.selectEventId.get(metadata.eventId);
      if (taken) {
        throw new ImportRejectedError(
          event.stream,
          event.revision,
          'event-id-taken',
          `event ${metadata.eventId} is already stored as ${taken.stream}@${taken.revision}`,
        );
      }
      const inserted = this.insertEvent.run({
        stream: event.stream,
        revision: event.revision,
        event_id: metadata.eventId,
        type: event.type,
        schema_version: event.schemaVersion,
        data: canonicalize(event.data),
        metadata: canonicalize(metadata),
        canonical: event.canonical,
        hash: metadata.hash,
        recorded_at: metadata.recordedAt,
        idempotency_key: metadata.idempotencyKey ?? null,
      });
      lastPosition = Number(inserted.lastInsertRowid);
      lastPositions.set(event.stream, lastPosition);
    }
    for (const [stream, head] of heads) {
      this.upsertStream.run({
        stream,
        revision: head.revision,
        last_hash: head.hash,
        last_position: lastPositions.get(stream)!,
      });
    }
    return { imported: events.length, lastPosition: BigInt(lastPosition) };
  }

  private headOf(stream: string): ImportHead {
    const row = this.selectHead.get(stream);
    return row ? { revision: row.revision, hash: row.last_hash } : ABSENT_STREAM_HEAD;
  }
}
