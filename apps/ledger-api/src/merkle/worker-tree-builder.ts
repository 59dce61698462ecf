import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MerkleTreeFollower } from '@app/ledger';
import type { FromTreeThread, ToTreeThread, TreeThreadData } from './messages';

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

// The thread runs its module with plain Node; from the TypeScript sources (npm start, tests) the swc hook
// of scripts/run-ts.mjs is registered first, a compiled build loads the .js beside this file.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsHook) require(workerData.tsHook).register();
require(workerData.entry);
`;

/** The tree builder as the main thread sees it: catch-ups run in the tree thread, answers come back. */
export class WorkerTreeBuilder implements MerkleTreeFollower {
  private readonly pending = new Map<number, { resolve(size: number): void; reject(error: Error): void }>();
  private nextId = 1;
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly onFollowError: (message: string) => void,
  ) {
    worker.on('message', (message: FromTreeThread) => this.receive(message));
    worker.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('the Merkle tree thread stopped'));
      this.pending.clear();
    });
  }

  static async start(
    data: TreeThreadData,
    onFollowError: (message: string) => void,
  ): Promise<WorkerTreeBuilder> {
    const fromSources = __filename.endsWith('.ts');
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        ...data,
        entry: join(__dirname, `tree-thread${fromSources ? '.ts' : '.js'}`),
        tsHook: fromSources ? join(__dirname, '../../../../scripts/run-ts.mjs') : undefined,
      },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the Merkle tree thread did not start within 30 s')),
        STARTUP_TIMEOUT_MS,
      );
      const onMessage = (message: FromTreeThread) => {
        if (message.type !== 'ready' && message.type !== 'failed') return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (message.type === 'ready') resolve();
        else reject(new Error(`the Merkle tree thread failed to start: ${message.message}`));
      };
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new WorkerTreeBuilder(worker, onFollowError);
  }

  catchUp(): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('the Merkle tree thread stopped'));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'catch-up', id });
    });
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.send({ type: 'stop' });
      // A thread that does not answer is terminated; the tree resumes from its last leaf.
      setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS).unref();
    });
    return this.stopped;
  }

  private send(message: ToTreeThread): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromTreeThread): void {
    switch (message.type) {
      case 'caught-up':
        this.pending.get(message.id)?.resolve(message.treeSize);
        this.pending.delete(message.id);
        return;
      case 'catch-up-failed':
        this.pending.get(message.id)?.reject(new Error(message.message));
        this.pending.delete(message.id);
        return;
      case 'follow-failed':
        this.onFollowError(message.message);
        return;
      case 'ready':
      case 'failed':
      case 'stopped':
        return;
    }
  }
}
