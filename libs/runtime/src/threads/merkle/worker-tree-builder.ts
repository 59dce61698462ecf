import { RestartingError, type MerkleTreeFollower } from '@app/ledger';
import { SupervisedThread, type SupervisionOptions } from '../supervised-thread';
import type { FromTreeThread, ToTreeThread, TreeThreadData } from './messages';

const STOP_TIMEOUT_MS = 10_000;

/**
 * The tree builder as the main thread sees it: catch-ups run in the tree thread, answers come back. A
 * thread that stops unexpectedly is started again after a delay and resumes from the tree's last leaf;
 * the catch-ups it was answering fail, and those asked for meanwhile too.
 */
export class WorkerTreeBuilder implements MerkleTreeFollower {
  private readonly pending = new Map<number, { resolve(size: number): void; reject(error: Error): void }>();
  private nextId = 1;
  private stopped: Promise<void> | undefined;
  private thread!: SupervisedThread<ToTreeThread, FromTreeThread>;

  private constructor(private readonly onFollowError: (message: string) => void) {}

  static async start(
    data: TreeThreadData,
    onFollowError: (message: string) => void,
    options: SupervisionOptions = {},
  ): Promise<WorkerTreeBuilder> {
    const builder = new WorkerTreeBuilder(onFollowError);
    builder.thread = await SupervisedThread.start<ToTreeThread, FromTreeThread>({
      ...options,
      name: 'Merkle tree',
      module: 'merkle/tree-thread',
      workerData: data,
      onMessage: (message) => builder.receive(message),
      onCrash: (message) => builder.failPending(new RestartingError('Merkle tree', message)),
    });
    return builder;
  }

  catchUp(): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('the Merkle tree thread stopped'));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.thread.post({ type: 'catch-up', id })) {
        this.pending.delete(id);
        reject(new RestartingError('Merkle tree', 'The Merkle tree thread is restarting; retry shortly'));
      }
    });
  }

  stop(): Promise<void> {
    // A thread that does not answer is terminated; the tree resumes from its last leaf.
    this.stopped ??= this.thread
      .stop({ type: 'stop' }, STOP_TIMEOUT_MS)
      .then(() => this.failPending(new Error('the Merkle tree thread stopped')));
    return this.stopped;
  }

  private failPending(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
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
