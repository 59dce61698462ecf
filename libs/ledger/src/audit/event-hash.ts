import { createHash } from 'node:crypto';
import type { EventMetadataInput, NewEvent, StoredEvent } from '../application/ports/event-store.port';
import { canonicalEventBytes as packageCanonicalEventBytes, ZERO_HASH } from '@payment-issue-ledger/verify';

export { ZERO_HASH };

export interface CanonicalEventInput {
  stream: string;
  revision: number;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  /** `hash` may be present (a stored event); it is left out, since it is the hash of these bytes. */
  metadata: EventMetadataInput & { prevHash: string; hash?: string };
}

/** The JCS text whose UTF-8 bytes are hashed (DESIGN.md, "Hashing"), as the verification package builds it. */
export function canonicalEventBytes(event: CanonicalEventInput): string {
  return packageCanonicalEventBytes(event);
}

/**
 * Lowercase hex SHA-256 of the canonical bytes (a string is taken as UTF-8). Synchronous, for the append
 * path; the verification package computes the same with its injected crypto.
 */
export function eventHash(canonical: string | Uint8Array): string {
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * An event about to be appended at `revision`, chained to `prevHash`: the metadata its hash covers (only
 * the members below, whatever else the input carries), its canonical bytes and their hash. Every
 * event-store adapter appends through this, so no engine can store other bytes than another.
 */
export function hashedEvent(stream: string, revision: number, event: NewEvent, prevHash: string) {
  const { eventId, occurredAt, recordedAt, actor, correlationId, causationId, schemaVersion } =
    event.metadata;
  const { idempotencyKey, idempotencyScope, requestFingerprint } = event.metadata;
  const metadata = {
    eventId,
    occurredAt,
    recordedAt,
    actor,
    correlationId,
    causationId,
    idempotencyKey,
    idempotencyScope,
    requestFingerprint,
    schemaVersion,
    prevHash,
  };
  const canonical = canonicalEventBytes({
    stream,
    revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata,
  });
  return { metadata, canonical, hash: eventHash(canonical) };
}

export type ChainBreakReason =
  /** A revision is missing, repeated or out of order: an event was removed, inserted or moved. */
  | 'revision-gap'
  /** prevHash does not name the previous event's hash. */
  | 'prev-hash-mismatch'
  /** The stored canonical bytes do not encode the stored envelope, data and metadata. */
  | 'canonical-mismatch'
  /** metadata.hash is not the SHA-256 of the stored canonical bytes. */
  | 'hash-mismatch';

export interface ChainBreak {
  stream: string;
  revision: number;
  reason: ChainBreakReason;
  detail: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Events verified before the first break (all of them when ok). */
  checked: number;
  firstBroken: ChainBreak | null;
}

/**
 * Verifies whole streams from revision 0, each in revision order; streams may be interleaved (readAll
 * order). The hash is recomputed from the stored canonical bytes, and those bytes are checked to encode the
 * stored fields, so an edit of either is found. A chain cannot reveal a removed tail; the Merkle tree does.
 */
export function verifyStreamChain(events: readonly StoredEvent[]): ChainVerification {
  const heads = new Map<string, { revision: number; hash: string }>();
  let checked = 0;
  for (const event of events) {
    const head = heads.get(event.stream);
    const broken = (reason: ChainBreakReason, detail: string): ChainVerification => ({
      ok: false,
      checked,
      firstBroken: { stream: event.stream, revision: event.revision, reason, detail },
    });
    const expectedRevision = head ? head.revision + 1 : 0;
    if (event.revision !== expectedRevision) {
      return broken('revision-gap', `expected revision ${expectedRevision}, found ${event.revision}`);
    }
    const expectedPrev = head ? head.hash : ZERO_HASH;
    if (event.metadata.prevHash !== expectedPrev) {
      return broken(
        'prev-hash-mismatch',
        `prevHash ${event.metadata.prevHash}, previous hash ${expectedPrev}`,
      );
    }
    let encoded: string;
    try {
      encoded = canonicalEventBytes(event);
    } catch (error) {
      return broken('canonical-mismatch', `fields cannot be canonicalised: ${(error as Error).message}`);
    }
    if (encoded !== event.canonical) {
      return broken('canonical-mismatch', 'stored canonical bytes differ from the stored fields');
    }
    const actual = eventHash(event.canonical);
    if (actual !== event.metadata.hash) {
      return broken('hash-mismatch', `stored hash ${event.metadata.hash}, computed ${actual}`);
    }
    heads.set(event.stream, { revision: event.revision, hash: event.metadata.hash });
    checked++;
  }
  return { ok: true, checked, firstBroken: null };
}
