import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ALL_PROJECTIONS, type Projection } from '@app/ledger';
import { THREAD_BOOTSTRAP, threadWorkerData } from '../supervised-thread';

export interface RebuildThreadData {
  file: string;
  names: string[];
  batchSize?: number;
  /** A SharedArrayBuffer of one Int32: the threads' write mutex. */
  lock: SharedArrayBuffer;
}

export type FromRebuildThread =
  | { type: 'progress'; applied: number; position: string }
  | { type: 'done'; applied: number }
  | { type: 'failed'; message: string };

export interface ParallelRebuildProgress {
  /** Events applied by the thread that is furthest behind. */
  applied: number;
  eventsPerSecond: number;
}

export interface ParallelRebuildReport {
  applied: number;
  seconds: number;
  eventsPerSecond: number;
  /** The projections of each thread. */
  groups: string[][];
  /** When each group's thread was done, in seconds from the start: how well the work was shared. */
  groupSeconds: number[];
}

/**
 * Each rebuild thread's heap. A young generation of 96 MB (V8's default is 48 MB here) lets a batch's
 * documents and JSON die in scavenges instead of being promoted: measured at 1,000,000 events, alternating
 * runs, 53,400-56,100 events/s against 47,600-48,900 with the default; 192 MB gained little more for 140 MB.
 * An old generation limit of 512 MB, ten times what a thread keeps alive, makes V8 grow the heap as for a
 * small device rather than for a share of this machine's memory: the whole two-thread rebuild then peaked
 * at 440-460 MB RSS instead of 500-515, at the same speed. A thread that did reach it fails the rebuild
 * with a message saying so; nothing is promoted.
 */
const THREAD_HEAP = { maxYoungGenerationSizeMb: 96, maxOldGenerationSizeMb: 512 };

/** Threads of `rebuild all` unless told: two (the measured default), one on a one-core machine. */
export const defaultRebuildThreads = (): number => Math.min(2, availableParallelism());

/**
 * Shares the projections out between `threads` groups of about equal work, by their `rebuildWeight`
 * (heaviest first, each to the lightest group so far).
 */
export function balancedGroups(projections: readonly Projection[], threads: number): string[][] {
  const weight = (projection: Projection) => projection.rebuildWeight ?? 1;
  const groups = Array.from({ length: Math.max(1, Math.min(threads, projections.length)) }, () => ({
    names: [] as string[],
    weight: 0,
  }));
  for (const projection of [...projections].sort((a, b) => weight(b) - weight(a))) {
    const lightest = groups.reduce((best, group) => (group.weight < best.weight ? group : best));
    lightest.names.push(projection.name);
    lightest.weight += weight(projection);
  }
  return groups.map((group) => group.names);
}

/**
 * Rebuilds every read model from the first event into staged storage and promotes each, like
 * ProjectorHost.rebuildAll, with the projections shared out between worker threads that each read the
 * events once and use a core of their own (docs/projections.md). The live projector should be stopped
 * meanwhile (the CLI's `rebuild all`): a running one would find its checkpoints moved and start over.
 */
export async function rebuildAllInParallel(options: {
  file: string;
  threads?: number;
  batchSize?: number;
  onProgress?: (progress: ParallelRebuildProgress) => void;
}): Promise<ParallelRebuildReport> {
  const threads = options.threads ?? defaultRebuildThreads();
  const groups = balancedGroups(ALL_PROJECTIONS, threads);
  const lock = new SharedArrayBuffer(4);
  const started = Date.now();
  const applied = groups.map(() => 0);
  const groupSeconds = groups.map(() => 0);
  const runs = groups.map(
    (names, index) =>
      new Promise<number>((resolve, reject) => {
        const data = threadWorkerData<RebuildThreadData>('projector/rebuild-thread', {
          file: options.file,
          names,
          batchSize: options.batchSize,
          lock,
        });
        const worker = new Worker(THREAD_BOOTSTRAP, {
          eval: true,
          workerData: data,
          resourceLimits: THREAD_HEAP,
        });
        let settled = false;
        worker.on('message', (message: FromRebuildThread) => {
          if (message.type === 'progress') {
            applied[index] = message.applied;
            const slowest = Math.min(...applied);
            options.onProgress?.({
              applied: slowest,
              eventsPerSecond: Math.round(slowest / Math.max((Date.now() - started) / 1000, 0.001)),
            });
          } else if (message.type === 'done') {
            settled = true;
            groupSeconds[index] = (Date.now() - started) / 1000;
            resolve(message.applied);
          } else {
            settled = true;
            reject(new Error(`rebuild of ${names.join(', ')} failed: ${message.message}`));
          }
        });
        worker.on('error', (error: Error & { code?: string }) => {
          settled = true;
          reject(
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new Error(
                  `rebuild of ${names.join(', ')} failed: its thread used up its ` +
                    `${THREAD_HEAP.maxOldGenerationSizeMb} MB heap; rebuild in one thread (--threads 1)`,
                )
              : error,
          );
        });
        worker.on('exit', (code) => {
          if (!settled) reject(new Error(`the rebuild thread of ${names.join(', ')} exited with ${code}`));
        });
      }),
  );
  const results = await Promise.allSettled(runs);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
  const events = Math.max(...results.map((result) => (result as PromiseFulfilledResult<number>).value));
  const seconds = (Date.now() - started) / 1000;
  return { applied: events, seconds, eventsPerSecond: events / seconds, groups, groupSeconds };
}
