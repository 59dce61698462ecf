import type { ProjectionStatus, RebuildProgress, RebuildReport } from '@app/ledger';

/** Messages from the main thread to its projector thread. */
export type ToProjector =
  | { type: 'committed' }
  | { type: 'retry'; name: string }
  | { type: 'rebuild'; id: number; name: string; compare: boolean }
  | { type: 'stop' };

/** Messages from the projector thread. */
export type FromProjector =
  | { type: 'ready'; statuses: ProjectionStatus[] }
  | { type: 'status'; status: ProjectionStatus }
  | { type: 'rebuild-progress'; progress: RebuildProgress }
  | { type: 'rebuild-done'; id: number; report: RebuildReport }
  | { type: 'rebuild-failed'; id: number; kind: 'unknown' | 'in-progress' | 'error'; message: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export interface ProjectorThreadData {
  /** The SQLite file that holds the read models (and, in the embedded profile, the events). */
  file: string;
  /** Set in the EventStoreDB profile: the thread reads events through its own client of that server. */
  eventStoreConnectionString?: string;
  batchSize?: number;
}
