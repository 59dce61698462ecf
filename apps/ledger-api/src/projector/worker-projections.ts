import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  RebuildInProgressError,
  UnknownProjectionError,
  type ProjectionsControl,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildReport,
} from '@app/ledger';
import type { FromProjector, ProjectorThreadData, ToProjector } from './messages';

const STARTUP_TIMEOUT_MS = 30_000;
const WAKE_INTERVAL_MS = 5;

// The worker runs the thread's module with plain Node: from TypeScript sources (npm start, tests) the
// swc hook of scripts/run-ts.mjs is installed first; a compiled build loads the .js beside this file.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsHook) require(workerData.tsHook).register();
require(workerData.entry);
`;

interface Waiter {
  position: bigint;
  names: readonly string[];
  resolve(reached: boolean): void;
}

/** ProjectionsControl of the embedded profile: the projector runs in a worker thread of this process. */
export class WorkerProjections implements ProjectionsControl {
  private readonly statusByName = new Map<string, ProjectionStatus>();
  private readonly rebuildByName = new Map<string, RebuildProgress>();
  private readonly waiters = new Set<Waiter>();
  private readonly pendingRebuilds = new Map<
    number,
    { resolve(report: RebuildReport): void; reject(error: Error): void }
  >();
  private nextRebuildId = 1;
  private wakeTimer: NodeJS.Timeout | undefined;
  private lastWake = 0;
  private stopped: Promise<void> | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromProjector) => this.receive(message));
  }

  /** Starts the thread and resolves once every projection is running (catching up or live). */
  static async start(data: ProjectorThreadData): Promise<WorkerProjections> {
    const fromSources = __filename.endsWith('.ts');
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        ...data,
        entry: join(__dirname, `projector-thread${fromSources ? '.ts' : '.js'}`),
        tsHook: fromSources ? join(__dirname, '../../../../scripts/run-ts.mjs') : undefined,
      },
    });
    const projections = new WorkerProjections(worker);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the projector thread did not start within 30 s')),
        STARTUP_TIMEOUT_MS,
      );
      const onMessage = (message: FromProjector) => {
        if (message.type === 'ready' || message.type === 'failed') {
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('error', onError);
          if (message.type === 'ready') resolve();
          else reject(new Error(`the projector thread failed to start: ${message.message}`));
        }
      };
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
    return projections;
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
    return [...this.statusByName.values()];
  }

  rebuilds(): RebuildProgress[] {
    return [...this.rebuildByName.values()];
  }

  waitFor(position: bigint, names: readonly string[], timeoutMs: number): Promise<boolean> {
    if (this.reached(position, names)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        names,
        resolve: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async retry(name: string): Promise<void> {
    this.known(name);
    this.send({ type: 'retry', name });
  }

  rebuild(name: string, options: { compare?: boolean }): Promise<RebuildReport> {
    this.known(name);
    const id = this.nextRebuildId++;
    return new Promise((resolve, reject) => {
      this.pendingRebuilds.set(id, { resolve, reject });
      this.send({ type: 'rebuild', id, name, compare: options.compare ?? false });
    });
  }

  /** Stops the projections (each finishes its batch) and the thread. */
  stop(): Promise<void> {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.stopped ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      this.send({ type: 'stop' });
      // A thread that does not answer is terminated; its projections resume from their checkpoints.
      setTimeout(() => void this.worker.terminate(), 10_000).unref();
    }).then(() => {
      for (const waiter of this.waiters) waiter.resolve(false);
      for (const pending of this.pendingRebuilds.values()) pending.reject(new Error('the projector stopped'));
    });
    return this.stopped;
  }

  private known(name: string): void {
    if (!this.statusByName.has(name)) {
      throw new UnknownProjectionError(
        `No projection named ${name}; known: ${[...this.statusByName.keys()].join(', ')}`,
      );
    }
  }

  private reached(position: bigint, names: readonly string[]): boolean {
    return names.every((name) => {
      const status = this.statusByName.get(name);
      return status !== undefined && BigInt(status.position) >= position;
    });
  }

  private send(message: ToProjector): void {
    if (!this.stopped) this.worker.postMessage(message);
  }

  private receive(message: FromProjector): void {
    switch (message.type) {
      case 'ready':
        for (const status of message.statuses) this.statusByName.set(status.name, status);
        break;
      case 'status':
        this.statusByName.set(message.status.name, message.status);
        for (const waiter of this.waiters) {
          if (this.reached(waiter.position, waiter.names)) waiter.resolve(true);
        }
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
