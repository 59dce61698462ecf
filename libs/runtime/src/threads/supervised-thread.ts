import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

const STARTUP_TIMEOUT_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A thread that ran this long before crashing restarts after the first delay again. */
const STABLE_THREAD_MS = 60_000;

/**
 * What a ledger thread evaluates first (`workerData.entry`, `workerData.tsHook`): the thread runs its
 * module with plain Node, so from the TypeScript sources (npm start, tests) the swc hook of
 * scripts/run-ts.mjs is registered first; a compiled build (each app's dist/ holds this library) loads the
 * .js beside this file.
 */
export const THREAD_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsHook) require(workerData.tsHook).register();
require(workerData.entry);
`;

/**
 * The workerData of a thread running `module` (relative to this folder, or absolute; without extension)
 * through THREAD_BOOTSTRAP: the .ts sources with the swc hook, or the compiled .js.
 */
export function threadWorkerData<Data extends object>(
  module: string,
  data: Data,
): Data & { entry: string; tsHook?: string } {
  const fromSources = __filename.endsWith('.ts');
  return {
    ...data,
    entry: resolve(__dirname, `${module}${fromSources ? '.ts' : '.js'}`),
    tsHook: fromSources ? join(__dirname, '../../../../scripts/run-ts.mjs') : undefined,
  };
}

/**
 * Every thread of the embedded profile says `{ type: 'ready' }` once started, or `{ type: 'failed', message }`
 * when it could not start: the reason, for a failure.
 */
const failureOf = (message: { type: string }): string | undefined =>
  message.type === 'failed' ? String((message as { message?: unknown }).message) : undefined;

export interface SupervisedThreadOptions<From> {
  /** As messages and logs name the thread: "projector", "Merkle tree". */
  name: string;
  /** The thread's module, relative to this folder (or absolute) and without extension. */
  module: string;
  workerData: object;
  /** Every message of every thread started, the first and each restart. */
  onMessage(message: From): void;
  /**
   * The thread stopped without stop(). `message` says so and when it restarts, without the error (which
   * may quote anything the thread held): the error and its stack go to `log` only.
   */
  onCrash(message: string): void;
  /** Told of each thread started, with the thread's name (diagnostics, tests). */
  onThread?: (worker: Worker, name: string) => void;
  /** Where a crash and its error's stack are reported; stderr by default. */
  log?: (message: string) => void;
  /**
   * Wait before restarting a crashed thread; default 1 s, doubled after each thread that ran less than a
   * minute, up to 30 s.
   */
  restartDelayMs?: number;
  /** How long a thread may take to say it is ready, at its first start and after a restart; default 30 s. */
  startTimeoutMs?: number;
}

/**
 * A worker thread of the embedded profile, started again when it stops unexpectedly (an uncaught error, out of
 * memory) instead of its error being thrown again in the main thread, which ended the process. Its first
 * start is awaited, and a thread that fails it is not restarted: start() rejects. A restart is not awaited;
 * messages posted during the delay before it are refused (post() answers false), those posted once the new
 * thread exists wait for it.
 */
/** What the users of a supervised thread (and their tests) may set of its supervision. */
export type SupervisionOptions = Pick<
  SupervisedThreadOptions<unknown>,
  'onThread' | 'log' | 'restartDelayMs' | 'startTimeoutMs'
>;

export class SupervisedThread<To, From extends { type: string }> {
  private worker: Worker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs: number;
  private stopped: Promise<void> | undefined;
  /** During the first start: an exit then fails start() instead of being a crash. */
  private starting = true;
  private readonly firstDelayMs: number;
  private readonly startTimeoutMs: number;
  private readonly log: (message: string) => void;

  private constructor(private readonly options: SupervisedThreadOptions<From>) {
    this.firstDelayMs = options.restartDelayMs ?? 1000;
    if (
      !Number.isInteger(this.firstDelayMs) ||
      this.firstDelayMs < 1 ||
      this.firstDelayMs > MAX_RESTART_DELAY_MS
    ) {
      throw new RangeError(`restartDelayMs must be an integer from 1 to ${MAX_RESTART_DELAY_MS}`);
    }
    this.restartDelayMs = this.firstDelayMs;
    this.startTimeoutMs = options.startTimeoutMs ?? STARTUP_TIMEOUT_MS;
    if (!Number.isInteger(this.startTimeoutMs) || this.startTimeoutMs < 1) {
      throw new RangeError('startTimeoutMs must be a positive integer');
    }
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
  }

  /** Starts the thread and resolves once it says it is ready. */
  static async start<To, From extends { type: string }>(
    options: SupervisedThreadOptions<From>,
  ): Promise<SupervisedThread<To, From>> {
    const thread = new SupervisedThread<To, From>(options);
    const worker = thread.spawn();
    try {
      await untilReady(worker, options.name, thread.startTimeoutMs);
    } catch (error) {
      thread.stopped = Promise.resolve();
      await worker.terminate();
      throw error;
    } finally {
      thread.starting = false;
    }
    return thread;
  }

  /** False while a crashed thread waits to be restarted, or after stop(). */
  post(message: To): boolean {
    if (this.stopped || !this.worker) return false;
    this.worker.postMessage(message);
    return true;
  }

  /** Asks the thread to stop with `message` (terminated after `timeoutMs`); no restart follows. */
  stop(message: To, timeoutMs: number): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.stopped ??= new Promise<void>((resolve) => {
      if (!worker) return resolve();
      worker.once('exit', () => resolve());
      worker.postMessage(message);
      setTimeout(() => void worker.terminate(), timeoutMs).unref();
    });
    return this.stopped;
  }

  private spawn(): Worker {
    const worker = new Worker(THREAD_BOOTSTRAP, {
      eval: true,
      workerData: threadWorkerData(this.options.module, this.options.workerData),
    });
    const startedAt = Date.now();
    let failure: string | undefined;
    // A restarted thread that hangs while it starts is ended, and restarted like a crashed one.
    const readyTimer = this.starting
      ? undefined
      : setTimeout(() => {
          failure = `it did not start within ${this.startTimeoutMs} ms`;
          void worker.terminate();
        }, this.startTimeoutMs).unref();
    worker.on('message', (message: From) => {
      if (message.type === 'ready') {
        // Before start()'s continuation runs: an exit right after 'ready' is a crash.
        this.starting = false;
        clearTimeout(readyTimer);
      }
      // A thread that could not start is ended, and restarted like a crashed one.
      const failed = failureOf(message);
      if (failed !== undefined) {
        failure = failed;
        void worker.terminate();
      }
      this.options.onMessage(message);
    });
    // Without a listener, the thread's uncaught error would be thrown in this one and end the process.
    worker.on('error', (error) => (failure = error.stack ?? error.message));
    worker.on('exit', (code) => {
      clearTimeout(readyTimer);
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopped || this.starting) return;
      this.crashed(failure ?? `exit code ${code}`, Date.now() - startedAt);
    });
    this.worker = worker;
    this.options.onThread?.(worker, this.options.name);
    return worker;
  }

  private crashed(reason: string, ranForMs: number): void {
    if (ranForMs >= STABLE_THREAD_MS) this.restartDelayMs = this.firstDelayMs;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
    const message = `the ${this.options.name} thread stopped unexpectedly; restarting it in ${delay} ms`;
    this.log(`${this.options.name}: ${message}: ${reason}`);
    this.options.onCrash(`${message} (the error is in the ledger's log)`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.spawn();
    }, delay);
    this.restartTimer.unref();
  }
}

/** Resolves once the thread says it is ready; rejects on its failure to start, or after `timeoutMs`. */
function untilReady(worker: Worker, name: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the ${name} thread did not start within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const onMessage = (message: { type: string }) => {
      const failed = failureOf(message);
      if (message.type !== 'ready' && failed === undefined) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (failed === undefined) resolve();
      else reject(new Error(`the ${name} thread failed to start: ${failed}`));
    };
    const onError = (error: Error) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      reject(error);
    };
    const onExit = (code: number) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(new Error(`the ${name} thread stopped before it was ready (exit code ${code})`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
