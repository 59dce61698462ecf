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
  /** Also yield SubscriptionCheckpoints between the events (subscribeToAll's second overload). */
  checkpoints?: boolean;
}

/**
 * How far a subscription has read: every event matching its filter at or before `position` was yielded
 * before this item. A consumer that has applied everything yielded before it may record `position` as its
 * own checkpoint and later subscribe again from there, so that it advances over a long stretch of events
 * its filter leaves out (or of other applications' events) instead of reading it again after a restart.
 * Positions of checkpoints only grow, and are at least the position of the last event yielded.
 */
export interface SubscriptionCheckpoint {
  readonly kind: 'checkpoint';
  readonly position: bigint;
}

export type SubscriptionItem = StoredEvent | SubscriptionCheckpoint;

export function isSubscriptionCheckpoint(item: SubscriptionItem): item is SubscriptionCheckpoint {
  return 'kind' in item && item.kind === 'checkpoint';
}

export interface Subscription<Item extends SubscriptionItem = StoredEvent> extends AsyncIterable<Item> {
  unsubscribe(): Promise<void>;
}

/** What `importEvents` answers. */
export interface ImportResult {
  imported: number;
  /** This store's position of the last event imported (positions differ between engines); null for none. */
  lastPosition: bigint | null;
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
  subscribeToAll(options?: SubscribeToAllOptions & { checkpoints?: false }): Subscription;
  /** Events and, between them, checkpoints (SubscriptionCheckpoint). */
  subscribeToAll(options: SubscribeToAllOptions & { checkpoints: true }): Subscription<SubscriptionItem>;
  /** Options as one value (a wrapper passing them on): checkpoints when `options.checkpoints` says so. */
  subscribeToAll(options?: SubscribeToAllOptions): Subscription<SubscriptionItem>;
  /** Position of the last committed event, or -1n for an empty ledger. */
  headPosition(): Promise<bigint>;
  /**
   * Stores events read from another ledger as they were stored there, for `ledger migrate`
   * (docs/migration.md): the same canonical bytes and hash, in the order given, which must be the source's
   * ledger order. Each event is checked first (audit/event-import.ts): its hash is the SHA-256 of its
   * bytes, the bytes encode its fields, its revision follows its stream's last one here and its prevHash is
   * that event's hash. A batch with a refused event (ImportRejectedError) stores nothing. Otherwise the
   * batch is stored whole on SQLite (one transaction); on EventStoreDB, one append per run of one stream's
   * events, so a server failure part way leaves the runs before it stored, and a migration resumes after them.
   */
  importEvents(events: readonly StoredEvent[]): Promise<ImportResult>;
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

/**
 * A stored event whose bytes do not read as the ledger event its stream and revision say (changed on the
 * engine behind the ledger's back, on an engine that keeps only the bytes: EventStoreDB). Reads that meet
 * it fail with this error; verification reports the event as broken and goes on past it.
 */
export class UnreadableStoredEventError extends Error {
  override readonly name = 'UnreadableStoredEventError';
  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly position: bigint,
    readonly type: string,
    /** The stored bytes, as UTF-8 text. */
    readonly stored: string,
    /** The hash stored beside them. */
    readonly hash: string,
  ) {
    super(`The stored event ${stream}@${revision} (position ${position}) does not read as a ledger event`);
  }
}

/** The same event ids appended again with a different expected revision or content. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string) {
    super(`Event ${eventId} was already appended with other content or at another revision`);
  }
}

export type ImportRejection =
  /** The canonical bytes do not encode the event's fields. */
  | 'canonical-mismatch'
  /** metadata.hash is not the SHA-256 of the canonical bytes. */
  | 'hash-mismatch'
  /** The revision does not follow the stream's last revision on this store. */
  | 'revision-mismatch'
  /** prevHash is not the hash of the stream's last event on this store. */
  | 'prev-hash-mismatch'
  /** This store already holds an event with that id. */
  | 'event-id-taken';

/** An event given to importEvents cannot be stored as it is: nothing of its batch was stored. */
export class ImportRejectedError extends Error {
  override readonly name = 'ImportRejectedError';
  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly reason: ImportRejection,
    readonly detail: string,
  ) {
    super(`Import of ${stream}@${revision} refused (${reason}): ${detail}`);
  }
}

/**
 * An append larger than the event store takes in one write (EventStoreDB's MaxAppendSize, 1 MiB by
 * default): nothing was written, and the same append will never succeed. The request that made it is too
 * large (HTTP 413), not a failure of the server.
 */
export class AppendTooLargeError extends Error {
  override readonly name = 'AppendTooLargeError';
  constructor(
    readonly stream: string,
    /** The most the store takes in one append, in bytes. */
    readonly maxBytes: number,
    options?: { cause?: unknown },
  ) {
    super(
      `The append to ${stream} is larger than the event store takes in one write (${maxBytes} bytes)`,
      options,
    );
  }
}
