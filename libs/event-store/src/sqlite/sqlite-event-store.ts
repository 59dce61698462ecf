import type { Database, Statement } from 'better-sqlite3';
import {
  hashedEvent,
  canonicalize,
  DuplicateEventIdError,
  IdempotencyScopeTakenError,
  StorageBusyError,
  WrongExpectedRevisionError,
  ZERO_HASH,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type ImportResult,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
  type Subscription,
  type SubscriptionItem,
} from '@app/ledger';
import { commitNotifierFor, DEFAULT_POLL_INTERVAL_MS, type CommitNotifier } from './commit-notifier';
import { BOUND_LIMIT, isBusy, openSqlite, SQLITE_BUSY_TIMEOUT_MS } from './open-sqlite';
import { WalSyncer } from './wal-syncer';
import { ensureEventStoreSchema, INSERT_EVENT_SQL, UPSERT_STREAM_SQL } from './schema';
import { RecentEvents } from './recent-events';
import { SqliteSubscription } from './sqlite-subscription';
import { toStoredEvent, type EventRow } from './event-row';
import { IdempotencyTable } from './sqlite-idempotency-store';
import { SqliteEventImporter } from './sqlite-import';

interface StreamRow {
  revision: number;
  last_hash: string;
  last_position: number;
}

type ExistingEventRow = Pick<EventRow, 'event_id' | 'stream' | 'revision' | 'position' | 'type' | 'data'>;

export interface SqliteEventStoreOptions {
  /** Interval of the `PRAGMA data_version` poll that notices other connections' commits. */
  pollIntervalMs?: number;
  /** Most appends committed in one transaction; the rest wait for the next. */
  maxBatchSize?: number;
  /** Rows a subscription reads per query while catching up. */
  subscriptionPageSize?: number;
  /** Close the database handle in close(); set by open(), whose handle nobody else holds. */
  closeDatabase?: boolean;
  /**
   * When an append is acknowledged as durable (docs/storage.md):
   * - `commit`: COMMIT waits for the fsync (`synchronous=FULL`); the thread is blocked meanwhile.
   * - `wal-fsync`: COMMIT with `synchronous=NORMAL`, then a group fsync of the WAL on the thread pool
   *   before any append of the batch settles. The connection must be this store's own: others writing
   *   through it would not wait for that fsync. The default of open(); `commit` for a shared handle.
   */
  durability?: 'commit' | 'wal-fsync';
  /**
   * Called once a batch that wrote events is durable, e.g. to wake a projector thread at once instead of
   * at its next `data_version` poll.
   */
  onCommitted?: () => void;
  /**
   * What a batch does when another connection holds the write lock (the projector committing):
   * `block` waits in SQLite's busy handler, which sleeps the thread; `yield` (the default of open(), whose
   * connection is its own) tries again a millisecond later from a timer, so the event loop goes on serving
   * requests, giving up after the same 5 s as busy_timeout.
   */
  lockWait?: 'block' | 'yield';
  /**
   * `PRAGMA wal_autocheckpoint` of this connection, in pages (SQLite's default: 1000). A checkpoint runs
   * inside the COMMIT that crosses it, on the committing thread, and writes and fsyncs the database file:
   * the embedded profile leaves checkpoints to the projector thread, and sets a high mark here only as a
   * backstop for when that thread is not committing.
   */
  walAutocheckpointPages?: number;
}

interface PendingAppend {
  stream: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  options: AppendOptions | undefined;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: AppendResult; wrote: boolean } | { ok: false; error: unknown };

const DEFAULT_MAX_BATCH_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 500;
/** Pages of events the subscriptions share (RecentEvents): four of 500, a few seconds at full load. */
const RECENT_PAGES = 4;
const NO_LIMIT = -1;

/**
 * The EventStore port over one SQLite file (docs/storage.md). Appends are group-committed: every append
 * made before the next turn of the event loop joins one IMMEDIATE transaction, each inside its own
 * SAVEPOINT so a failing append rolls back alone, and every promise settles only after the COMMIT, whose
 * fsync (synchronous=FULL) is paid once per batch instead of once per append.
 */
export class SqliteEventStore implements EventStore {
  /** The events and their idempotency record share the file, so one transaction commits both. */
  readonly recordsIdempotency = true;
  /** Positions are rowids, dense from 1 (schema.ts). */
  readonly densePositions = true;
  private readonly notifier: CommitNotifier;
  private readonly maxBatchSize: number;
  private readonly pageSize: number;
  private readonly closeDatabase: boolean;
  private readonly queue: PendingAppend[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** When the batch at the head of the queue first found the write lock taken (lockWait `yield`). */
  private busySince: number | undefined;
  private readonly yieldOnLock: boolean;
  private closed = false;
  /** An fsync of the WAL failed: what was committed may not be on disk, so nothing more is accepted. */
  private failure: Error | undefined;
  private readonly walSyncer: WalSyncer | undefined;
  private readonly onCommitted: (() => void) | undefined;
  private readonly subscriptions = new Set<SqliteSubscription>();
  /** The pages unfiltered subscriptions read last, shared between them (the projector's runners). */
  private readonly recent: RecentEvents;
  /** Transactions committed and appends acknowledged, for benchmarks and the group-commit tests. */
  readonly stats = {
    commits: 0,
    appends: 0,
    /** fsyncs of the WAL made by this store (durability `wal-fsync`). */
    walSyncs: 0,
  };

  private readonly selectStream: Statement<[string], StreamRow>;
  private readonly selectByEventId: Statement<[string], ExistingEventRow>;
  private readonly insertEvent: Statement<[Omit<EventRow, 'position'>]>;
  private readonly upsertStream: Statement<[{ stream: string } & StreamRow]>;
  private readonly idempotencyRecords: IdempotencyTable;
  private readonly readForwards: Statement<[string, number, number], EventRow>;
  private readonly readBackwards: Statement<[string, number, number], EventRow>;
  private readonly readFromPosition: Statement<[number, number], EventRow>;
  private readonly selectHead: Statement<[], { head: number | null }>;
  private readonly commitBatch: (batch: PendingAppend[]) => Outcome[];
  private importer: SqliteEventImporter | undefined;

  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    return new SqliteEventStore(openSqlite(path), {
      closeDatabase: true,
      durability: 'wal-fsync',
      lockWait: 'yield',
      ...options,
    });
  }

  constructor(
    private readonly db: Database,
    options: SqliteEventStoreOptions = {},
  ) {
    ensureEventStoreSchema(db);
    this.notifier = commitNotifierFor(db, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.pageSize = options.subscriptionPageSize ?? DEFAULT_PAGE_SIZE;
    this.recent = new RecentEvents(RECENT_PAGES * this.pageSize);
    this.closeDatabase = options.closeDatabase ?? false;
    this.onCommitted = options.onCommitted;
    this.yieldOnLock = options.lockWait === 'yield';
    if (this.yieldOnLock) db.pragma('busy_timeout = 0');
    if (options.walAutocheckpointPages !== undefined) {
      if (!Number.isInteger(options.walAutocheckpointPages) || options.walAutocheckpointPages < 0) {
        throw new RangeError(`walAutocheckpointPages must be a non-negative integer`);
      }
      db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);
    }
    const walMode = !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
    if (options.durability === 'wal-fsync' && walMode) {
      db.pragma('synchronous = NORMAL');
      this.walSyncer = new WalSyncer(`${db.name}-wal`);
    }

    this.selectStream = db.prepare('SELECT revision, last_hash, last_position FROM streams WHERE stream = ?');
    this.selectByEventId = db.prepare(
      'SELECT event_id, stream, revision, position, type, data FROM events WHERE event_id = ?',
    );
    this.insertEvent = db.prepare(INSERT_EVENT_SQL);
    this.upsertStream = db.prepare(UPSERT_STREAM_SQL);
    this.idempotencyRecords = new IdempotencyTable(db);
    this.readForwards = db.prepare(
      `SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC ${BOUND_LIMIT}`,
    );
    this.readBackwards = db.prepare(
      `SELECT * FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC ${BOUND_LIMIT}`,
    );
    this.readFromPosition = db.prepare(
      `SELECT * FROM events WHERE position >= ? ORDER BY position ${BOUND_LIMIT}`,
    );
    this.selectHead = db.prepare('SELECT MAX(position) AS head FROM events');

    // Nested better-sqlite3 transactions are SAVEPOINTs: a throwing append is rolled back to its savepoint.
    const appendInSavepoint = db.transaction((pending: PendingAppend) => this.appendNow(pending));
    const batchTransaction = db.transaction((batch: PendingAppend[]) =>
      batch.map((pending): Outcome => {
        try {
          return { ok: true, ...appendInSavepoint(pending) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    this.commitBatch = (batch) => batchTransaction.immediate(batch);
  }

  append(
    stream: string,
    events: NewEvent[],
    expectedRevision: ExpectedRevision,
    options?: AppendOptions,
  ): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('SqliteEventStore is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ stream, events: [...events], expected: expectedRevision, options, resolve, reject });
      this.schedule();
    });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const limit = maxCountOf(options.maxCount);
    if (limit === 0) return [];
    const from = options.fromRevision;
    if (typeof from === 'number' && !(Number.isInteger(from) && from >= 0)) {
      throw new RangeError(`fromRevision must be a non-negative integer, not ${from}`);
    }
    const rows =
      (options.direction ?? 'forwards') === 'forwards'
        ? this.readForwards.all(
            stream,
            from === 'end'
              ? (this.selectStream.get(stream)?.revision ?? -1) + 1
              : from === 'start'
                ? 0
                : (from ?? 0),
            limit,
          )
        : this.readBackwards.all(
            stream,
            from === 'start' ? 0 : from === 'end' || from === undefined ? Number.MAX_SAFE_INTEGER : from,
            limit,
          );
    return rows.map(toStoredEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const limit = maxCountOf(options.maxCount);
    if (limit === 0) return [];
    const from = options.fromPosition ?? 1n;
    return this.readFromPosition.all(Number(from < 1n ? 1n : from), limit).map(toStoredEvent);
  }

  subscribeToAll(options?: SubscribeToAllOptions & { checkpoints?: false }): Subscription;
  subscribeToAll(options: SubscribeToAllOptions & { checkpoints: true }): Subscription<SubscriptionItem>;
  subscribeToAll(options?: SubscribeToAllOptions): Subscription<SubscriptionItem>;
  subscribeToAll(options: SubscribeToAllOptions = {}): Subscription<SubscriptionItem> {
    if (this.closed) throw new Error('SqliteEventStore is closed');
    const after =
      options.fromPosition === undefined || options.fromPosition === 'start'
        ? 0
        : Number(options.fromPosition);
    const subscription = new SqliteSubscription({
      db: this.db,
      notifier: this.notifier,
      after,
      streamPrefixes: options.filter?.streamPrefixes,
      pageSize: this.pageSize,
      recent: options.filter?.streamPrefixes === undefined ? this.recent : undefined,
      checkpoints: options.checkpoints === true,
      onEnd: (ended) => this.subscriptions.delete(ended),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Another connection has committed (its owner says so): wake waiting subscriptions now. */
  wake(): void {
    this.notifier.notify();
  }

  async headPosition(): Promise<bigint> {
    const { head } = this.selectHead.get()!;
    return head === null ? -1n : BigInt(head);
  }

  /** Stores another ledger's events as they were stored (sqlite-import.ts); one transaction per batch. */
  async importEvents(events: readonly StoredEvent[]): Promise<ImportResult> {
    if (this.closed) throw new Error('SqliteEventStore is closed');
    const result = (this.importer ??= new SqliteEventImporter(this.db)).import(events);
    if (result.imported > 0) this.notifier.notify();
    return result;
  }

  /** Commits what is queued, ends the subscriptions, and closes the handle when open() made it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    // The last batches may wait for the lock in SQLite's busy handler: nothing else runs any more.
    if (this.yieldOnLock && this.db.open) this.db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    while (this.queue.length > 0) this.flush();
    if (this.walSyncer) {
      await this.walSyncer.drained();
      this.walSyncer.close();
    }
    await Promise.all([...this.subscriptions].map((subscription) => subscription.unsubscribe()));
    if (this.closeDatabase && this.db.open) this.db.close();
  }

  private schedule(): void {
    if (this.retry) return;
    // setImmediate rather than a microtask: appends made by every I/O callback of this loop turn join in.
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.flush();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flush(): void {
    // Someone else's explicit transaction on this shared handle would turn our COMMIT into a RELEASE.
    if (this.db.inTransaction && !this.closed) return;
    const batch = this.queue.splice(0, this.maxBatchSize);
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch(batch);
      this.busySince = undefined;
    } catch (error) {
      // BEGIN or COMMIT failed (the write lock taken, a disk error): the transaction was rolled back whole.
      if (this.yieldOnLock && !this.closed && isBusy(error)) {
        this.busySince ??= Date.now();
        if (Date.now() - this.busySince < SQLITE_BUSY_TIMEOUT_MS) {
          this.queue.unshift(...batch);
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.flush();
            if (this.queue.length > 0) this.schedule();
          }, 1);
          return;
        }
      }
      const waited = this.busySince === undefined ? SQLITE_BUSY_TIMEOUT_MS : Date.now() - this.busySince;
      this.busySince = undefined;
      // Locked past the wait (busy_timeout, or the same time retried from timers): nothing was written.
      const failure = isBusy(error) ? new StorageBusyError(waited, { cause: error }) : error;
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.stats.commits++;
    this.stats.appends += batch.length;
    const wrote = outcomes.some((outcome) => outcome.ok && outcome.wrote);
    const settle = () => {
      if (wrote) {
        this.notifier.notify();
        this.onCommitted?.();
      }
      batch.forEach((pending, index) => {
        const outcome = outcomes[index];
        if (outcome.ok) pending.resolve(outcome.result);
        else pending.reject(outcome.error);
      });
    };
    if (!this.walSyncer) return settle();
    // Nothing of the batch settles before the WAL is on disk, replays included: what they answer with may
    // have been committed by an earlier batch whose fsync is still running.
    this.walSyncer.afterSync((error) => {
      if (!error) {
        this.stats.walSyncs++;
        return settle();
      }
      this.failure ??= new Error(`fsync of the event log failed; restart the ledger: ${error.message}`);
      for (const pending of batch) pending.reject(this.failure);
    });
  }

  /** One append, inside the batch transaction; throws to roll back its savepoint. */
  private appendNow({ stream, events, expected, options }: PendingAppend): {
    result: AppendResult;
    wrote: boolean;
  } {
    validateAppend(stream, events, expected);
    const head = this.selectStream.get(stream);
    const current = head?.revision ?? -1;

    const replay = this.findIdempotentReplay(stream, events, expected);
    if (replay) return { result: replay, wrote: false };

    const matches =
      expected === 'any' ||
      (expected === 'no_stream'
        ? current === -1
        : expected === 'stream_exists'
          ? current >= 0
          : current === expected);
    if (!matches) throw new WrongExpectedRevisionError(stream, expected, current);

    let revision = current;
    let prevHash = head?.last_hash ?? ZERO_HASH;
    let position = head?.last_position ?? -1;
    for (const event of events) {
      revision++;
      const { metadata, canonical, hash } = hashedEvent(stream, revision, event, prevHash);
      // Stored as JCS too, so parsing and re-encoding on verification gives back the canonical bytes.
      const inserted = this.insertEvent.run({
        stream,
        revision,
        event_id: metadata.eventId,
        type: event.type,
        schema_version: event.schemaVersion,
        data: canonicalize(event.data),
        metadata: canonicalize({ ...metadata, hash }),
        canonical,
        hash,
        recorded_at: metadata.recordedAt,
        idempotency_key: metadata.idempotencyKey ?? null,
      });
      position = Number(inserted.lastInsertRowid);
      prevHash = hash;
    }
    if (events.length > 0) {
      this.upsertStream.run({ stream, revision, last_hash: prevHash, last_position: position });
    }

    const result: AppendResult = { stream, nextExpectedRevision: revision, position: BigInt(position) };
    const idempotency = options?.idempotency;
    if (idempotency) {
      const written = this.idempotencyRecords.insert({
        scope: idempotency.scope,
        requestHash: idempotency.requestHash,
        status: idempotency.status,
        answer: {
          kind: 'outcome',
          stream,
          revision: result.nextExpectedRevision,
          position: result.position.toString(),
          extra: idempotency.extra,
          changed: true,
        },
        createdAt: events[0]?.metadata.recordedAt ?? new Date().toISOString(),
      });
      if (!written) throw new IdempotencyScopeTakenError(idempotency.scope);
    }
    return { result, wrote: events.length > 0 || idempotency !== undefined };
  }

  /**
   * EventStoreDB's idempotence: when every id of the batch is already stored, in this stream, in this order,
   * with the same type and data, at the revisions this append would have given them, the original result
   * is answered and nothing is written. Any other overlap is an error rather than a silent partial write.
   */
  private findIdempotentReplay(
    stream: string,
    events: NewEvent[],
    expected: ExpectedRevision,
  ): AppendResult | null {
    const existing = events.map((event) => this.selectByEventId.get(event.metadata.eventId));
    const firstFound = existing.findIndex((row) => row !== undefined);
    if (firstFound === -1) return null;
    const first = existing[0];
    const sameBatch =
      first !== undefined &&
      existing.every(
        (row, index) =>
          row !== undefined &&
          row.stream === stream &&
          row.revision === first.revision + index &&
          row.type === events[index].type &&
          row.data === canonicalize(events[index].data),
      );
    const startsWhereExpected =
      expected === 'no_stream'
        ? first?.revision === 0
        : typeof expected === 'number'
          ? first?.revision === expected + 1
          : true;
    if (!sameBatch || !startsWhereExpected) {
      throw new DuplicateEventIdError(events[firstFound].metadata.eventId);
    }
    const last = existing[existing.length - 1]!;
    return { stream, nextExpectedRevision: last.revision, position: BigInt(last.position) };
  }
}

function validateAppend(stream: string, events: NewEvent[], expected: ExpectedRevision): void {
  if (typeof stream !== 'string' || stream.length === 0)
    throw new TypeError('stream must be a non-empty string');
  if (!Array.isArray(events)) throw new TypeError('events must be an array');
  if (
    typeof expected === 'number'
      ? !(Number.isSafeInteger(expected) && expected >= 0)
      : !['any', 'no_stream', 'stream_exists'].includes(expected)
  ) {
    throw new RangeError(`Invalid expected revision ${String(expected)}`);
  }
  const ids = new Set<string>();
  for (const event of events) {
    if (typeof event.type !== 'string' || event.type.length === 0)
      throw new TypeError('event type is required');
    if (!Number.isSafeInteger(event.schemaVersion))
      throw new TypeError('event schemaVersion must be an integer');
    if (event.data === null || typeof event.data !== 'object' || Array.isArray(event.data)) {
      throw new TypeError('event data must be an object');
    }
    const id = event.metadata?.eventId;
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('metadata.eventId is required');
    if (ids.has(id)) throw new DuplicateEventIdError(id);
    ids.add(id);
  }
}

function maxCountOf(maxCount: number | undefined): number {
  if (maxCount === undefined) return NO_LIMIT;
  if (!(Number.isSafeInteger(maxCount) && maxCount >= 0)) {
    throw new RangeError(`maxCount must be a non-negative integer, not ${maxCount}`);
  }
  return maxCount;
}
