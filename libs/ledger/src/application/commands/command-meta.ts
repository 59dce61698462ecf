import type { Actor } from '../ports/event-store.port';

/** Everything about a command that is not the command itself: who, when, and the HTTP preconditions. */
export interface CommandMeta {
  actor: Actor;
  /** Business time; the edge defaults it to now. */
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  /** The stream revision the caller saw (If-Match); when set, a mismatch is 412 and nothing is retried. */
  expectedRevision?: number;
  idempotency?: { key: string; scope: string; requestHash: string };
}

/** What a command answers; `body` is serialised once and, under an Idempotency-Key, replayed byte for byte. */
export interface CommandResult {
  status: 200 | 201;
  body: CommandResponseBody;
}

export interface CommandResponseBody {
  stream: string;
  revision: number;
  position: string;
  changed?: false;
  [extra: string]: unknown;
}
