import { chargeSummaryProjection } from './charge-summary/charge-summary.projection';
import { customerSummaryProjection } from './customer-summary/customer-summary.projection';
import { issueSummaryProjection } from './issue-summary/issue-summary.projection';
import { issueTimelineProjection } from './issue-timeline/issue-timeline.projection';
import { metricsProjection } from './metrics/metrics.projection';
import type { Projection } from './projection';

export * from './issue-summary/issue-summary.projection';
export * from './issue-timeline/issue-timeline.projection';
export { describeActor, describeChargeEvent, describeIssueEvent } from './issue-timeline/describe-event';
export * from './charge-summary/charge-summary.projection';
export * from './customer-summary/customer-summary.projection';
export * from './metrics/metrics.projection';

/** Every projection the projector runs, each with its own checkpoint. */
export const ALL_PROJECTIONS: readonly Projection[] = Object.freeze([
  issueSummaryProjection,
  issueTimelineProjection,
  chargeSummaryProjection,
  customerSummaryProjection,
  metricsProjection,
]);
