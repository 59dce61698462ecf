import {
  binaryEvent,
  MaxAppendSizeExceededError,
  WrongExpectedVersionError,
  type EventStoreDBClient,
} from '@eventstore/db-client';
import {
  ABSENT_STREAM_HEAD,
  checkImportBatch,
  ImportRejectedError,
  StorageUnavailableError,
  type ImportHead,
  type ImportResult,
  type StoredEvent,
} from '@app/ledger';

export interface EventStoreDbImporterOptions {
  /** The adapter's marker of a ledger event in the small JSON metadata. */
  format: string;
  /** The stream's last ledger event on the server, if any (the adapter's backwards read). */
  lastEvent(stream: string): Promise<StoredEvent | undefined>;
  /** The adapter's classification of errors after which an append may or may not be stored. */
  isUnanswered(error: unknown): boolean;
  maxAppendSizeBytes: number;
  maxUnansweredRetries: number;
  unansweredRetryDelayMs: number;
}

/** Stream heads remembered between batches; past this many, the cache starts over (heads are read again). */
const MAX_CACHED_HEADS = 200_000;
/** Room left per event for its id, type and JSON metadata when sizing an append against the maximum. */
const EVENT_OVERHEAD_BYTES = 256;

/**
 * `importEvents` of the EventStoreDB adapter. The batch is checked whole first, against the server's heads
 * of its streams (read once per stream, then remembered: a migration's target has no other writer), so a
 * refused batch sends nothing. Then each run of consecutive events of one stream is one append at the
 * exact expected revision, in the batch's order, one at a time, so $all keeps the source's ledger order;
 * a run larger than the server's maximum append size is split. Each event is stored as `append` stores it:
 * binary data holding the canonical bytes given, JSON metadata {format, hash, schemaVersion}.
 */
export class EventStoreDbImporter {
  private readonly heads = new Map<string, ImportHead>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: EventStoreDbImporterOptions,
  ) {}

  async import(events: readonly StoredEvent[]): Promise<ImportResult> {
    if (events.length === 0) return { imported: 0, lastPosition: null };
    if (this.heads.size > MAX_CACHED_HEADS) this.heads.clear();
    for (const stream of new Set(events.map((event) => event.stream))) {
      if (this.heads.has(stream)) continue;
      const last = await this.options.lastEvent(stream);
      this.heads.set(
        stream,
        last ? { revision: last.revision, hash: last.metadata.hash } : ABSENT_STREAM_HEAD,
      );
    }
    checkImportBatch(events, (stream) => this.heads.get(stream) ?? ABSENT_STREAM_HEAD);
    let lastPosition: bigint | null = null;
    for (const run of this.runs(events)) {
      try {
        lastPosition = await this.appendRun(run);
      } catch (error) {
        // What the server holds of this stream is not known any more: read its head again next time.
        this.heads.delete(run[0].stream);
        throw error;
      }
      const last = run[run.length - 1];
      this.heads.set(last.stream, { revision: last.revision, hash: last.metadata.hash });
    }
    return { imported: events.length, lastPosition };
  }

  /** Consecutive events of one stream, each run under the maximum append size. */
  private *runs(events: readonly StoredEvent[]): Generator<StoredEvent[]> {
    let run: StoredEvent[] = [];
    let size = 0;
    for (const event of events) {
      const bytes = Buffer.byteLength(event.canonical, 'utf8') + EVENT_OVERHEAD_BYTES;
      if (bytes > this.options.maxAppendSizeBytes) {
        throw new RangeError(
          `${event.stream}@${event.revision} is about ${bytes} bytes, over the server's maximum append size ` +
            `of ${this.options.maxAppendSizeBytes}`,
        );
      }
      if (
        run.length > 0 &&
        (run[0].stream !== event.stream || size + bytes > this.options.maxAppendSizeBytes)
      ) {
        yield run;
        run = [];
        size = 0;
      }
      run.push(event);
      size += bytes;
    }
    if (run.length > 0) yield run;
  }

  private async appendRun(run: StoredEvent[]): Promise<bigint> {
    const { stream, revision } = run[0];
    const last = run[run.length - 1];
    const proposed = run.map((event) =>
      binaryEvent({
        id: event.metadata.eventId,
        type: event.type,
        data: new Uint8Array(Buffer.from(event.canonical, 'utf8')),
        // A plain object: the client JSON-encodes anything but a bare Uint8Array.
        metadata: {
          format: this.options.format,
          hash: event.metadata.hash,
          schemaVersion: event.schemaVersion,
        },
      }),
    );
    for (let attempt = 0; ; attempt++) {
      try {
        // The same ids at the same exact revision on a retry: the server takes a write it already stored
        // as done, so an answer lost on the way never stores a run twice.
        const result = await this.client.appendToStream(stream, proposed, {
          expectedRevision: revision === 0 ? 'no_stream' : BigInt(revision - 1),
        });
        if (!result.success) {
          throw new ImportRejectedError(
            stream,
            revision,
            'revision-mismatch',
            `the stream's last revision on the server is ${String(result.nextExpectedRevision)}`,
          );
        }
        if (result.position) return result.position.commit;
        // An idempotent success may come without a position: the stream's last event is the one stored.
        const stored = await this.options.lastEvent(stream);
        if (stored?.revision !== last.revision || stored.metadata.eventId !== last.metadata.eventId) {
          throw new Error(`EventStoreDB acknowledged ${stream}@${last.revision} but it reads otherwise`);
        }
        return stored.position;
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : -1;
          throw new ImportRejectedError(
            stream,
            revision,
            'revision-mismatch',
            `the stream's last revision on the server is ${actual}`,
          );
        }
        if (error instanceof MaxAppendSizeExceededError) {
          throw new RangeError(
            `An import to ${stream} exceeds the server's maximum of ${error.maxAppendSize}`,
            {
              cause: error,
            },
          );
        }
        if (!this.options.isUnanswered(error)) throw error;
        if (attempt >= this.options.maxUnansweredRetries) {
          throw new StorageUnavailableError(`EventStoreDB did not answer an import to ${stream}`, {
            cause: error,
          });
        }
        await new Promise((resolve) =>
          setTimeout(resolve, this.options.unansweredRetryDelayMs * 2 ** attempt),
        );
      }
    }
  }
}
