import {
  BACKWARDS,
  binaryEvent,
  END,
  EventStoreDBClient,
  FORWARDS,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  START,
  TimeoutError,
  UnavailableError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendResult as EsdbAppendResult,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  AppendTooLargeError,
  hashedEvent,
  DuplicateEventIdError,
  StorageUnavailableError,
  WrongExpectedRevisionError,
  ZERO_HASH,
  type AppendOptions,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type ImportResult,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
  type Subscription,
  UnreadableStoredEventError,
  type SubscriptionItem,
} from '@app/ledger';
import { EventStoreDbSubscription } from './eventstoredb-subscription';
import { EventStoreDbImporter } from './eventstoredb-import';

/** Marks an event as the ledger's: `$all` also holds system events and other applications' streams. */
export const LEDGER_EVENT_FORMAT = 'ledger-jcs-v1';

/** The small JSON metadata stored beside each event's canonical bytes (its data). */
interface LedgerEventMetadata {
  format: typeof LEDGER_EVENT_FORMAT;
  hash: string;
  schemaVersion: number;
}

/**
 * The oldest EventStoreDB release the adapter accepts: the first of the 24.10 LTS line whose filtered $all
 * subscriptions never send a checkpoint that a resume at `{commit: p, prepare: p}` would get wrong. Up to
 * 24.10.4 a checkpoint of (2^64 - 1, 2^64 - 1) could be sent on going live (KurrentDB #4892, fixed in
 * 24.10.5); 25.0.0 could send one at a record not yet processed, so that a resume skipped an event
 * (KurrentDB #4970, fixed in 24.10.5 and 25.0.1). docs/storage.md says more.
 */
export const MIN_SERVER_VERSION = '24.10.5';
/** Releases at or above MIN_SERVER_VERSION with the resume defect above. */
const REFUSED_SERVER_VERSIONS: ReadonlySet<string> = new Set(['25.0.0']);

/** The server is too old (or a known-bad release) for the ledger, or did not say which it is. */
export class UnsupportedEventStoreServerError extends Error {
  override readonly name = 'UnsupportedEventStoreServerError';
  constructor(
    /** As the server reported it, or "unknown". */
    readonly serverVersion: string,
  ) {
    super(
      serverVersion === UNKNOWN_VERSION
        ? `EventStoreDB did not report its version (servers before 21.10 do not); the ledger needs ${MIN_SERVER_VERSION} or later`
        : `EventStoreDB ${serverVersion} is not supported: the ledger needs ${MIN_SERVER_VERSION} or later` +
            (REFUSED_SERVER_VERSIONS.has(serverVersion) ? `, and not ${serverVersion}` : ''),
    );
  }
}

/** What the client reports when the server has no ServerFeatures service. */
const UNKNOWN_VERSION = 'unknown';

/** Whether `version` ("24.10.5", "25.0.1-rc.1"...) is MIN_SERVER_VERSION or later and not refused. */
export function isSupportedServerVersion(version: string): boolean {
  const parsed = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!parsed) return false;
  const [major, minor, patch] = parsed.slice(1, 4).map(Number);
  const [minMajor, minMinor, minPatch] = MIN_SERVER_VERSION.split('.').map(Number);
  if (REFUSED_SERVER_VERSIONS.has(`${major}.${minor}.${patch}`)) return false;
  if (major !== minMajor) return major > minMajor;
  if (minor !== minMinor) return minor > minMinor;
  return patch >= minPatch;
}

/** What this adapter can and cannot promise beyond the port (the contract suite reads these). */
export interface EventStoreCapabilities {
  /**
   * False: EventStoreDB has no global index of event ids, so an id already used at another place (another
   * stream, another revision) is not refused. Only a retry at the same expected revision is recognised.
   */
  refusesEventIdsReusedElsewhere: boolean;
  /** False while subscribeToAll throws "not supported yet". */
  subscriptions: boolean;
}

export interface EventStoreDbEventStoreOptions {
  /** Retries of an `any` / `stream_exists` append whose read tail moved before the append landed. */
  maxConcurrencyRetries?: number;
  /** Retries of an append the server did not answer (unavailable, deadline, not leader), same event ids. */
  maxUnansweredRetries?: number;
  /** Delay before the first such retry; doubled at each. */
  unansweredRetryDelayMs?: number;
  /**
   * Largest append sent, in bytes of data and metadata: the server's MaxAppendSize (1 MiB by default)
   * refuses more. A larger append is refused here, before anything is sent.
   */
  maxAppendSizeBytes?: number;
}

// Each round of contenders on one stream has a winner: 16 covers that many writers racing on a stream.
const DEFAULT_MAX_CONCURRENCY_RETRIES = 16;
const DEFAULT_MAX_UNANSWERED_RETRIES = 3;
const DEFAULT_UNANSWERED_RETRY_DELAY_MS = 100;
/** EventStoreDB's default MaxAppendSize. */
const DEFAULT_MAX_APPEND_SIZE_BYTES = 1024 * 1024;
/** Events of $all per read call: bounded, so one readAll is several calls rather than one huge stream. */
const READ_ALL_PAGE = 1000;
/** Events read backwards per call while looking for the last ledger event. */
const HEAD_SCAN_PAGE = 64;

type AllPosition = typeof START | typeof END | { commit: bigint; prepare: bigint };

async function collect(events: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const collected: ResolvedEvent[] = [];
  try {
    for await (const event of events) collected.push(event);
  } catch (error) {
    throw unansweredRead(error, 'reading $all');
  }
  return collected;
}

/** A read the server did not answer is the port's StorageUnavailableError (a 503 on the command path). */
function unansweredRead(error: unknown, what: string): unknown {
  return isUnanswered(error)
    ? new StorageUnavailableError(`EventStoreDB did not answer ${what}`, { cause: error })
    : error;
}

function samePosition(
  position: { commit: bigint; prepare: bigint } | undefined,
  other: AllPosition,
): boolean {
  return typeof other === 'object' && position?.commit === other.commit && position.prepare === other.prepare;
}

/**
 * The EventStore port on EventStoreDB through @eventstore/db-client (docs/storage.md, "EventStoreDB
 * adapter"). Every append uses an exact expected revision, because the hash chain needs the previous event's
 * hash; each event is a binary event whose data is its canonical bytes, so the bytes hashed are the bytes
 * kept. Subscriptions yield checkpoints when asked (eventstoredb-subscription.ts); checkServer() refuses
 * servers older than MIN_SERVER_VERSION.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly recordsIdempotency = false;
  readonly capabilities: EventStoreCapabilities = {
    refusesEventIdsReusedElsewhere: false,
    subscriptions: true,
  };
  private readonly maxConcurrencyRetries: number;
  private readonly maxUnansweredRetries: number;
  private readonly unansweredRetryDelayMs: number;
  private readonly maxAppendSizeBytes: number;
  private closed = false;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private importer: EventStoreDbImporter | undefined;

  constructor(
    private readonly client: EventStoreDBClient,
    options: EventStoreDbEventStoreOptions = {},
  ) {
    this.maxConcurrencyRetries = options.maxConcurrencyRetries ?? DEFAULT_MAX_CONCURRENCY_RETRIES;
    this.maxUnansweredRetries = options.maxUnansweredRetries ?? DEFAULT_MAX_UNANSWERED_RETRIES;
    this.unansweredRetryDelayMs = options.unansweredRetryDelayMs ?? DEFAULT_UNANSWERED_RETRY_DELAY_MS;
    this.maxAppendSizeBytes = options.maxAppendSizeBytes ?? DEFAULT_MAX_APPEND_SIZE_BYTES;
  }

  static fromConnectionString(connectionString: string, options?: EventStoreDbEventStoreOptions) {
    // With throwOnAppendFailure=false the client answers a conflict as `success: false`; append handles
    // that form too, but refusing the setting keeps one path, the one the tests run.
    if (/[?&]throwOnAppendFailure=false(&|$)/i.test(connectionString)) {
      throw new Error('EVENTSTORE_CONNECTION_STRING: throwOnAppendFailure=false is not supported');
    }
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  async append(
    stream: string,
    events: NewEvent[],
    expectedRevision: ExpectedRevision,
    options?: AppendOptions,
  ): Promise<AppendResult> {
    this.assertOpen();
    if (options?.idempotency) {
      throw new Error(
        'EventStoreDbEventStore does not record idempotency: write the record after the append',
      );
    }
    validateAppend(stream, events, expectedRevision);
    const exactOnly = typeof expectedRevision === 'number' || expectedRevision === 'no_stream';
    for (let attempt = 0; ; attempt++) {
      const tail = exactOnly ? undefined : await this.readTail(stream, events.length);
      if (tail !== undefined) {
        // A retry of an `any` append that already landed: the server only checks ids at an exact revision.
        const replay = replayOf(stream, tail, events);
        if (replay) return replay;
        if (expectedRevision === 'stream_exists' && tail.length === 0) {
          throw new WrongExpectedRevisionError(stream, expectedRevision, -1);
        }
      }
      const current =
        typeof expectedRevision === 'number'
          ? expectedRevision
          : expectedRevision === 'no_stream'
            ? -1
            : (tail?.[0]?.revision ?? -1);
      try {
        return await this.appendAt(stream, events, expectedRevision, current);
      } catch (error) {
        if (
          error instanceof WrongExpectedRevisionError &&
          !exactOnly &&
          attempt < this.maxConcurrencyRetries
        ) {
          continue;
        }
        throw error;
      }
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const maxCount = maxCountOf(options.maxCount);
    if (maxCount === 0) return [];
    const from = options.fromRevision;
    if (typeof from === 'number' && !(Number.isSafeInteger(from) && from >= 0)) {
      throw new RangeError(`fromRevision must be a non-negative integer, not ${from}`);
    }
    const direction = options.direction ?? 'forwards';
    const fromRevision =
      from === 'start'
        ? START
        : from === 'end'
          ? END
          : from === undefined
            ? direction === 'forwards'
              ? START
              : END
            : BigInt(from);
    const read: StoredEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, {
        fromRevision,
        direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        maxCount,
      })) {
        const event = toStoredEvent(resolved);
        if (event) read.push(event);
      }
    } catch (error) {
      // The port reads an absent stream as empty; the client raises StreamNotFoundError for it.
      if (error instanceof StreamNotFoundError) return [];
      throw unansweredRead(error, `reading ${stream}`);
    }
    return read;
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = maxCountOf(options.maxCount);
    const from = options.fromPosition;
    const read: StoredEvent[] = [];
    // This client has no server-side filter on reads of $all: skip system and foreign events here and keep
    // reading pages until ours is full or $all ends.
    let cursor: AllPosition = from === undefined || from < 0n ? START : { commit: from, prepare: from };
    // Reads forwards from a position include it: after the first page, the event there was already taken.
    let taken: AllPosition | undefined;
    while (read.length < limit) {
      const requested = Math.min(limit - read.length, READ_ALL_PAGE) + (taken ? 1 : 0);
      // Each call is read to its end (a bounded count), so no gRPC call is left half-read.
      const resolved = await collect(
        this.client.readAll({ fromPosition: cursor, direction: FORWARDS, maxCount: requested }),
      );
      const fresh = taken && samePosition(resolved[0]?.event?.position, taken) ? resolved.slice(1) : resolved;
      for (const event of fresh) {
        const stored = toStoredEvent(event);
        if (stored && read.length < limit) read.push(stored);
      }
      const last = resolved.at(-1)?.event?.position;
      if (resolved.length < requested || last === undefined) break;
      cursor = last;
      taken = last;
    }
    return read;
  }

  subscribeToAll(options?: SubscribeToAllOptions & { checkpoints?: false }): Subscription;
  subscribeToAll(options: SubscribeToAllOptions & { checkpoints: true }): Subscription<SubscriptionItem>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription<SubscriptionItem>;
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription<SubscriptionItem> {
    this.assertOpen();
    const subscription = new EventStoreDbSubscription({
      client: this.client,
      options,
      toStoredEvent,
      isDrop: isUnanswered,
      onEnd: (ended) => this.subscriptions.delete(ended),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    // The last ledger event: system events ($statistics, $scavenges...) may follow it in $all.
    let cursor: AllPosition = END;
    for (;;) {
      const resolved = await collect(
        this.client.readAll({ fromPosition: cursor, direction: BACKWARDS, maxCount: HEAD_SCAN_PAGE }),
      );
      for (const event of resolved) {
        const stored = toStoredEvent(event);
        if (stored) return stored.position;
      }
      const last = resolved.at(-1)?.event?.position;
      // Reads backwards from a position start before it, so the cursor moves on by itself.
      if (resolved.length < HEAD_SCAN_PAGE || last === undefined) return -1n;
      cursor = last;
    }
  }

  /** Stores another ledger's events as they were stored (eventstoredb-import.ts), in the order given. */
  async importEvents(events: readonly StoredEvent[]): Promise<ImportResult> {
    this.assertOpen();
    this.importer ??= new EventStoreDbImporter(this.client, {
      format: LEDGER_EVENT_FORMAT,
      lastEvent: async (stream) => (await this.readTail(stream, 1))[0],
      isUnanswered,
      maxAppendSizeBytes: this.maxAppendSizeBytes,
      maxUnansweredRetries: this.maxUnansweredRetries,
      unansweredRetryDelayMs: this.unansweredRetryDelayMs,
    });
    return this.importer.import(events);
  }

  /**
   * Asks the server its version (the ServerFeatures service) and refuses one older than
   * MIN_SERVER_VERSION, or a refused release: the wiring calls this at start. Resolves with the version;
   * rejects with UnsupportedEventStoreServerError, or StorageUnavailableError when the server does not
   * answer.
   */
  async checkServer(): Promise<{ serverVersion: string }> {
    this.assertOpen();
    const serverVersion = await this.serverVersion();
    if (!isSupportedServerVersion(serverVersion)) throw new UnsupportedEventStoreServerError(serverVersion);
    return { serverVersion };
  }

  /**
   * The client fetches ServerFeatures itself (its appends ask it whether BatchAppend exists) and keeps the
   * answer in a protected member, its only way of exposing the server version; read it, checked, here.
   */
  private async serverVersion(): Promise<string> {
    let features: unknown;
    try {
      features = await Reflect.get(this.client, 'capabilities');
    } catch (error) {
      // Unreachable, or refusing the call: either way the ledger cannot start on it yet.
      throw new StorageUnavailableError('EventStoreDB did not answer the request for its version', {
        cause: error,
      });
    }
    if (typeof features === 'object' && features !== null && 'serverVersion' in features) {
      const { serverVersion } = features;
      if (typeof serverVersion === 'string') return serverVersion;
    }
    throw new Error('@eventstore/db-client no longer exposes the server version where the adapter reads it');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.unsubscribe()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('EventStoreDbEventStore is closed');
  }

  /** The last `count` events of the stream (at least one when it exists), newest first. */
  private async readTail(stream: string, count: number): Promise<StoredEvent[]> {
    return this.readStream(stream, {
      direction: 'backwards',
      fromRevision: 'end',
      maxCount: Math.max(count, 1),
    });
  }

  /** One append at an exact revision: `current` is the stream's last revision as the caller believes it. */
  private async appendAt(
    stream: string,
    events: NewEvent[],
    expected: ExpectedRevision,
    current: number,
  ): Promise<AppendResult> {
    let prevHash = ZERO_HASH;
    if (current >= 0) {
      const [previous] = await this.readStream(stream, { fromRevision: current, maxCount: 1 });
      if (previous?.revision !== current) {
        // The stream has no event at that revision, so the append cannot succeed: report where it is.
        const [last] = await this.readTail(stream, 1);
        throw new WrongExpectedRevisionError(stream, expected, last?.revision ?? -1);
      }
      prevHash = previous.metadata.hash;
    }
    const proposed = events.map((event, index) => {
      const revision = current + 1 + index;
      const { canonical, hash } = hashedEvent(stream, revision, event, prevHash);
      prevHash = hash;
      const ledgerMetadata: LedgerEventMetadata = {
        format: LEDGER_EVENT_FORMAT,
        hash,
        schemaVersion: event.schemaVersion,
      };
      // A plain object as metadata: the client JSON-encodes anything but a bare Uint8Array (a Buffer too).
      return binaryEvent({
        id: event.metadata.eventId,
        type: event.type,
        data: new Uint8Array(Buffer.from(canonical, 'utf8')),
        metadata: { ...ledgerMetadata },
      });
    });
    const size = proposed.reduce((sum, event) => sum + event.data.byteLength + 256, 0);
    if (size > this.maxAppendSizeBytes) throw new AppendTooLargeError(stream, this.maxAppendSizeBytes);
    let result: EsdbAppendResult;
    for (let attempt = 0; ; attempt++) {
      try {
        // The same request each time: at an exact revision, the server takes the same ids again as the
        // write it already stored (when the lost answer was a success), so a retry never appends twice.
        result = await this.client.appendToStream(stream, proposed, {
          expectedRevision: current === -1 ? 'no_stream' : BigInt(current),
        });
        break;
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          throw new WrongExpectedRevisionError(stream, expected, actualRevisionOf(error.actualVersion));
        }
        if (error instanceof MaxAppendSizeExceededError) {
          // The server's limit is lower than the one configured here: nothing was written.
          throw new AppendTooLargeError(stream, error.maxAppendSize, { cause: error });
        }
        if (!isUnanswered(error)) throw error;
        if (attempt >= this.maxUnansweredRetries) {
          throw new StorageUnavailableError(`EventStoreDB did not answer an append to ${stream}`, {
            cause: error,
          });
        }
        await delay(this.unansweredRetryDelayMs * 2 ** attempt);
      }
    }
    if (!result.success) {
      // throwOnAppendFailure=false answers a conflict this way. Its nextExpectedRevision is not the
      // stream's: through BatchAppend, client 6.2.1 reports 1 for any stream that exists. Read it instead.
      const [last] = await this.readTail(stream, 1);
      throw new WrongExpectedRevisionError(stream, expected, last?.revision ?? -1);
    }
    const nextExpectedRevision = Number(result.nextExpectedRevision);
    if (result.position) return { stream, nextExpectedRevision, position: result.position.commit };
    // An idempotent success comes without a position when the server could not read the original back.
    const [last] = await this.readStream(stream, { fromRevision: nextExpectedRevision, maxCount: 1 });
    const lastId = events[events.length - 1]?.metadata.eventId;
    if (last?.revision !== nextExpectedRevision || last.metadata.eventId !== lastId) {
      throw new Error(`EventStoreDB acknowledged ${stream}@${nextExpectedRevision} but it reads otherwise`);
    }
    return { stream, nextExpectedRevision, position: last.position };
  }
}

/** Errors after which an append may or may not be stored, or was refused by a follower: worth a retry. */
function isUnanswered(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function actualRevisionOf(actual: WrongExpectedVersionError['actualVersion']): number {
  return typeof actual === 'bigint' ? Number(actual) : -1;
}

/** When the stream's tail holds exactly these ids in order, the append already happened: its result. */
function replayOf(stream: string, tailNewestFirst: StoredEvent[], events: NewEvent[]): AppendResult | null {
  if (events.length === 0 || tailNewestFirst.length < events.length) return null;
  const oldestFirst = tailNewestFirst.slice(0, events.length).reverse();
  const same = oldestFirst.every(
    (stored, index) => stored.metadata.eventId === events[index].metadata.eventId,
  );
  if (same) {
    const last = oldestFirst[oldestFirst.length - 1];
    return { stream, nextExpectedRevision: last.revision, position: last.position };
  }
  const stored = new Set(tailNewestFirst.map((event) => event.metadata.eventId));
  const reused = events.find((event) => stored.has(event.metadata.eventId));
  if (reused) throw new DuplicateEventIdError(reused.metadata.eventId);
  return null;
}

/**
 * A ledger event from what the client read, or null for anything else in $all: system streams, other
 * applications' events, links. Positions must have prepare = commit: explicit transactions, where they
 * differ, are not supported, and a resume at `{commit: p, prepare: p}` would skip or repeat events.
 */
export function toStoredEvent(resolved: ResolvedEvent): StoredEvent | null {
  const recorded = resolved.event;
  if (!recorded || resolved.link || recorded.streamId.startsWith('$') || recorded.isJson) return null;
  const ledger = ledgerMetadataOf(recorded.metadata);
  if (!ledger || !(recorded.data instanceof Uint8Array)) return null;
  const position = recorded.position;
  if (!position)
    throw new Error(`EventStoreDB returned ${recorded.streamId}@${recorded.revision} without a position`);
  if (position.commit !== position.prepare) {
    throw new Error(
      `EventStoreDB event ${recorded.streamId}@${recorded.revision} has prepare position ${position.prepare} ` +
        `and commit position ${position.commit}: explicit transactions are not supported`,
    );
  }
  const canonical = Buffer.from(
    recorded.data.buffer,
    recorded.data.byteOffset,
    recorded.data.byteLength,
  ).toString('utf8');
  const parsed = parseCanonical(canonical);
  const revision = Number(recorded.revision);
  if (!parsed || parsed.stream !== recorded.streamId || parsed.revision !== revision) {
    throw new UnreadableStoredEventError(
      recorded.streamId,
      revision,
      position.commit,
      recorded.type,
      canonical,
      ledger.hash,
    );
  }
  const metadata: EventMetadata = { ...parsed.metadata, hash: ledger.hash };
  return {
    stream: recorded.streamId,
    revision,
    position: position.commit,
    type: recorded.type,
    schemaVersion: parsed.schemaVersion,
    data: parsed.data,
    metadata,
    canonical,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function ledgerMetadataOf(metadata: unknown): LedgerEventMetadata | null {
  if (!isRecord(metadata)) return null;
  const { format, hash, schemaVersion } = metadata;
  if (format !== LEDGER_EVENT_FORMAT || typeof hash !== 'string' || typeof schemaVersion !== 'number') {
    return null;
  }
  return { format, hash, schemaVersion };
}

interface ParsedCanonical {
  stream: string;
  revision: number;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: Omit<EventMetadata, 'hash'>;
}

/** The canonical bytes carry the whole event but its hash; their members are checked, not trusted. */
function parseCanonical(canonical: string): ParsedCanonical | null {
  let value: unknown;
  try {
    value = JSON.parse(canonical);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { stream, revision, schemaVersion, data, metadata } = value;
  if (
    typeof stream !== 'string' ||
    typeof revision !== 'number' ||
    typeof schemaVersion !== 'number' ||
    !isRecord(data) ||
    !isRecord(metadata)
  ) {
    return null;
  }
  const parsedMetadata = metadataOf(metadata);
  return parsedMetadata ? { stream, revision, schemaVersion, data, metadata: parsedMetadata } : null;
}

function metadataOf(value: Record<string, unknown>): Omit<EventMetadata, 'hash'> | null {
  const {
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
  } = value;
  if (
    typeof eventId !== 'string' ||
    typeof occurredAt !== 'string' ||
    typeof recordedAt !== 'string' ||
    typeof correlationId !== 'string' ||
    !(causationId === null || typeof causationId === 'string') ||
    typeof schemaVersion !== 'number' ||
    typeof prevHash !== 'string' ||
    !isRecord(actor) ||
    !optionalString(idempotencyKey) ||
    !optionalString(idempotencyScope) ||
    !optionalString(requestFingerprint)
  ) {
    return null;
  }
  const { kind, id, agentId } = actor;
  if ((kind !== 'service' && kind !== 'agent' && kind !== 'system') || typeof id !== 'string') return null;
  if (!optionalString(agentId)) return null;
  // Members absent from the canonical bytes stay absent, so the metadata re-encodes to the same bytes.
  return {
    eventId,
    occurredAt,
    recordedAt,
    actor: { kind, id, ...(agentId === undefined ? {} : { agentId }) },
    correlationId,
    causationId,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(idempotencyScope === undefined ? {} : { idempotencyScope }),
    ...(requestFingerprint === undefined ? {} : { requestFingerprint }),
    schemaVersion,
    prevHash,
  };
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

function validateAppend(stream: string, events: NewEvent[], expected: ExpectedRevision): void {
  if (typeof stream !== 'string' || stream.length === 0)
    throw new TypeError('stream must be a non-empty string');
  if (stream.startsWith('$')) throw new RangeError(`${stream}: streams starting with $ are EventStoreDB's`);
  if (events.length === 0) throw new RangeError('append needs at least one event');
  if (
    typeof expected === 'number'
      ? !(Number.isSafeInteger(expected) && expected >= 0)
      : !['any', 'no_stream', 'stream_exists'].includes(expected)
  ) {
    throw new RangeError(`Invalid expected revision ${String(expected)}`);
  }
  const ids = new Set<string>();
  for (const event of events) {
    const id = event.metadata?.eventId;
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('metadata.eventId is required');
    if (ids.has(id)) throw new DuplicateEventIdError(id);
    ids.add(id);
  }
}

function maxCountOf(maxCount: number | undefined): number {
  if (maxCount === undefined) return Number.MAX_SAFE_INTEGER;
  if (!(Number.isSafeInteger(maxCount) && maxCount >= 0)) {
    throw new RangeError(`maxCount must be a non-negative integer, not ${maxCount}`);
  }
  return maxCount;
}
