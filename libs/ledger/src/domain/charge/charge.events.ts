import type { DomainEvent } from '../shared/decider';

export const chargeStream = (chargeId: string): string => `charge-${chargeId}`;

export const CHARGE_OUTCOMES = ['succeeded', 'declined', 'failed'] as const;
export type ChargeOutcome = (typeof CHARGE_OUTCOMES)[number];

export const FAILURE_CATEGORIES = [
  'insufficient_funds',
  'invalid_details',
  'fraud_suspected',
  'processor_error',
  'limit_exceeded',
  'other',
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export const REFUND_REASONS = [
  'duplicate',
  'fraudulent',
  'requested_by_customer',
  'billing_error',
  'other',
] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const REFUND_FAILURE_REASONS = [
  'lost_or_stolen_card',
  'expired_or_canceled_card',
  'insufficient_funds',
  'declined',
  'merchant_request',
  'unknown',
] as const;
export type RefundFailureReason = (typeof REFUND_FAILURE_REASONS)[number];

export const DISPUTE_KINDS = ['inquiry', 'chargeback'] as const;
export type DisputeKind = (typeof DISPUTE_KINDS)[number];

/** Stripe's dispute reasons. */
export const DISPUTE_REASONS = [
  'bank_cannot_process',
  'credit_not_processed',
  'customer_initiated',
  'debit_not_authorized',
  'duplicate',
  'fraudulent',
  'general',
  'incorrect_account_details',
  'insufficient_funds',
  'product_not_received',
  'product_unacceptable',
  'subscription_canceled',
  'unrecognized',
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

export const DISPUTE_CLOSE_OUTCOMES = ['won', 'lost', 'accepted'] as const;
export type DisputeCloseOutcome = (typeof DISPUTE_CLOSE_OUTCOMES)[number];

/** What every charge outcome reports. */
export interface ChargeRecordedData {
  chargeId: string;
  customerId: string;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217. */
  currency: string;
  method?: string;
  provider?: string;
  merchantId?: string;
}

/** Declines and failures keep the provider's raw code next to our category. */
export interface ChargeUnsuccessfulData extends ChargeRecordedData {
  declineCode?: string;
  failureCategory?: FailureCategory;
}

export type ChargeSucceeded = DomainEvent<'ChargeSucceeded', ChargeRecordedData>;
export type ChargeDeclined = DomainEvent<'ChargeDeclined', ChargeUnsuccessfulData>;
export type ChargeFailed = DomainEvent<'ChargeFailed', ChargeUnsuccessfulData>;

export interface RefundRef {
  chargeId: string;
  refundId: string;
}

export type RefundRequested = DomainEvent<
  'RefundRequested',
  RefundRef & { amount: number; reason: RefundReason; dueBy?: string }
>;
export type RefundApproved = DomainEvent<'RefundApproved', RefundRef>;
export type RefundRejected = DomainEvent<'RefundRejected', RefundRef & { reason: string }>;
export type RefundSucceeded = DomainEvent<'RefundSucceeded', RefundRef>;
export type RefundFailed = DomainEvent<'RefundFailed', RefundRef & { failureReason: RefundFailureReason }>;
export type RefundCanceled = DomainEvent<'RefundCanceled', RefundRef & { reason?: string }>;

export interface DisputeRef {
  chargeId: string;
  disputeId: string;
}

export interface DisputeOpenedData extends DisputeRef {
  amount: number;
  reason: DisputeReason;
  kind: DisputeKind;
  /** The card network's raw reason code. */
  networkReasonCode?: string;
  evidenceDueBy?: string;
}

export interface DisputeEscalatedData extends DisputeRef {
  networkReasonCode?: string;
  evidenceDueBy?: string;
}

export type DisputeOpened = DomainEvent<'DisputeOpened', DisputeOpenedData>;
export type DisputeEscalatedToChargeback = DomainEvent<'DisputeEscalatedToChargeback', DisputeEscalatedData>;
export type DisputeEvidenceSubmitted = DomainEvent<
  'DisputeEvidenceSubmitted',
  DisputeRef & { summary: string }
>;
export type DisputeWon = DomainEvent<'DisputeWon', DisputeRef>;
export type DisputeLost = DomainEvent<'DisputeLost', DisputeRef>;
export type DisputeAccepted = DomainEvent<'DisputeAccepted', DisputeRef>;

export type ChargeEvent =
  | ChargeSucceeded
  | ChargeDeclined
  | ChargeFailed
  | RefundRequested
  | RefundApproved
  | RefundRejected
  | RefundSucceeded
  | RefundFailed
  | RefundCanceled
  | DisputeOpened
  | DisputeEscalatedToChargeback
  | DisputeEvidenceSubmitted
  | DisputeWon
  | DisputeLost
  | DisputeAccepted;

export type ChargeEventType = ChargeEvent['type'];

// A record, not an array literal, so the compiler proves the list is complete and has no strays.
const chargeEventTypes: Record<ChargeEventType, true> = {
  ChargeSucceeded: true,
  ChargeDeclined: true,
  ChargeFailed: true,
  RefundRequested: true,
  RefundApproved: true,
  RefundRejected: true,
  RefundSucceeded: true,
  RefundFailed: true,
  RefundCanceled: true,
  DisputeOpened: true,
  DisputeEscalatedToChargeback: true,
  DisputeEvidenceSubmitted: true,
  DisputeWon: true,
  DisputeLost: true,
  DisputeAccepted: true,
};
export const CHARGE_EVENT_TYPES = Object.freeze(Object.keys(chargeEventTypes) as ChargeEventType[]);

export const isChargeEvent = (event: DomainEvent): event is ChargeEvent =>
  Object.hasOwn(chargeEventTypes, event.type);
