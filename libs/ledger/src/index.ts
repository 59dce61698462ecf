export * from './application/ports/event-store.port';
export * from './application/ports/api-key-store.port';
export * from './application/ports/idempotency-store.port';
export * from './application/ports/clock.port';
export * from './application/ports/read-model-store.port';
export * from './application/ports/lease-store.port';
export * from './application/ports/projections.port';
export * from './application/ports/digest-store.port';
export * from './application/ports/restarting-error';
export type { Projection, DocumentLookup } from './read-models/projection';
export { ProjectionRunner } from './read-models/projector/projection-runner';
export {
  PROJECTION_VERSIONS,
  ProjectorHost,
  recordProjectionVersion,
  type RebuildAllOptions,
  type RebuildOptions,
} from './read-models/projector/projector-host';
export { CHECKPOINT_POLL_INTERVAL_MS, PolledProjections } from './read-models/projector/polled-projections';
export { ProjectionStatusBoard } from './read-models/projector/projection-status-board';
export { DeferredCommits } from './read-models/projector/deferred-commits';
export {
  projectionLeaseName,
  ProjectionLeases,
  type ProjectionLeaseOptions,
} from './read-models/projector/projection-leases';
export { ALL_PROJECTIONS } from './read-models';
export { METRIC_NAMES, type MetricName } from './read-models/metrics/metric-computations';
export { DEFAULT_SLA_TARGETS, parseSlaTargets, type SlaTargets } from './read-models/sla/sla';
export * from './application/ids';
export * from './application/history-cut-off';
export * from './application/commands/command-meta';
export { createLedgerApp, type CreateAppOptions } from './http-entry';
export type { LedgerAdapters } from './http/ledger.module';
export type { EngineConnection, EngineContent } from './http/health.controller';
export * from './application/api-keys/api-keys';
export * from './audit';
export { eventsBetween } from './application/events-between';
