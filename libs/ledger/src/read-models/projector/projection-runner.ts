import {
  isSubscriptionCheckpoint,
  type EventStore,
  type StoredEvent,
  type Subscription,
  type SubscriptionItem,
} from '../../application/ports/event-store.port';
import {
  CheckpointMismatchError,
  type DocumentChange,
  type DocumentKey,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '../../application/ports/read-model-store.port';
import { LeaseLostError } from '../../application/ports/lease-store.port';
import type { ProjectionStatus } from '../../application/ports/projections.port';
import type { DocumentLookup, Projection } from '../projection';

export interface ProjectionRunnerOptions {
  /** Most events applied per transaction. */
  batchSize?: number;
  /** Called after every commit and state change (progress for /health, minPosition waits). */
  onStatus?: (status: ProjectionStatus) => void;
}

const DEFAULT_BATCH_SIZE = 2000;
const STORAGE_RETRY_MS = 2000;

/** Where documents are read and committed: the live store, or a staged generation during a rebuild. */
type ProjectionTarget = Pick<ReadModelStore, 'checkpoint' | 'commit' | 'getMany'> | StagedReadModels;

/** One key for a document of any collection, in the runner's and the held commits' maps. */
export const keyOf = (collection: string, id: string) => `${collection}\u0000${id}`;

/** The projection's write-once collections: written only, never fetched or read back. */
export const writeOnceCollections = (projection: Projection): ReadonlySet<string> =>
  new Set(projection.collections.filter((spec) => spec.writeOnce).map((spec) => spec.name));

interface AppliedBatch {
  /** The last version of each document changed by the applied events. */
  changes: DocumentChange[];
  applied: number;
  error?: unknown;
}

/**
 * Applies one batch: fetches every document the batch's events name (one getMany per collection; never
 * those of write-once collections), then applies the events in order over an overlay of this batch's own
 * changes. Pure apart from the reads. Returns the changes up to (excluding) a failing event, and the
 * failure. (Keeping documents between batches instead was measured slower, live and in rebuilds.)
 */
async function applyBatch(
  projection: Projection,
  target: ProjectionTarget,
  writeOnce: ReadonlySet<string>,
  events: readonly StoredEvent[],
): Promise<AppliedBatch> {
  const documents = new Map<string, ReadDocument | null>();
  const wanted = new Map<string, Set<string>>();
  const keysByEvent: DocumentKey[][] = [];
  for (const event of events) {
    const keys = projection.keysFor(event);
    keysByEvent.push(keys);
    for (const { collection, id } of keys) {
      if (writeOnce.has(collection)) continue;
      let ids = wanted.get(collection);
      if (!ids) wanted.set(collection, (ids = new Set()));
      ids.add(id);
    }
  }
  for (const [collection, ids] of wanted) {
    const found = await target.getMany(collection, [...ids]);
    for (const id of ids) documents.set(keyOf(collection, id), found.get(id) ?? null);
  }
  // Only the last version of each document is written: a batch often holds a whole stream's history.
  const latest = new Map<string, DocumentChange>();
  // A write-once document is written by its one event only: no need to keep its last version by key.
  const written: DocumentChange[] = [];
  const finish = (applied: number, error?: unknown) => ({
    changes: [...latest.values(), ...written],
    applied,
    error,
  });
  // One lookup for the batch, over the keys of the event being applied.
  let keys: DocumentKey[] = [];
  const lookup: DocumentLookup = {
    get(collection, id) {
      if (!keys.some((key) => key.collection === collection && key.id === id)) {
        throw new Error(`${projection.name} read ${collection}/${id}, which keysFor did not name`);
      }
      if (writeOnce.has(collection)) {
        throw new Error(`${projection.name} read ${collection}/${id} of a write-once collection`);
      }
      return documents.get(keyOf(collection, id)) ?? null;
    },
  };
  for (let index = 0; index < events.length; index++) {
    keys = keysByEvent[index];
    // An event that names no document can change none: the projection ignores it.
    if (keys.length === 0) continue;
    let produced: DocumentChange[];
    try {
      produced = projection.apply(events[index], lookup);
    } catch (error) {
      return finish(index, error);
    }
    for (const change of produced) {
      if (writeOnce.has(change.collection)) {
        written.push(change);
        continue;
      }
      const key = keyOf(change.collection, change.id);
      documents.set(key, change.doc);
      latest.delete(key);
      latest.set(key, change);
    }
  }
  return finish(events.length);
}

/**
 * Runs one projection from its checkpoint (DESIGN.md): a catch-up subscription to all events in global
 * order, batches applied in one transaction each together with the checkpoint. A crash between a batch's
 * writes and its commit loses the whole batch, which is then applied again from the unchanged checkpoint;
 * a batch is never applied twice, since commit() refuses a checkpoint that moved. A projection that throws
 * stops here (its failure is reported, the others run on) and resumes from the failing event on retry().
 */
export class ProjectionRunner {
  private statusValue: ProjectionStatus;
  private subscription: Subscription<SubscriptionItem> | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly batchSize: number;
  private readonly writeOnce: ReadonlySet<string>;

  constructor(
    readonly projection: Projection,
    private readonly eventStore: EventStore,
    private readonly target: ProjectionTarget,
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.writeOnce = writeOnceCollections(projection);
    this.statusValue = {
      name: projection.name,
      version: projection.version,
      state: 'starting',
      position: '-1',
      lastRecordedAt: null,
      failure: null,
    };
  }

  get status(): ProjectionStatus {
    return this.statusValue;
  }

  /** Following the ledger (started and not stopped; a failed projection has stopped by itself). */
  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Follows the ledger until stop(); failures stop only this projection. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.follow().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.unsubscribe();
    await this.running;
    if (this.statusValue.state !== 'failed') this.update({ state: 'stopped' });
  }

  /** After a failure: clears it and resumes from the failing event (once the failed run has wound down). */
  async retry(): Promise<void> {
    if (this.statusValue.state !== 'failed') return;
    await this.running;
    if (this.statusValue.state !== 'failed' || this.running) return;
    this.update({ state: 'starting', failure: null });
    this.start();
  }

  /**
   * Applies everything up to the head as it is now, then resolves (a rebuild, a test). Batches of
   * `batchSize`; `onProgress` after each commit.
   */
  async catchUp(onProgress?: (position: bigint, applied: number) => void, until?: bigint): Promise<number> {
    let position = await this.target.checkpoint(this.projection.name);
    const head = until ?? (await this.eventStore.headPosition());
    let applied = 0;
    this.update({ state: 'catching-up', position: position.toString() });
    while (position < head) {
      const read = await this.eventStore.readAll({ fromPosition: position + 1n, maxCount: this.batchSize });
      const events = read.filter((event) => event.position <= head);
      if (events.length === 0) break;
      position = await this.commitBatch(position, events);
      applied += events.length;
      onProgress?.(position, applied);
      if (this.statusValue.state === 'failed') break;
    }
    return applied;
  }

  private async follow(): Promise<void> {
    while (!this.stopping) {
      let checkpoint: bigint;
      try {
        checkpoint = await this.target.checkpoint(this.projection.name);
        const head = await this.eventStore.headPosition();
        this.update({ state: checkpoint >= head ? 'live' : 'catching-up', position: checkpoint.toString() });
      } catch (error) {
        await this.pauseAfterStorageError(error);
        continue;
      }
      let subscription: Subscription<SubscriptionItem>;
      try {
        // A projection that applied nothing yet starts at the beginning: -1 is no position on every engine
        // (EventStoreDB's positions are unsigned, and the client cannot send it).
        subscription = this.eventStore.subscribeToAll({
          fromPosition: checkpoint < 0n ? 'start' : checkpoint,
          checkpoints: true,
        });
      } catch (error) {
        if (this.stopping) return;
        await this.pauseAfterStorageError(error);
        continue;
      }
      this.subscription = subscription;
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        // A next() that lost the race below is kept: its event must be the first of the next batch.
        let pending: Promise<IteratorResult<SubscriptionItem>> | undefined;
        for (;;) {
          const first = await (pending ?? iterator.next());
          pending = undefined;
          if (first.done || this.stopping) return;
          const batch: StoredEvent[] = [];
          // The subscription's last checkpoint in this batch: every event before it is in the batch.
          let through: bigint | undefined;
          const take = (item: SubscriptionItem) => {
            if (!isSubscriptionCheckpoint(item)) batch.push(item);
            else if (through === undefined || item.position > through) through = item.position;
          };
          take(first.value);
          let ended = false;
          // Take what is buffered, and what arrives within LIVE_GAP_MS of the previous event, for at most
          // LIVE_WINDOW_MS: under load a transaction covers many events instead of one, at the cost of a
          // few milliseconds of projection lag.
          const windowEnds = Date.now() + LIVE_WINDOW_MS;
          while (batch.length < this.batchSize) {
            pending = iterator.next();
            const wait = Date.now() < windowEnds ? delay(LIVE_GAP_MS) : nextMacrotask();
            const next = await Promise.race([pending, wait]);
            if (next === MACROTASK) break;
            pending = undefined;
            if (next.done) {
              ended = true;
              break;
            }
            take(next.value);
          }
          checkpoint = await this.commitBatch(checkpoint, batch, through);
          if (this.statusValue.state === 'failed' || ended) return;
          if (this.statusValue.state !== 'live') {
            const head = await this.eventStore.headPosition();
            if (checkpoint >= head) this.update({ state: 'live' });
          }
        }
      } catch (error) {
        // Another instance holds this projection's lease now: it is that one's to run (the commit, refused
        // in its own transaction, wrote nothing).
        if (error instanceof LeaseLostError) return;
        // A rebuild was promoted, or another projector moved it: start again from the stored checkpoint.
        if (!(error instanceof CheckpointMismatchError)) await this.pauseAfterStorageError(error);
      } finally {
        await subscription.unsubscribe();
      }
    }
  }

  /**
   * The store failed (busy past its timeout, disk full): shown as failed in /health, then retried from
   * the checkpoint, since nothing of the batch was committed. Unlike an error of the projection itself,
   * which stays failed until retry().
   */
  private async pauseAfterStorageError(error: unknown): Promise<void> {
    this.update({
      state: 'failed',
      failure: {
        position: (BigInt(this.statusValue.position) + 1n).toString(),
        eventType: '',
        stream: '',
        message: `storage: ${error instanceof Error ? error.message : String(error)}; retrying`,
        at: new Date().toISOString(),
      },
    });
    await new Promise((resolve) => setTimeout(resolve, STORAGE_RETRY_MS));
    if (!this.stopping) this.update({ state: 'starting', failure: null });
  }

  /**
   * Applies and commits one batch that starts right after `from`; returns the new checkpoint. Used by
   * the runner itself and by a rebuild of every projection in one pass over the events. `through` is a
   * subscription checkpoint that came after every event of the batch: once they are all applied, the
   * checkpoint moves there (past events the store did not deliver); after a failure it never does.
   */
  async commitBatch(from: bigint, events: readonly StoredEvent[], through?: bigint): Promise<bigint> {
    const { changes, applied, error } = await applyBatch(
      this.projection,
      this.target,
      this.writeOnce,
      events,
    );
    const last = applied > 0 ? events[applied - 1] : undefined;
    let to = last ? last.position : from;
    if (error === undefined && through !== undefined && through > to) to = through;
    if (to !== from || changes.length > 0) await this.target.commit(this.projection.name, from, to, changes);
    if (last) this.update({ position: to.toString(), lastRecordedAt: last.metadata.recordedAt });
    else if (to !== from) this.update({ position: to.toString() });
    if (error !== undefined) {
      const failed = events[applied];
      this.update({
        state: 'failed',
        failure: {
          position: failed.position.toString(),
          eventType: failed.type,
          stream: failed.stream,
          message: error instanceof Error ? error.message : String(error),
          at: new Date().toISOString(),
        },
      });
    }
    return to;
  }

  private update(patch: Partial<ProjectionStatus>): void {
    this.statusValue = { ...this.statusValue, ...patch };
    this.options.onStatus?.(this.statusValue);
  }
}

const MACROTASK = Symbol('macrotask');
const nextMacrotask = () =>
  new Promise<typeof MACROTASK>((resolve) => setImmediate(() => resolve(MACROTASK)));
const delay = (ms: number) =>
  new Promise<typeof MACROTASK>((resolve) => setTimeout(() => resolve(MACROTASK), ms));

/**
 * Live batching: how long to wait for a next event, and for how long a batch may keep growing. The gap is
 * longer than the event store's commit interval under load (5–7 ms at 50 connections), so that a batch
 * spans the window instead of closing between two commits: at 10 ms / 100 ms the projector commits about
 * 10 transactions a second under bench:commands instead of 30, and the server does 15% more commands per
 * second (docs/projections.md).
 */
const LIVE_GAP_MS = 10;
const LIVE_WINDOW_MS = 100;
