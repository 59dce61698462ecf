/**
 * The EventStore port. Semantics follow EventStoreDB so that the embedded SQLite adapter and the
 * EventStoreDB adapter are interchangeable: see libs/event-store/src/contract for the suite both pass.
 */

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export type ActorKind = 'service' | 'agent' | 'system';

export interface Actor {
  kind: ActorKind;
  /** The API key id that sent the command. */
  id: string;
  /** The agent who acted, where one did. */
  agentId?: string;
}

/** Metadata the caller supplies; the store adds prevHash and hash. */
export interface EventMetadataInput {
  eventId: string;
  occurredAt: string;
  recordedAt: string;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  idempotencyKey?: string;
  /**
   * With an Idempotency-Key: the scope's hash (as in the idempotency record) and the request's fingerprint,
   * so that the stream itself tells a retry of this command from a reuse of its key, record or not.
   */
  idempotencyScope?: string;
  requestFingerprint?: string;
  schemaVersion: number;
}

export interface EventMetadata extends EventMetadataInput {
  prevHash: string;
  hash: string;
}

export interface NewEvent {
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadataInput;
}

export interface StoredEvent {
  stream: string;
  /** 0-based revision within the stream. */
  revision: number;
  /** Global commit position: strictly increasing in readAll order; a consistency token. */
  position: bigint;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  /** The RFC 8785 canonical bytes that `metadata.hash` is the SHA-256 of, exactly as stored. */
  canonical: string;
}

export interface AppendResult {
  stream: string;
  /** Revision of the last event of the stream after the append. */
  nextExpectedRevision: number;
  /** Global position of the last appended event. */
  position: bigint;
}

/**
 * The idempotency record of an append's own outcome, as data: an adapter that `recordsIdempotency` writes
 * it in the events' transaction, completed with the append's result (`{kind: 'outcome', stream, revision,
 * position, extra, changed: true}`), so an acknowledged command and its record can never be separated by a
 * crash. A scope already recorded rolls the append back (IdempotencyScopeTakenError).
 */
export interface IdempotencyWrite {
  scope: string;
  requestHash: string;
  /** The status the edge answers an appended outcome with; kept in the record as given. */
  status: number;
  extra: Record<string, unknown>;
}

export interface AppendOptions {
  /** Only for an adapter that `recordsIdempotency`; others refuse it. */
  idempotency?: IdempotencyWrite;
}

export interface ReadStreamOptions {
  fromRevision?: number | 'start' | 'end';
  direction?: 'forwards' | 'backwards';
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive start; omitted = the beginning of the ledger. */
  fromPosition?: bigint;
  maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Deliver events strictly after this position; omitted or 'start' = from the beginning. */
  fromPosition?: bigint | 'start';
  /** Only events whose stream starts with one of these prefixes. */
  filter?: { streamPrefixes: string[] };
}

export interface Subscription extends AsyncIterable<StoredEvent> {
  unsubscribe(): Promise<void>;
}

export interface EventStore {
  /**
   * True when `append` writes `options.idempotency` in the same transaction as the events (embedded SQLite,
   * where both live in one file). Otherwise the caller writes the record after the append, and the key in
   * the event metadata is what tells a retry that the command already ran.
   */
  readonly recordsIdempotency: boolean;
  /**
   * True when positions are dense (1, 2, 3... in ledger order: the embedded store), so that a difference of
   * positions counts events. EventStoreDB's commit positions are log offsets: absent or false.
   */
  readonly densePositions?: boolean;
  append(
    stream: string,
    events: NewEvent[],
    expectedRevision: ExpectedRevision,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events of one stream; an absent stream reads as an empty list. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription;
  /** Position of the last committed event, or -1n for an empty ledger. */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EventStore');

export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** Current revision of the stream, or -1 when it does not exist. */
    readonly actual: number,
  ) {
    super(`Wrong expected revision on ${stream}: expected ${String(expected)}, actual ${actual}`);
  }
}

/**
 * The storage stayed locked by another writer (another process's long transaction) for as long as an
 * adapter waits: nothing was written, and the same request can be sent again shortly (HTTP 503).
 */
export class StorageBusyError extends Error {
  override readonly name = 'StorageBusyError';
  constructor(
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(`The storage stayed locked by another writer for ${waitedMs} ms`, options);
  }
}

/**
 * The event storage did not answer (unreachable, past its deadline, or a node that is not the leader), and
 * the adapter's retries did not settle the outcome: an append may or may not be stored. The same request may
 * be sent again shortly (HTTP 503 with Retry-After); a retry with the same Idempotency-Key finds the
 * command's events if they were stored.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The same event ids appended again with a different expected revision or content. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string) {
    super(`Event ${eventId} was already appended with other content or at another revision`);
  }
}
