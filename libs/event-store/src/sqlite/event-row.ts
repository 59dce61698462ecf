import type { EventMetadata, StoredEvent } from '@app/ledger';

/** A row of the events table (schema.ts). */
export interface EventRow {
  position: number;
  stream: string;
  revision: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  canonical: string;
  hash: string;
  recorded_at: string;
  idempotency_key: string | null;
}

/** data and metadata are parsed here, so every reader gets plain objects and bigint positions. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    stream: row.stream,
    revision: row.revision,
    position: BigInt(row.position),
    type: row.type,
    schemaVersion: row.schema_version,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    canonical: row.canonical,
  };
}
