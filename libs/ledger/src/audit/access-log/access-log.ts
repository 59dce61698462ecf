import type { Clock } from '../../application/ports/clock.port';
import type { EventStore, NewEvent } from '../../application/ports/event-store.port';
import type { IdGenerator } from '../../application/ids';

export const ACCESS_LOG_STREAM_PREFIX = 'accesslog-';
export const ACCESS_RECORDED = 'AccessRecorded';
export const ACCESS_RECORDED_SCHEMA_VERSION = 1;
/** The actor of access-log events: the ledger itself, not the caller (who is in the data). */
export const ACCESS_LOG_ACTOR = { kind: 'system', id: 'access-log' } as const;

/** One read (or refused request) as recorded in the data of an `AccessRecorded` event. */
export interface AccessEntry {
  /** When the request arrived (ISO-8601 UTC). */
  at: string;
  /** The API key id, or "anonymous" when no valid key was sent. Never the key. */
  actor: string;
  roles: string[];
  method: string;
  /** The route pattern (`/issues/:issueId`), never the raw URL with its query. */
  route: string;
  /** The path parameters: the ids read. */
  ids: Record<string, string>;
  /** The streams those ids name (issueId -> issue-<id>, ...), for the `stream` filter. */
  streams: string[];
  /** The answer's HTTP status: 401 and 403 are failed authentications. */
  status: number;
  /** The client address as the server saw it. */
  ip: string;
}

/** Streams are per UTC day of the access, so a day is one hash chain. */
export function accessLogStream(at: string): string {
  return `${ACCESS_LOG_STREAM_PREFIX}${at.slice(0, 10)}`;
}

export function isAccessLogStream(stream: string): boolean {
  return stream.startsWith(ACCESS_LOG_STREAM_PREFIX);
}

export function accessRecordedEvent(entry: AccessEntry, eventId: string, recordedAt: string): NewEvent {
  return {
    type: ACCESS_RECORDED,
    schemaVersion: ACCESS_RECORDED_SCHEMA_VERSION,
    data: { ...entry },
    metadata: {
      eventId,
      occurredAt: entry.at,
      recordedAt,
      actor: { ...ACCESS_LOG_ACTOR },
      correlationId: eventId,
      causationId: null,
      schemaVersion: ACCESS_RECORDED_SCHEMA_VERSION,
    },
  };
}

/**
 * Most bytes of events in one access-log append: half of EventStoreDB's default maximum append size
 * (1 MiB), so that the estimate below can be off without an append being refused.
 */
export const MAX_ACCESS_LOG_APPEND_BYTES = 512 * 1024;

/**
 * More than an event's stored size: its JSON (the canonical bytes hold the same members), its stream, and
 * room for its revision, hashes and the store's own metadata.
 */
function estimatedBytes(stream: string, event: NewEvent): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8') + Buffer.byteLength(stream, 'utf8') + 512;
}

export interface AppendAccessEntriesOptions {
  /** Most estimated bytes per append (MAX_ACCESS_LOG_APPEND_BYTES). */
  maxAppendBytes?: number;
  /** Called after each append with the entries it stored, so a failure later on can keep only the rest. */
  onStored?: (entries: readonly AccessEntry[]) => void;
}

/**
 * Appends entries now, one append per day stream (expected revision `any`: several processes may write),
 * split so that no append exceeds `maxAppendBytes`: a backlog kept through failed flushes would otherwise
 * become one append larger than the event store takes, refused again at every flush.
 */
export async function appendAccessEntries(
  eventStore: EventStore,
  entries: readonly AccessEntry[],
  ids: IdGenerator,
  clock: Clock,
  options: AppendAccessEntriesOptions = {},
): Promise<void> {
  const maxAppendBytes = options.maxAppendBytes ?? MAX_ACCESS_LOG_APPEND_BYTES;
  const byStream = new Map<string, AccessEntry[]>();
  for (const entry of entries) {
    const stream = accessLogStream(entry.at);
    const list = byStream.get(stream);
    if (list) list.push(entry);
    else byStream.set(stream, [entry]);
  }
  const recordedAt = clock.now().toISOString();
  for (const [stream, list] of byStream) {
    let chunk: AccessEntry[] = [];
    let events: NewEvent[] = [];
    let bytes = 0;
    const appendChunk = async () => {
      await eventStore.append(stream, events, 'any');
      options.onStored?.(chunk);
      chunk = [];
      events = [];
      bytes = 0;
    };
    for (const entry of list) {
      const event = accessRecordedEvent(entry, ids.next(), recordedAt);
      const size = estimatedBytes(stream, event);
      if (events.length > 0 && bytes + size > maxAppendBytes) await appendChunk();
      chunk.push(entry);
      events.push(event);
      bytes += size;
    }
    if (events.length > 0) await appendChunk();
  }
}

export interface AccessLogRecorderOptions {
  /** Entries that trigger a flush at once. */
  maxBatch?: number;
  /** Longest an entry waits in memory before it is appended. */
  flushIntervalMs?: number;
  /** Entries kept while appends fail; the oldest beyond it are dropped (and reported). */
  maxBuffered?: number;
  /** Most estimated bytes per append (MAX_ACCESS_LOG_APPEND_BYTES). */
  maxAppendBytes?: number;
  onError?: (error: unknown, dropped: number) => void;
}

export const DEFAULT_ACCESS_LOG_BATCH = 100;
export const DEFAULT_ACCESS_LOG_FLUSH_MS = 1000;

/**
 * Buffers access entries and appends them in batches: when `maxBatch` are waiting, else `flushIntervalMs`
 * after the first one, and on close. Reads are never slowed by the log: `record` only pushes. One flush runs
 * at a time; a failed append keeps its entries for the next flush (bounded by `maxBuffered`), and a flush
 * splits what it holds into appends under the event store's maximum append size.
 */
export class AccessLogRecorder {
  private buffer: AccessEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly eventStore: EventStore,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: AccessLogRecorderOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_ACCESS_LOG_BATCH;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_ACCESS_LOG_FLUSH_MS;
    this.maxBuffered = options.maxBuffered ?? 100_000;
  }

  record(entry: AccessEntry): void {
    this.buffer.push(entry);
    if (this.closed || this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Appends everything buffered so far; resolves when it is stored (or the append failed and was reported). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const stored = new Set<AccessEntry>();
    this.flushing = appendAccessEntries(this.eventStore, batch, this.ids, this.clock, {
      maxAppendBytes: this.options.maxAppendBytes,
      onStored: (entries) => entries.forEach((entry) => stored.add(entry)),
    }).then(
      () => undefined,
      (error: unknown) => {
        // Only what no append stored is kept: a batch split over several appends may fail part way.
        this.buffer = [...batch.filter((entry) => !stored.has(entry)), ...this.buffer];
        const dropped = Math.max(0, this.buffer.length - this.maxBuffered);
        if (dropped > 0) this.buffer.splice(0, dropped);
        this.options.onError?.(error, dropped);
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.buffer.length > 0 && !this.closed) {
      this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
    }
  }

  /** Flushes what is buffered; entries recorded afterwards are appended at once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
