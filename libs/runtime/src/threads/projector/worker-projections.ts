import {
  RebuildInProgressError,
  RestartingError,
  ProjectionStatusBoard,
  UnknownProjectionError,
  type ProjectionsControl,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildReport,
} from '@app/ledger';
import { SupervisedThread, type SupervisionOptions } from '../supervised-thread';
import type { FromProjector, ProjectorThreadData, ToProjector } from './messages';

const WAKE_INTERVAL_MS = 5;
const STOP_TIMEOUT_MS = 10_000;

/**
 * ProjectionsControl of the embedded profile: the projector runs in a worker thread of this process. A
 * thread that stops unexpectedly (an uncaught error, out of memory) is started again after a delay, and
 * resumes every projection from its checkpoint; meanwhile each projection is reported failed, so /health
 * says "degraded", and commands go on being recorded (docs/projections.md, "The projector").
 */
export class WorkerProjections implements ProjectionsControl {
  private readonly board = new ProjectionStatusBoard();
  private readonly rebuildByName = new Map<string, RebuildProgress>();
  private readonly pendingRebuilds = new Map<
    number,
    { resolve(report: RebuildReport): void; reject(error: Error): void }
  >();
  private nextRebuildId = 1;
  private wakeTimer: NodeJS.Timeout | undefined;
  private lastWake = 0;
  private stopped: Promise<void> | undefined;
  private thread!: SupervisedThread<ToProjector, FromProjector>;

  private constructor() {}

  /** Starts the thread and resolves once every projection is running (catching up or live). */
  static async start(
    data: ProjectorThreadData,
    options: SupervisionOptions = {},
  ): Promise<WorkerProjections> {
    const projections = new WorkerProjections();
    projections.thread = await SupervisedThread.start<ToProjector, FromProjector>({
      ...options,
      name: 'projector',
      module: 'projector/projector-thread',
      workerData: data,
      onMessage: (message) => projections.receive(message),
      onCrash: (message) => projections.crashed(message),
    });
    return projections;
  }

  /** Until a new thread reports: every projection failed, and what the old one was doing abandoned. */
  private crashed(message: string): void {
    const at = new Date().toISOString();
    for (const status of this.board.all()) {
      this.board.set({
        ...status,
        state: 'failed',
        // No event failed: eventType and stream are empty (docs/projections.md).
        failure: { position: status.position, eventType: '', stream: '', message, at },
      });
    }
    for (const pending of this.pendingRebuilds.values()) {
      pending.reject(new RestartingError('projector', `${message}; the rebuild did not finish`));
    }
    this.pendingRebuilds.clear();
    this.rebuildByName.clear();
  }

  /**
   * Wakes the projector after a commit of this process (else it notices within its 50 ms poll): at once
   * when idle, and at most once per WAKE_INTERVAL_MS under load, when the projector batches anyway and a
   * message per commit would cost more than it saves.
   */
  committed(): void {
    if (this.wakeTimer) return;
    const wait = Math.max(0, this.lastWake + WAKE_INTERVAL_MS - Date.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.lastWake = Date.now();
      this.send({ type: 'committed' });
    }, wait);
  }

  statuses(): ProjectionStatus[] {
    return this.board.all();
  }

  rebuilds(): RebuildProgress[] {
    return [...this.rebuildByName.values()];
  }

  waitFor(position: bigint, names: readonly string[], timeoutMs: number): Promise<boolean> {
    return this.board.waitFor(position, names, timeoutMs);
  }

  async retry(name: string): Promise<void> {
    this.board.known(name);
    // The new thread resumes every projection anyway; until it is up there is nothing to tell.
    if (!this.send({ type: 'retry', name })) {
      throw new RestartingError('projector', 'The projector thread is restarting; retry shortly');
    }
  }

  rebuild(name: string, options: { compare?: boolean }): Promise<RebuildReport> {
    this.board.known(name);
    const id = this.nextRebuildId++;
    return new Promise((resolve, reject) => {
      this.pendingRebuilds.set(id, { resolve, reject });
      if (!this.send({ type: 'rebuild', id, name, compare: options.compare ?? false })) {
        this.pendingRebuilds.delete(id);
        reject(
          new RestartingError('projector', 'The projector thread is restarting; retry the rebuild shortly'),
        );
      }
    });
  }

  /** Stops the projections (each finishes its batch) and the thread. */
  stop(): Promise<void> {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    // A thread that does not answer is terminated; its projections resume from their checkpoints.
    this.stopped ??= this.thread.stop({ type: 'stop' }, STOP_TIMEOUT_MS).then(() => {
      this.board.cancelWaits();
      for (const pending of this.pendingRebuilds.values()) pending.reject(new Error('the projector stopped'));
    });
    return this.stopped;
  }

  /** False while a crashed thread waits to be restarted (what it was told is then moot). */
  private send(message: ToProjector): boolean {
    return this.thread.post(message);
  }

  private receive(message: FromProjector): void {
    switch (message.type) {
      case 'ready':
        for (const status of message.statuses) this.board.set(status);
        break;
      case 'status':
        this.board.set(message.status);
        this.board.settle();
        break;
      case 'rebuild-progress':
        this.rebuildByName.set(message.progress.projection, message.progress);
        break;
      case 'rebuild-done':
        this.pendingRebuilds.get(message.id)?.resolve(message.report);
        this.pendingRebuilds.delete(message.id);
        break;
      case 'rebuild-failed': {
        const error =
          message.kind === 'unknown'
            ? new UnknownProjectionError(message.message)
            : message.kind === 'in-progress'
              ? new RebuildInProgressError(message.message)
              : new Error(message.message);
        this.pendingRebuilds.get(message.id)?.reject(error);
        this.pendingRebuilds.delete(message.id);
        break;
      }
      case 'failed':
      case 'stopped':
        break;
    }
  }
}
