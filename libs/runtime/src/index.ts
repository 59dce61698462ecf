export * from './config';
export * from './resources';
export * from './open-ledger';
export * from './embedded/embedded-ledger';
export * from './embedded/ledger-file';
export * from './embedded/standalone-projector';
export * from './embedded/projector-leases';
export {
  defaultRebuildThreads,
  rebuildAllInParallel,
  type ParallelRebuildProgress,
  type ParallelRebuildReport,
} from './threads/projector/parallel-rebuild';
export { WorkerProjections } from './threads/projector/worker-projections';
export { WorkerTreeBuilder } from './threads/merkle/worker-tree-builder';
export { SupervisedThread, type SupervisionOptions } from './threads/supervised-thread';
export { THREAD_NAMES } from './threads/thread-name';
export {
  connectEventStoreDb,
  EngineUnavailableError,
  FIRST_READ_DEADLINE_MS,
} from './eventstoredb/eventstoredb-ledger';
