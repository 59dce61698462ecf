import type { DomainEvent } from '../shared/decider';

export const issueStream = (issueId: string): string => `issue-${issueId}`;

export const ISSUE_CATEGORIES = [
  'payment_failed',
  'declined',
  'unauthorized_charge',
  'delayed_refund',
  'billing_error',
  'duplicate_charge',
  'other',
] as const;
export type IssueCategory = (typeof ISSUE_CATEGORIES)[number];

export const CHANNELS = ['phone', 'email', 'chat', 'social', 'chatbot', 'self_service', 'web_form'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const CONTACT_DIRECTIONS = ['inbound', 'outbound'] as const;
export type ContactDirection = (typeof CONTACT_DIRECTIONS)[number];

export const ESCALATION_TARGETS = ['payment_provider', 'finance', 'product', 'fraud', 'tier2'] as const;
export type EscalationTarget = (typeof ESCALATION_TARGETS)[number];

export const RESOLUTIONS = [
  'refunded',
  'charge_corrected',
  'payment_retried',
  'explained',
  'fraud_confirmed',
  'duplicate',
  'no_action',
  'other',
] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const CSAT_MIN = 1;
export const CSAT_MAX = 5;

export interface IssueRef {
  issueId: string;
}

export interface IssueOpenedData extends IssueRef {
  customerId: string;
  category: IssueCategory;
  channel: Channel;
  priority: Priority;
  chargeIds: string[];
  summary?: string;
}

export type IssueOpened = DomainEvent<'IssueOpened', IssueOpenedData>;
export type IssueAssigned = DomainEvent<'IssueAssigned', IssueRef & { agentId: string }>;
export type CustomerContacted = DomainEvent<
  'CustomerContacted',
  IssueRef & { direction: ContactDirection; channel: Channel; agentId?: string; summary?: string }
>;
export type NoteAdded = DomainEvent<'NoteAdded', IssueRef & { text: string; agentId?: string }>;
export type ChargeLinked = DomainEvent<'ChargeLinked', IssueRef & { chargeId: string }>;
export type IssueEscalated = DomainEvent<
  'IssueEscalated',
  IssueRef & { to: EscalationTarget; reference?: string; reason?: string }
>;
export type IssueResolved = DomainEvent<
  'IssueResolved',
  IssueRef & { resolution: Resolution; summary?: string }
>;
export type IssueReopened = DomainEvent<'IssueReopened', IssueRef & { reason: string }>;
export type IssueClosed = DomainEvent<'IssueClosed', IssueRef>;
export type FeedbackReceived = DomainEvent<'FeedbackReceived', IssueRef & { csat: number; comment?: string }>;
export type FollowUpSent = DomainEvent<'FollowUpSent', IssueRef & { channel?: Channel }>;

export type IssueEvent =
  | IssueOpened
  | IssueAssigned
  | CustomerContacted
  | NoteAdded
  | ChargeLinked
  | IssueEscalated
  | IssueResolved
  | IssueReopened
  | IssueClosed
  | FeedbackReceived
  | FollowUpSent;

export type IssueEventType = IssueEvent['type'];

const issueEventTypes: Record<IssueEventType, true> = {
  IssueOpened: true,
  IssueAssigned: true,
  CustomerContacted: true,
  NoteAdded: true,
  ChargeLinked: true,
  IssueEscalated: true,
  IssueResolved: true,
  IssueReopened: true,
  IssueClosed: true,
  FeedbackReceived: true,
  FollowUpSent: true,
};
export const ISSUE_EVENT_TYPES = Object.freeze(Object.keys(issueEventTypes) as IssueEventType[]);

export const isIssueEvent = (event: DomainEvent): event is IssueEvent =>
  Object.hasOwn(issueEventTypes, event.type);
