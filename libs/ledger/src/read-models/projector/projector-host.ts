import { canonicalize } from '../../audit/canonical-json';
import type { EventStore } from '../../application/ports/event-store.port';
import type {
  CollectionSpec,
  DocumentChange,
  ProjectionCommit,
  ReadDocument,
  ReadModelStore,
  StagedReadModels,
} from '../../application/ports/read-model-store.port';
import type { Projection } from '../projection';
import {
  RebuildInProgressError,
  UnknownProjectionError,
  type DocumentDifference,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildReport,
} from '../../application/ports/projections.port';
import { DeferredCommits, type DeferredCommitsOptions } from './deferred-commits';
import { ProjectionRunner, writeOnceCollections } from './projection-runner';
import { ProjectionLeases, type ProjectionLeaseOptions } from './projection-leases';

export interface RebuildOptions {
  /** Compare the rebuilt documents with the live ones at the same position instead of promoting. */
  compare?: boolean;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * How rebuildAll holds its commits (DeferredCommits). `flushAtDocuments`, when given, applies to every
 * projection in place of its own `rebuildHoldDocuments`.
 */
export type RebuildAllOptions = Pick<DeferredCommitsOptions, 'flushAtDocuments' | 'mayFlush'>;

/**
 * A rebuild's held commits for one projection: its write-once collections and its own
 * `rebuildHoldDocuments`, unless `options.flushAtDocuments` says otherwise.
 */
const heldCommits = (staged: StagedReadModels, projection: Projection, options: RebuildAllOptions = {}) =>
  new DeferredCommits(staged, {
    ...options,
    flushAtDocuments: options.flushAtDocuments ?? projection.rebuildHoldDocuments,
    writeOnce: writeOnceCollections(projection),
  });

/**
 * The version of each projection that built the stored documents (Projection.version), one document per
 * projection, written with a commit that leaves its checkpoint where it is.
 */
export const PROJECTION_VERSIONS = 'projection_versions';
const VERSIONS_COLLECTION: CollectionSpec = { name: PROJECTION_VERSIONS, indexes: [] };

/** Records that the stored documents of `projection` are of its current version. */
export async function recordProjectionVersion(store: ReadModelStore, projection: Projection): Promise<void> {
  await store.ensureCollections([VERSIONS_COLLECTION]);
  const position = await store.checkpoint(projection.name);
  const doc = { id: projection.name, version: projection.version };
  await store.commit(projection.name, position, position, [
    { collection: PROJECTION_VERSIONS, id: projection.name, doc },
  ]);
}

/**
 * The version that built a projection's stored documents: null when it has none yet (nothing applied);
 * 1 when documents exist from before versions were recorded.
 */
async function storedVersion(store: ReadModelStore, projection: Projection): Promise<number | null> {
  const doc = await store.get(PROJECTION_VERSIONS, projection.name);
  if (doc !== null) return Number(doc.version);
  return (await store.checkpoint(projection.name)) === -1n ? null : 1;
}

const MAX_REPORTED_DIFFERENCES = 100;
/** Events per batch of rebuildAll: a batch's documents stay young enough for V8's cheap scavenges. */
const REBUILD_BATCH_SIZE = 1000;

/**
 * Runs every projection of the ledger, each with its own runner and checkpoint, and rebuilds one into
 * staged storage on request. Used in ledger-api's projector worker thread and by apps/ledger-projector.
 */
export class ProjectorHost {
  private readonly runners = new Map<string, ProjectionRunner>();
  private readonly rebuilds = new Map<string, RebuildProgress>();
  /** Projections whose stored documents are of another version: rebuilt before they follow the ledger. */
  private readonly outdated = new Set<string>();
  private upgrading: Promise<void> = Promise.resolve();
  /** Standalone projectors: each projection runs only while this instance holds its lease. */
  private readonly leases: ProjectionLeases | undefined;

  constructor(
    private readonly eventStore: EventStore,
    private readonly store: ReadModelStore,
    readonly projections: readonly Projection[],
    private readonly options: {
      batchSize?: number;
      onStatus?: (status: ProjectionStatus) => void;
      onRebuildProgress?: (progress: RebuildProgress) => void;
      /** Run each projection only under its lease (several projector processes on one ledger). */
      leases?: ProjectionLeaseOptions;
    } = {},
  ) {
    const commits = new CommitCoalescer(store, () => this.followers());
    for (const projection of projections) {
      this.runners.set(
        projection.name,
        new ProjectionRunner(projection, eventStore, commits, {
          batchSize: options.batchSize,
          onStatus: options.onStatus,
        }),
      );
    }
    if (options.leases) {
      this.leases = new ProjectionLeases(
        {
          names: projections.map((projection) => projection.name),
          run: (name) => this.runLeased(name),
          halt: (name) => this.runner(name).stop(),
        },
        options.leases,
      );
    }
  }

  /**
   * The token under which this instance holds a projection's lease (undefined: not held): what the
   * commit path checks when the host runs under leases.
   */
  leaseToken(projection: string): bigint | undefined {
    return this.leases?.token(projection);
  }

  /**
   * Follows the ledger with every projection. One whose stored documents were built by another version
   * of it (Projection.version) is first rebuilt into staged storage, in the background, while the old
   * documents keep serving; it follows the ledger once promoted. A failed upgrade is reported in
   * rebuilds() and can be run again with rebuild().
   */
  async start(): Promise<void> {
    if (this.leases) {
      await this.store.ensureCollections([
        ...this.projections.flatMap((projection) => projection.collections),
        VERSIONS_COLLECTION,
      ]);
      await this.leases.start();
      return;
    }
    const upgrades = await this.prepare();
    for (const runner of this.runners.values()) {
      if (!this.outdated.has(runner.projection.name)) runner.start();
    }
    this.upgrading = (async () => {
      for (const projection of upgrades) await this.rebuild(projection.name).catch(() => undefined);
    })();
  }

  /** Collections, and the versions: fresh projections get theirs recorded; the outdated ones are returned. */
  private async prepare(): Promise<Projection[]> {
    await this.store.ensureCollections([
      ...this.projections.flatMap((projection) => projection.collections),
      VERSIONS_COLLECTION,
    ]);
    const outdated: Projection[] = [];
    for (const projection of this.projections) {
      const version = await storedVersion(this.store, projection);
      if (version === projection.version) continue;
      if (version === null) await recordProjectionVersion(this.store, projection);
      else {
        this.outdated.add(projection.name);
        outdated.push(projection);
      }
    }
    return outdated;
  }

  /**
   * A projection whose lease this instance just took: its version is checked under the lease (recording
   * it is a fenced commit), then it follows the ledger, or is first rebuilt if outdated.
   */
  private async runLeased(name: string): Promise<void> {
    const projection = this.runner(name).projection;
    const version = await storedVersion(this.store, projection);
    if (version === null) await recordProjectionVersion(this.store, projection);
    if (version === null || version === projection.version) {
      this.runner(name).start();
      return;
    }
    this.outdated.add(name);
    this.upgrading = this.upgrading.then(() =>
      this.rebuild(name).then(
        () => undefined,
        () => undefined,
      ),
    );
  }

  /** Resolves once the upgrades start() began have ended (rebuilt, or failed). */
  upgraded(): Promise<void> {
    return this.upgrading;
  }

  /** Stops every projection (each finishes its batch); under leases, then gives them all back. */
  async stop(): Promise<void> {
    await this.leases?.stop();
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
  }

  /** Runners following the ledger now: the commits a live batch can expect. */
  private followers(): number {
    let count = 0;
    for (const runner of this.runners.values()) if (runner.isRunning) count++;
    return count;
  }

  statuses(): ProjectionStatus[] {
    return [...this.runners.values()].map((runner) => runner.status);
  }

  rebuildProgress(): RebuildProgress[] {
    return [...this.rebuilds.values()];
  }

  retry(name: string): Promise<void> {
    return this.runner(name).retry();
  }

  /** Applies everything up to the current head in every projection, then resolves (tests, the CLI). */
  async catchUpAll(): Promise<void> {
    for (const projection of await this.prepare()) await this.rebuild(projection.name);
    for (const runner of this.runners.values()) await runner.catchUp();
  }

  /**
   * Rebuilds a projection from the first event into staged storage while the live one keeps serving,
   * then promotes it (atomic swap). In compare mode the live projection is paused, both are brought to
   * the same position, every document is compared, and the staged copy is discarded.
   */
  async rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildReport> {
    const live = this.runner(name);
    const previous = this.rebuilds.get(name)?.phase;
    if (previous !== undefined && previous !== 'done' && previous !== 'failed') {
      throw new RebuildInProgressError(`A rebuild of ${name} is already running`);
    }
    const projection = live.projection;
    const started = Date.now();
    const head = await this.eventStore.headPosition();
    let progress: RebuildProgress = {
      projection: name,
      phase: 'rebuilding',
      applied: 0,
      position: '-1',
      head: head.toString(),
      eventsPerSecond: 0,
      startedAt: new Date(started).toISOString(),
    };
    const report = (patch: Partial<RebuildProgress>) => {
      progress = { ...progress, ...patch };
      this.rebuilds.set(name, progress);
      this.options.onRebuildProgress?.(progress);
      options.onProgress?.(progress);
    };
    report({});
    const staged = await this.store.stage(name, projection.collections);
    try {
      const held = heldCommits(staged, projection);
      const rebuilder = new ProjectionRunner(projection, this.eventStore, held, {
        batchSize: Math.max(this.options.batchSize ?? 0, REBUILD_BATCH_SIZE),
      });
      const onBatch = (position: bigint, applied: number) =>
        report({
          applied,
          position: position.toString(),
          eventsPerSecond: Math.round(applied / Math.max((Date.now() - started) / 1000, 0.001)),
        });
      // Each pass ends with what it holds written, so that compare() and promote() see all of it.
      const pass = async (until?: bigint) => {
        const applied = await rebuilder.catchUp(onBatch, until);
        await held.flush();
        return applied;
      };
      let applied = await pass(options.compare ? head : undefined);
      if (rebuilder.status.state === 'failed') {
        throw new Error(
          `${name} failed at position ${rebuilder.status.failure?.position}: ${rebuilder.status.failure?.message}`,
        );
      }
      const seconds = (Date.now() - started) / 1000;
      if (options.compare) {
        report({ phase: 'comparing' });
        const wasRunning = live.isRunning;
        await live.stop();
        try {
          // Both at the same position: the live one may have gone past the head the rebuild stopped at.
          const liveAt = await this.store.checkpoint(name);
          const target = liveAt > head ? liveAt : head;
          applied += await pass(target);
          await new ProjectionRunner(projection, this.eventStore, this.store).catchUp(undefined, target);
          const comparison = await this.compare(projection, staged);
          await staged.discard();
          report({ phase: 'done' });
          return {
            projection: name,
            applied,
            seconds,
            eventsPerSecond: applied / seconds,
            comparison,
            promoted: false,
          };
        } finally {
          if (wasRunning) live.start();
        }
      }
      // Events appended during the rebuild: one more pass so the swap loses as little ground as possible.
      applied += await pass();
      report({ phase: 'promoting' });
      // The live runner is paused over the swap and restarted from the promoted checkpoint, so it never
      // believes it is further than the documents it now serves.
      const wasRunning = live.isRunning;
      await live.stop();
      let promoted = false;
      try {
        applied += await pass();
        await staged.promote();
        await recordProjectionVersion(this.store, projection);
        promoted = true;
      } finally {
        // An outdated projection follows the ledger from its first promoted rebuild on.
        if (wasRunning || (promoted && this.outdated.delete(name))) live.start();
      }
      report({ phase: 'done' });
      return { projection: name, applied, seconds, eventsPerSecond: applied / seconds, promoted: true };
    } catch (error) {
      report({ phase: 'failed', failure: error instanceof Error ? error.message : String(error) });
      await staged.discard().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Rebuilds every projection in one pass over the events (each event read once, applied to all), each
   * into its own staged storage, then promotes them one by one. What `bench:projections` measures.
   */
  async rebuildAll(
    onProgress?: (progress: {
      applied: number;
      position: bigint;
      head: bigint;
      eventsPerSecond: number;
    }) => void,
    options: RebuildAllOptions = {},
  ): Promise<{ applied: number; seconds: number; eventsPerSecond: number }> {
    const started = Date.now();
    const staged = await Promise.all(
      this.projections.map((projection) => this.store.stage(projection.name, projection.collections)),
    );
    try {
      const targets = staged.map((generation, index) =>
        heldCommits(generation, this.projections[index], options),
      );
      const rebuilders = this.projections.map(
        (projection, index) => new ProjectionRunner(projection, this.eventStore, targets[index]),
      );
      const batchSize = Math.max(this.options.batchSize ?? 0, REBUILD_BATCH_SIZE);
      let position = -1n;
      let applied = 0;
      let head = await this.eventStore.headPosition();
      for (;;) {
        const events = await this.eventStore.readAll({ fromPosition: position + 1n, maxCount: batchSize });
        if (events.length === 0) {
          head = await this.eventStore.headPosition();
          if (position >= head) break;
          continue;
        }
        for (const rebuilder of rebuilders) {
          await rebuilder.commitBatch(position, events);
          if (rebuilder.status.state === 'failed') {
            const failure = rebuilder.status.failure!;
            throw new Error(
              `${rebuilder.projection.name} failed at position ${failure.position}: ${failure.message}`,
            );
          }
        }
        position = events[events.length - 1].position;
        applied += events.length;
        onProgress?.({
          applied,
          position,
          head,
          eventsPerSecond: Math.round(applied / Math.max((Date.now() - started) / 1000, 0.001)),
        });
      }
      for (const target of targets) await target.flush();
      for (const generation of staged) await generation.promote();
      for (const projection of this.projections) await recordProjectionVersion(this.store, projection);
      const seconds = (Date.now() - started) / 1000;
      return { applied, seconds, eventsPerSecond: applied / seconds };
    } catch (error) {
      await Promise.all(staged.map((generation) => generation.discard().catch(() => undefined)));
      throw error;
    }
  }

  private async compare(
    projection: Projection,
    staged: StagedReadModels,
  ): Promise<NonNullable<RebuildReport['comparison']>> {
    const differences: DocumentDifference[] = [];
    let differenceCount = 0;
    let documents = 0;
    const note = (difference: DocumentDifference) => {
      differenceCount++;
      if (differences.length < MAX_REPORTED_DIFFERENCES) differences.push(difference);
    };
    for (const { name: collection } of projection.collections) {
      const order = { orderBy: { field: 'id', direction: 'asc' as const } };
      const liveDocs = this.store.scan(collection, order)[Symbol.asyncIterator]();
      const rebuiltDocs = staged.scan(collection, order)[Symbol.asyncIterator]();
      let a = await liveDocs.next();
      let b = await rebuiltDocs.next();
      while (!a.done || !b.done) {
        documents++;
        const left: ReadDocument | undefined = a.done ? undefined : a.value;
        const right: ReadDocument | undefined = b.done ? undefined : b.value;
        if (left && (!right || left.id < right.id)) {
          note({ collection, id: left.id, kind: 'only-live' });
          a = await liveDocs.next();
        } else if (right && (!left || right.id < left.id)) {
          note({ collection, id: right.id, kind: 'only-rebuilt' });
          b = await rebuiltDocs.next();
        } else {
          if (canonicalize(left) !== canonicalize(right))
            note({ collection, id: left!.id, kind: 'different' });
          a = await liveDocs.next();
          b = await rebuiltDocs.next();
        }
      }
    }
    return { documents, differenceCount, differences };
  }

  private runner(name: string): ProjectionRunner {
    const runner = this.runners.get(name);
    if (!runner) {
      throw new UnknownProjectionError(
        `No projection named ${name}; known: ${[...this.runners.keys()].join(', ')}`,
      );
    }
    return runner;
  }
}

const COALESCE_WAIT_MS = 5;

/**
 * The live runners' commits, gathered so that those of one batch share one transaction (commitTogether):
 * the runners follow the same events and close their batches within milliseconds of each other, so the
 * projector takes the write lock and writes the WAL once per batch instead of once per projection. A
 * commit waits until every following runner has one pending, or COALESCE_WAIT_MS after the first. Each
 * commit still succeeds or fails alone.
 */
class CommitCoalescer {
  private pending: Array<{ commit: ProjectionCommit; resolve(): void; reject(error: unknown): void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ReadModelStore,
    private readonly followers: () => number,
  ) {}

  checkpoint(projection: string): Promise<bigint> {
    return this.store.checkpoint(projection);
  }

  getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    return this.store.getMany(collection, ids);
  }

  commit(projection: string, from: bigint, to: bigint, changes: readonly DocumentChange[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ commit: { projection, from, to, changes }, resolve, reject });
      if (this.pending.length >= this.followers()) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), COALESCE_WAIT_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.store.commitTogether(batch.map(({ commit }) => commit)).then(
      (errors) =>
        errors.forEach((error, index) => (error ? batch[index].reject(error) : batch[index].resolve())),
      (error: unknown) => {
        for (const { reject } of batch) reject(error);
      },
    );
  }
}
