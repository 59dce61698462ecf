import { CHARGE_EVENT_TYPES, type ChargeEvent, type ChargeEventType } from './charge/charge.events';
import { CUSTOMER_EVENT_TYPES, type CustomerEvent, type CustomerEventType } from './customer/customer.events';
import { ISSUE_EVENT_TYPES, type IssueEvent, type IssueEventType } from './issue/issue.events';

export * from './shared/decider';
export * from './shared/domain-error';
export * from './shared/error-types';
export { sameContent, withoutUndefined } from './shared/plain-data';

export * from './charge/charge.events';
export * from './charge/charge.commands';
export * from './charge/charge.decider';
export * from './issue/issue.events';
export * from './issue/issue.commands';
export * from './issue/issue.decider';
export * from './customer/customer.events';
export * from './customer/customer.commands';
export * from './customer/customer.decider';

export type LedgerEvent = ChargeEvent | IssueEvent | CustomerEvent;
export type LedgerEventType = ChargeEventType | IssueEventType | CustomerEventType;
export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = Object.freeze([
  ...CHARGE_EVENT_TYPES,
  ...ISSUE_EVENT_TYPES,
  ...CUSTOMER_EVENT_TYPES,
]);

/** The current schema version of each event type; a breaking change bumps it and adds an upcaster. */
export const SCHEMA_VERSIONS = {
  ChargeSucceeded: 1,
  ChargeDeclined: 1,
  ChargeFailed: 1,
  RefundRequested: 1,
  RefundApproved: 1,
  RefundRejected: 1,
  RefundSucceeded: 1,
  RefundFailed: 1,
  RefundCanceled: 1,
  DisputeOpened: 1,
  DisputeEscalatedToChargeback: 1,
  DisputeEvidenceSubmitted: 1,
  DisputeWon: 1,
  DisputeLost: 1,
  DisputeAccepted: 1,
  IssueOpened: 1,
  IssueAssigned: 1,
  CustomerContacted: 1,
  NoteAdded: 1,
  ChargeLinked: 1,
  IssueEscalated: 1,
  IssueResolved: 1,
  IssueReopened: 1,
  IssueClosed: 1,
  FeedbackReceived: 1,
  FollowUpSent: 1,
  CustomerChurned: 1,
  CustomerReactivated: 1,
  CustomerDataErased: 1,
} as const satisfies Record<LedgerEventType, number>;
