import type { EventStore } from '../../application/ports/event-store.port';
import {
  ProjectionsElsewhereError,
  type ProjectionsControl,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildReport,
} from '../../application/ports/projections.port';
import type { ReadModelStore } from '../../application/ports/read-model-store.port';
import type { Projection } from '../projection';
import { ProjectionStatusBoard } from './projection-status-board';

/**
 * How often the API reads the checkpoints when projections run in another process: the longest a
 * `minPosition` wait goes on after a projector committed the position it waits for (docs/projections.md).
 */
export const CHECKPOINT_POLL_INTERVAL_MS = 200;

/**
 * ProjectionsControl of an API whose projections run elsewhere (LEDGER_PROJECTIONS=external, typically
 * apps/ledger-projector): it projects nothing and learns of progress by reading each projection's
 * checkpoint in the read-model store every CHECKPOINT_POLL_INTERVAL_MS. Polling, rather than a change
 * feed, because it works on every read-model store the same way and costs one indexed read per projection.
 * A checkpoint holds only a position: the state is `live` at the head of the ledger and `catching-up`
 * below it (whether a projector is running at all shows in the lag), and a failure in the other process
 * is that process's to report. Retries and rebuilds are refused: they belong to the process that projects.
 */
export class PolledProjections implements ProjectionsControl {
  readonly runsElsewhere = true;
  private readonly board = new ProjectionStatusBoard();
  private readonly listeners: { name: string; listener(position: bigint): void }[] = [];
  /** recordedAt of the event at a position, for the lag in seconds; one entry per distinct position. */
  private recordedAt = new Map<string, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly readModels: ReadModelStore,
    private readonly eventStore: EventStore,
    private readonly projections: readonly Projection[],
    private readonly intervalMs: number,
  ) {
    for (const projection of projections) {
      this.board.set({
        name: projection.name,
        version: projection.version,
        state: 'starting',
        position: '-1',
        lastRecordedAt: null,
        failure: null,
      });
    }
  }

  /** Reads the checkpoints once (so the first answers are not "starting"), then every `intervalMs`. */
  static async start(
    readModels: ReadModelStore,
    eventStore: EventStore,
    projections: readonly Projection[],
    intervalMs = CHECKPOINT_POLL_INTERVAL_MS,
  ): Promise<PolledProjections> {
    const polled = new PolledProjections(readModels, eventStore, projections, intervalMs);
    // The collections exist before the first query, even when no projector has started yet (idempotent,
    // the projector does the same): a query then answers empty rather than failing.
    await readModels.ensureCollections(projections.flatMap((projection) => projection.collections));
    await polled.poll();
    polled.schedule();
    return polled;
  }

  statuses(): ProjectionStatus[] {
    return this.board.all();
  }

  rebuilds(): RebuildProgress[] {
    return [];
  }

  onAdvanced(name: string, listener: (position: bigint) => void): void {
    this.listeners.push({ name, listener });
  }

  waitFor(position: bigint, names: readonly string[], timeoutMs: number): Promise<boolean> {
    return this.board.waitFor(position, names, timeoutMs);
  }

  retry(name: string): Promise<void> {
    this.board.known(name);
    return Promise.reject(new ProjectionsElsewhereError(`retry ${name}`));
  }

  rebuild(name: string): Promise<RebuildReport> {
    this.board.known(name);
    return Promise.reject(new ProjectionsElsewhereError(`rebuild ${name}`));
  }

  /** Stops polling; pending waits answer false. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    this.board.cancelWaits();
  }

  private schedule(): void {
    if (this.stopped) return;
    // Each poll starts a full interval after the last one ended: a slow store is never read concurrently.
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Reads every checkpoint and the head, updates the statuses, and resolves the waits now satisfied. */
  async poll(): Promise<void> {
    const head = await this.eventStore.headPosition();
    const seen = new Map<string, string | null>();
    for (const projection of this.projections) {
      const position = await this.readModels.checkpoint(projection.name);
      const key = position.toString();
      const moved = this.board.get(projection.name)?.position !== key;
      let lastRecordedAt = seen.get(key) ?? this.recordedAt.get(key);
      if (lastRecordedAt === undefined) lastRecordedAt = await this.recordedAtOf(position);
      seen.set(key, lastRecordedAt);
      this.board.set({
        name: projection.name,
        version: projection.version,
        state: position >= head ? 'live' : 'catching-up',
        position: key,
        lastRecordedAt,
        failure: null,
      });
      if (moved) this.advanced(projection.name, position);
    }
    // Only the positions in use are kept: the cache never grows with the ledger.
    this.recordedAt = seen;
    this.board.settle();
  }

  /** A listener's error is its own: it must not stop the polling or the other listeners. */
  private advanced(name: string, position: bigint): void {
    for (const entry of this.listeners) {
      if (entry.name !== name) continue;
      try {
        entry.listener(position);
      } catch {
        // The listener reports its own failures (the metrics loader retries on the next query).
      }
    }
  }

  private async recordedAtOf(position: bigint): Promise<string | null> {
    if (position < 0n) return null;
    const [event] = await this.eventStore.readAll({ fromPosition: position, maxCount: 1 });
    return event?.metadata.recordedAt ?? null;
  }
}
