export * from './sqlite/open-sqlite';
export type { EventRow } from './sqlite/event-row';
export { refreshPlannerStatistics } from './sqlite/schema';
export * from './sqlite/sqlite-event-store';
export * from './sqlite/sqlite-idempotency-store';
export * from './sqlite/sqlite-digest-store';
export * from './sqlite/sqlite-verification-source';
export * from './sqlite/wal-checkpointer';
export { DEFAULT_POLL_INTERVAL_MS } from './sqlite/commit-notifier';
export { describeEventStoreContract, type EventStoreContractFactory } from './contract/event-store.contract';
export {
  describeIdempotencyStoreContract,
  type IdempotencyStoreContractFactory,
  type IdempotencyStoreContractSubject,
} from './contract/idempotency-store.contract';
export * from './eventstoredb-adapter';
