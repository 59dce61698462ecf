/**
 * What the HTTP side needs from the projector, wherever it runs (a worker thread of ledger-api in the
 * embedded profile, apps/ledger-projector in production): its progress, read-your-writes waits, retries
 * and rebuilds.
 */

export type ProjectionState = 'starting' | 'catching-up' | 'live' | 'failed' | 'stopped';

export interface ProjectionFailure {
  /** The event the projection threw on; everything before it is applied and checkpointed. */
  position: string;
  eventType: string;
  stream: string;
  message: string;
  at: string;
}

export interface ProjectionStatus {
  name: string;
  version: number;
  state: ProjectionState;
  /** Position of the last event applied (the checkpoint); "-1" before the first. */
  position: string;
  /** recordedAt of the last event applied, for the lag in seconds. */
  lastRecordedAt: string | null;
  failure: ProjectionFailure | null;
}

export interface RebuildProgress {
  projection: string;
  phase: 'rebuilding' | 'comparing' | 'promoting' | 'done' | 'failed';
  applied: number;
  position: string;
  head: string;
  eventsPerSecond: number;
  startedAt: string;
  /** Why it failed (phase `failed`). */
  failure?: string;
}

export interface DocumentDifference {
  collection: string;
  id: string;
  kind: 'only-live' | 'only-rebuilt' | 'different';
}

export interface RebuildReport {
  projection: string;
  applied: number;
  seconds: number;
  eventsPerSecond: number;
  /** Compare mode: how many documents were compared, and the differences (the first 100 listed). */
  comparison?: { documents: number; differenceCount: number; differences: DocumentDifference[] };
  promoted: boolean;
}

export interface ProjectionsControl {
  /**
   * True when the projections run in another process (LEDGER_PROJECTIONS=external): this one only reads
   * their checkpoints, and refuses retries and rebuilds (ProjectionsElsewhereError).
   */
  readonly runsElsewhere?: boolean;
  /**
   * Calls `listener` each time the named projection's checkpoint is seen to move. Offered where progress
   * is learnt by polling the store (runsElsewhere), so that what keeps state from the read models (the
   * metrics snapshot) reads the new documents then rather than on the next query.
   */
  onAdvanced?(name: string, listener: (position: bigint) => void): void;
  statuses(): ProjectionStatus[];
  rebuilds(): RebuildProgress[];
  /** Resolves true once every named projection has applied `position`, false after `timeoutMs`. */
  waitFor(position: bigint, projections: readonly string[], timeoutMs: number): Promise<boolean>;
  retry(name: string): Promise<void>;
  rebuild(name: string, options: { compare?: boolean }): Promise<RebuildReport>;
}

export const PROJECTIONS_CONTROL = Symbol('ProjectionsControl');

export class UnknownProjectionError extends Error {
  override readonly name = 'UnknownProjectionError';
}

export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
}

/** A retry or rebuild asked of an API whose projections run in another process. */
export class ProjectionsElsewhereError extends Error {
  override readonly name = 'ProjectionsElsewhereError';
  constructor(action: string) {
    super(
      `Projections run in another process (LEDGER_PROJECTIONS=external), so this API cannot ${action}: ` +
        'run `ledger rebuild` beside the projector, or restart the projector to retry a failed projection',
    );
  }
}
