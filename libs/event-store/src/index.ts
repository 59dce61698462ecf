export * from './sqlite/open-sqlite';
export * from './sqlite/sqlite-event-store';
export * from './sqlite/sqlite-idempotency-store';
export { DEFAULT_POLL_INTERVAL_MS } from './sqlite/commit-notifier';
export { describeEventStoreContract, type EventStoreContractFactory } from './contract/event-store.contract';
