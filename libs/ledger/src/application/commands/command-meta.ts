import type { Actor, IdempotencyWrite } from '../ports/event-store.port';

/** Everything about a command that is not the command itself: who, when, and the HTTP preconditions. */
export interface CommandMeta {
  actor: Actor;
  /** Business time; the edge defaults it to now. */
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  /** The stream revision the caller saw (If-Match); when set, a mismatch is 412 and nothing is retried. */
  expectedRevision?: number;
  /**
   * The Idempotency-Key, the record of an appended outcome as far as the edge fixes it (scope, request
   * hash, status; the runner adds the answer's extra fields), and the request's fingerprint: the scope and
   * the fingerprint go into every event the command appends.
   */
  idempotency?: { key: string; record: Omit<IdempotencyWrite, 'extra'>; fingerprint: string };
}

/** What a command did, in the application's terms: the edge picks the status and renders the body. */
export interface CommandOutcome {
  stream: string;
  /** Revision of the stream's last event after the command. */
  revision: number;
  /** Global position of that event: the consistency token of a read-your-writes query. */
  position: bigint;
  /** False when the command repeated what is recorded and appended nothing. */
  changed: boolean;
  /** Fields added to the answer, e.g. the issueId of a created issue. */
  extra: Record<string, unknown>;
  /** The idempotency record of `meta.idempotency` was written with the events, in their transaction. */
  recorded: boolean;
  /** The stream already held this command under its Idempotency-Key: nothing was decided or appended. */
  replayed: boolean;
}
