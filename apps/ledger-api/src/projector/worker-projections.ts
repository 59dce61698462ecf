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

/** Resolves once the thread says it is ready; rejects on its failure to start, or after 30 s. */
function untilReady(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
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
      worker.off('message', onMessage);
      reject(error);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}

interface Waiter {
  position: bigint;
  names: readonly string[];
  resolve(reached: boolean): void;
}

export interface WorkerProjectionsOptions {
  /** Told of each projector thread started, the first and every restart (diagnostics, tests). */
  onThread?: (worker: Worker) => void;
  /** Where a thread's crash and restart are reported; stderr by default. */
  log?: (message: string) => void;
  /**
   * Wait before restarting a crashed thread; default 1 s, doubled after each thread that ran less than a
   * minute, up to 30 s.
   */
  restartDelayMs?: number;
}

const MAX_RESTART_DELAY_MS = 30_000;
/** A thread that ran this long before crashing restarts after the first delay again. */
const STABLE_THREAD_MS = 60_000;

/**
 * ProjectionsControl of the embedded profile: the projector runs in a worker thread of this process. A
 * thread that stops unexpectedly (an uncaught error, out of memory) is started again after a delay, and
 * resumes every projection from its checkpoint; meanwhile each projection is reported failed, so /health
 * says "degraded", and commands go on being recorded (docs/projections.md, "The projector").
 */
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
  /** The running thread; undefined while a crashed one waits to be restarted. */
  private worker: Worker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs: number;
  private readonly log: (message: string) => void;

  private constructor(
    private readonly data: ProjectorThreadData,
    private readonly options: WorkerProjectionsOptions,
  ) {
    this.restartDelayMs = options.restartDelayMs ?? 1000;
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
  }

  /** Starts the thread and resolves once every projection is running (catching up or live). */
  static async start(
    data: ProjectorThreadData,
    options: WorkerProjectionsOptions = {},
  ): Promise<WorkerProjections> {
    const projections = new WorkerProjections(data, options);
    const worker = projections.spawn();
    try {
      await untilReady(worker);
    } catch (error) {
      projections.stopped = Promise.resolve();
      await worker.terminate();
      throw error;
    }
    return projections;
  }

  /** A new thread, supervised: its exit without stop() is a crash. */
  private spawn(): Worker {
    const fromSources = __filename.endsWith('.ts');
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        ...this.data,
        entry: join(__dirname, `projector-thread${fromSources ? '.ts' : '.js'}`),
        tsHook: fromSources ? join(__dirname, '../../../../scripts/run-ts.mjs') : undefined,
      },
    });
    const startedAt = Date.now();
    let failure: string | undefined;
    worker.on('message', (message: FromProjector) => {
      // A thread that could not start its projections is ended, and restarted like a crashed one.
      if (message.type === 'failed') {
        failure = message.message;
        void worker.terminate();
      }
      this.receive(message);
    });
    // Without a listener, the error of a crashed thread would be thrown in this one and end the process.
    worker.on('error', (error) => (failure = error.stack ?? error.message));
    worker.on('exit', (code) => {
      if (this.worker !== worker || this.stopped) return;
      this.worker = undefined;
      this.crashed(failure ?? `exit code ${code}`, Date.now() - startedAt);
    });
    this.worker = worker;
    this.options.onThread?.(worker);
    return worker;
  }

  private crashed(reason: string, ranForMs: number): void {
    if (ranForMs >= STABLE_THREAD_MS) this.restartDelayMs = this.options.restartDelayMs ?? 1000;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    const message = `the projector thread stopped (${reason.split('\n')[0]}); restarting it in ${delay} ms`;
    this.log(`projector: ${message}\n${reason}`);
    const at = new Date().toISOString();
    for (const status of this.statusByName.values()) {
      this.statusByName.set(status.name, {
        ...status,
        state: 'failed',
        // No event failed: eventType and stream are empty (docs/projections.md).
        failure: { position: status.position, eventType: '', stream: '', message, at },
      });
    }
    for (const pending of this.pendingRebuilds.values()) {
      pending.reject(new Error(`${message}; the rebuild did not finish`));
    }
    this.pendingRebuilds.clear();
    this.rebuildByName.clear();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.spawn();
    }, delay);
    this.restartTimer.unref();
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
      if (!this.send({ type: 'rebuild', id, name, compare: options.compare ?? false })) {
        this.pendingRebuilds.delete(id);
        reject(new Error('the projector thread is restarting; try the rebuild again shortly'));
      }
    });
  }

  /** Stops the projections (each finishes its batch) and the thread. */
  stop(): Promise<void> {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.stopped ??= new Promise<void>((resolve) => {
      if (!worker) return resolve();
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'stop' } satisfies ToProjector);
      // A thread that does not answer is terminated; its projections resume from their checkpoints.
      setTimeout(() => void worker.terminate(), 10_000).unref();
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

  /** False while a crashed thread waits to be restarted (what it was told is then moot). */
  private send(message: ToProjector): boolean {
    if (this.stopped || !this.worker) return false;
    this.worker.postMessage(message);
    return true;
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
