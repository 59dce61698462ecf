import type { StoredEvent } from '../../application/ports/event-store.port';
import type { DocumentChange, DocumentKey } from '../../application/ports/read-model-store.port';
import { isChargeEvent, type ChargeEvent, type DisputeCloseOutcome } from '../../domain/charge/charge.events';
import { isCustomerEvent, type ChurnKind, type CustomerEvent } from '../../domain/customer/customer.events';
import {
  isIssueEvent,
  type Channel,
  type EscalationTarget,
  type IssueCategory,
  type IssueEvent,
  type Priority,
} from '../../domain/issue/issue.events';
import type { DocumentLookup, Projection } from '../projection';

export const METRIC_ISSUES = 'metric_issues';
export const METRIC_CHARGES = 'metric_charges';
export const METRIC_CUSTOMERS = 'metric_customers';
export const METRICS_PROJECTION = 'metrics';

const ISSUE_PREFIX = 'issue-';
const CHARGE_PREFIX = 'charge-';
const CUSTOMER_PREFIX = 'customer-';

/** A status change of an issue, in business time: the backlog at a past `asOf` replays these. */
export type IssueTransition = { to: 'resolved' | 'open' | 'closed'; at: string };

/**
 * The facts of one issue the metrics need, every one with its business time, so that a query at any
 * `asOf` can tell what had happened by then (DESIGN.md "As of": a later fact never changes an earlier
 * answer). What can change after it happened (the assignee, the CSAT score, a charge's link) is kept as
 * its history; a "first" is the earliest in business time. Nothing derived from "now" is stored.
 */
export type MetricIssueDocument = {
  id: string;
  customerId: string;
  category: IssueCategory;
  channel: Channel;
  priority: Priority;
  openedAt: string;
  /** Every assignment, in ledger order: the `agent` grouping is the assignee at an instant. */
  assignments: { agentId: string; at: string }[];
  /** The two earliest outbound contacts by an agent: first response, and "exactly one" for FCR. */
  firstAgentContactAt: string | null;
  secondAgentContactAt: string | null;
  /** The earliest resolution: resolution time, and the instant the `agent` grouping looks at. */
  firstResolvedAt: string | null;
  firstReopenedAt: string | null;
  transitions: IssueTransition[];
  /** Earliest escalation per destination. */
  escalatedAt: Partial<Record<EscalationTarget, string>>;
  /** Every feedback, in ledger order: CSAT as of an instant is the latest score given by then. */
  feedback: { csat: number; at: string }[];
  /**
   * Charges opened with the issue (linked at its opening) or linked since, with the time of the link:
   * refunds and disputes of a charge are attributed to an issue from the moment it links the charge.
   */
  charges: { chargeId: string; at: string }[];
  lastPosition: number;
};

export type RefundTerminal = 'succeeded' | 'rejected' | 'failed' | 'canceled';

export type MetricRefund = {
  refundId: string;
  requestedAt: string;
  dueBy: string | null;
  status: 'requested' | 'approved' | RefundTerminal;
  /** When it reached a terminal status. */
  terminalAt: string | null;
};

/** An evidence deadline and when it was set: an escalation to chargeback sets a new one. */
export type DisputeDeadline = { dueBy: string; at: string };

export type MetricDispute = {
  disputeId: string;
  openedAt: string;
  /** Every deadline, in ledger order: the one in force at an instant is the latest set by then. */
  deadlines: DisputeDeadline[];
  evidenceSubmittedAt: string[];
  outcome: DisputeCloseOutcome | null;
  closedAt: string | null;
};

/** Only charges with a refund or a dispute get a document. */
export type MetricChargeDocument = {
  id: string;
  refunds: MetricRefund[];
  disputes: MetricDispute[];
  lastPosition: number;
};

/** Only customers who ever churned or reactivated get a document. */
export type MetricCustomerDocument = {
  id: string;
  churns: { kind: ChurnKind; at: string }[];
  reactivations: string[];
  lastPosition: number;
};

/**
 * Version 1 documents kept latest values only (assignee, CSAT, current deadline, undated links). Until the
 * rebuild to version 2 that start-up runs is promoted, the query side reads them through these, as well as
 * they allow: their latest values dated at the opening, which is what version 1 answered.
 */
type IssueDocumentV1 = Partial<MetricIssueDocument> & {
  openedAt: string;
  assigneeId?: string | null;
  agentAtFirstResolution?: string | null;
  csat?: number | null;
  feedbackAt?: string | null;
  chargeIds?: string[];
};

export function readIssueDocument(stored: MetricIssueDocument | IssueDocumentV1): MetricIssueDocument {
  if (Array.isArray(stored.assignments)) return stored as MetricIssueDocument;
  const v1 = stored as IssueDocumentV1;
  const agent = v1.agentAtFirstResolution ?? v1.assigneeId ?? null;
  return {
    ...(v1 as MetricIssueDocument),
    assignments: agent === null ? [] : [{ agentId: agent, at: v1.openedAt }],
    feedback: v1.csat == null ? [] : [{ csat: v1.csat, at: v1.feedbackAt ?? v1.openedAt }],
    charges: (v1.chargeIds ?? []).map((chargeId) => ({ chargeId, at: v1.openedAt })),
  };
}

export function readDispute(stored: MetricDispute | (MetricDispute & { evidenceDueBy?: string | null })) {
  if (Array.isArray(stored.deadlines)) return stored;
  const due = (stored as { evidenceDueBy?: string | null }).evidenceDueBy ?? null;
  return { ...stored, deadlines: due === null ? [] : [{ dueBy: due, at: stored.openedAt }] };
}

type Stored<E> = Omit<StoredEvent, 'type' | 'data'> & E;

const isBefore = (a: string, b: string): boolean => Date.parse(a) < Date.parse(b);
const earliest = (current: string | null, candidate: string): string =>
  current !== null && !isBefore(candidate, current) ? current : candidate;

function keyOf(event: StoredEvent): DocumentKey | null {
  if (event.stream.startsWith(ISSUE_PREFIX) && isIssueEvent(event)) {
    return { collection: METRIC_ISSUES, id: event.stream.slice(ISSUE_PREFIX.length) };
  }
  if (event.stream.startsWith(CHARGE_PREFIX) && isChargeEvent(event)) {
    const { type } = event;
    if (type === 'ChargeSucceeded' || type === 'ChargeDeclined' || type === 'ChargeFailed') return null;
    return { collection: METRIC_CHARGES, id: event.stream.slice(CHARGE_PREFIX.length) };
  }
  if (event.stream.startsWith(CUSTOMER_PREFIX) && isCustomerEvent(event)) {
    if (event.type === 'CustomerDataErased') return null;
    return { collection: METRIC_CUSTOMERS, id: event.stream.slice(CUSTOMER_PREFIX.length) };
  }
  return null;
}

function openedIssue(event: Stored<IssueEvent & { type: 'IssueOpened' }>, id: string): MetricIssueDocument {
  const { data, metadata } = event;
  return {
    id,
    customerId: data.customerId,
    category: data.category,
    channel: data.channel,
    priority: data.priority,
    openedAt: metadata.occurredAt,
    assignments: [],
    firstAgentContactAt: null,
    secondAgentContactAt: null,
    firstResolvedAt: null,
    firstReopenedAt: null,
    transitions: [],
    escalatedAt: {},
    feedback: [],
    charges: [...new Set(data.chargeIds)].map((chargeId) => ({ chargeId, at: metadata.occurredAt })),
    lastPosition: Number(event.position),
  };
}

function evolveIssue(doc: MetricIssueDocument, event: Stored<IssueEvent>): MetricIssueDocument {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'IssueOpened':
    case 'NoteAdded':
    case 'FollowUpSent':
      return doc;
    case 'IssueAssigned':
      return { ...doc, assignments: [...doc.assignments, { agentId: event.data.agentId, at }] };
    case 'CustomerContacted': {
      // The same rule as the issue summary's firstResponseAt: outbound, by an agent.
      if (event.data.direction !== 'outbound' || event.data.agentId === undefined) return doc;
      const [first, second] = [doc.firstAgentContactAt, doc.secondAgentContactAt, at]
        .filter((time): time is string => time !== null)
        .sort((a, b) => Date.parse(a) - Date.parse(b));
      return { ...doc, firstAgentContactAt: first ?? null, secondAgentContactAt: second ?? null };
    }
    case 'ChargeLinked': {
      const { chargeId } = event.data;
      const linked = doc.charges.find((charge) => charge.chargeId === chargeId);
      if (linked === undefined) return { ...doc, charges: [...doc.charges, { chargeId, at }] };
      // A repeated link changes nothing, unless it says the link is older than the one recorded.
      return isBefore(at, linked.at)
        ? { ...doc, charges: doc.charges.map((c) => (c === linked ? { chargeId, at } : c)) }
        : doc;
    }
    case 'IssueEscalated': {
      const { to } = event.data;
      return { ...doc, escalatedAt: { ...doc.escalatedAt, [to]: earliest(doc.escalatedAt[to] ?? null, at) } };
    }
    case 'IssueResolved':
      return {
        ...doc,
        firstResolvedAt: earliest(doc.firstResolvedAt, at),
        transitions: [...doc.transitions, { to: 'resolved', at }],
      };
    case 'IssueReopened':
      return {
        ...doc,
        firstReopenedAt: earliest(doc.firstReopenedAt, at),
        transitions: [...doc.transitions, { to: 'open', at }],
      };
    case 'IssueClosed':
      return { ...doc, transitions: [...doc.transitions, { to: 'closed', at }] };
    case 'FeedbackReceived':
      return { ...doc, feedback: [...doc.feedback, { csat: event.data.csat, at }] };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

function evolveCharge(doc: MetricChargeDocument, event: Stored<ChargeEvent>): MetricChargeDocument {
  const at = event.metadata.occurredAt;
  const refund = (refundId: string, change: Partial<MetricRefund>) => ({
    ...doc,
    refunds: doc.refunds.map((r) => (r.refundId === refundId ? { ...r, ...change } : r)),
  });
  const dispute = (disputeId: string, change: (d: MetricDispute) => Partial<MetricDispute>) => ({
    ...doc,
    disputes: doc.disputes.map((d) => (d.disputeId === disputeId ? { ...d, ...change(d) } : d)),
  });
  switch (event.type) {
    case 'ChargeSucceeded':
    case 'ChargeDeclined':
    case 'ChargeFailed':
      return doc;
    case 'RefundRequested': {
      const { refundId, dueBy } = event.data;
      // A repeated request for a known id is never decided; the first one stands.
      if (doc.refunds.some((r) => r.refundId === refundId)) return doc;
      const requested: MetricRefund = {
        refundId,
        requestedAt: at,
        dueBy: dueBy ?? null,
        status: 'requested',
        terminalAt: null,
      };
      return { ...doc, refunds: [...doc.refunds, requested] };
    }
    case 'RefundApproved':
      return refund(event.data.refundId, { status: 'approved' });
    case 'RefundSucceeded':
      return refund(event.data.refundId, { status: 'succeeded', terminalAt: at });
    case 'RefundRejected':
      return refund(event.data.refundId, { status: 'rejected', terminalAt: at });
    case 'RefundFailed':
      return refund(event.data.refundId, { status: 'failed', terminalAt: at });
    case 'RefundCanceled':
      return refund(event.data.refundId, { status: 'canceled', terminalAt: at });
    case 'DisputeOpened': {
      const { disputeId, evidenceDueBy } = event.data;
      if (doc.disputes.some((d) => d.disputeId === disputeId)) return doc;
      const opened: MetricDispute = {
        disputeId,
        openedAt: at,
        deadlines: evidenceDueBy === undefined ? [] : [{ dueBy: evidenceDueBy, at }],
        evidenceSubmittedAt: [],
        outcome: null,
        closedAt: null,
      };
      return { ...doc, disputes: [...doc.disputes, opened] };
    }
    case 'DisputeEscalatedToChargeback': {
      const { evidenceDueBy } = event.data;
      if (evidenceDueBy === undefined) return doc;
      return dispute(event.data.disputeId, (d) => ({
        deadlines: [...d.deadlines, { dueBy: evidenceDueBy, at }],
      }));
    }
    case 'DisputeEvidenceSubmitted':
      return dispute(event.data.disputeId, (d) => ({ evidenceSubmittedAt: [...d.evidenceSubmittedAt, at] }));
    case 'DisputeWon':
      return dispute(event.data.disputeId, () => ({ outcome: 'won', closedAt: at }));
    case 'DisputeLost':
      return dispute(event.data.disputeId, () => ({ outcome: 'lost', closedAt: at }));
    case 'DisputeAccepted':
      return dispute(event.data.disputeId, () => ({ outcome: 'accepted', closedAt: at }));
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

function evolveCustomer(doc: MetricCustomerDocument, event: Stored<CustomerEvent>): MetricCustomerDocument {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'CustomerChurned':
      return { ...doc, churns: [...doc.churns, { kind: event.data.kind, at }] };
    case 'CustomerReactivated':
      return { ...doc, reactivations: [...doc.reactivations, at] };
    case 'CustomerDataErased':
      return doc;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

function applyIssue(event: Stored<IssueEvent>, id: string, current: DocumentLookup): DocumentChange[] {
  const doc = current.get(METRIC_ISSUES, id) as MetricIssueDocument | null;
  if (doc === null) {
    // Nothing happens to an issue before it is opened; the aggregate ignores such events too.
    return event.type === 'IssueOpened'
      ? [{ collection: METRIC_ISSUES, id, doc: openedIssue(event, id) }]
      : [];
  }
  if (Number(event.position) <= doc.lastPosition) return [];
  const next = { ...evolveIssue(doc, event), lastPosition: Number(event.position) };
  return [{ collection: METRIC_ISSUES, id, doc: next }];
}

function applyCharge(event: Stored<ChargeEvent>, id: string, current: DocumentLookup): DocumentChange[] {
  const doc = current.get(METRIC_CHARGES, id) as MetricChargeDocument | null;
  if (doc !== null && Number(event.position) <= doc.lastPosition) return [];
  const base: MetricChargeDocument = doc ?? { id, refunds: [], disputes: [], lastPosition: -1 };
  const evolved = evolveCharge(base, event);
  // Only a refund or dispute that exists creates the document; a stray lifecycle event changes nothing.
  if (doc === null && evolved.refunds.length === 0 && evolved.disputes.length === 0) return [];
  return [{ collection: METRIC_CHARGES, id, doc: { ...evolved, lastPosition: Number(event.position) } }];
}

function applyCustomer(event: Stored<CustomerEvent>, id: string, current: DocumentLookup): DocumentChange[] {
  const doc = current.get(METRIC_CUSTOMERS, id) as MetricCustomerDocument | null;
  if (doc !== null && Number(event.position) <= doc.lastPosition) return [];
  const base: MetricCustomerDocument = doc ?? { id, churns: [], reactivations: [], lastPosition: -1 };
  const next = { ...evolveCustomer(base, event), lastPosition: Number(event.position) };
  return [{ collection: METRIC_CUSTOMERS, id, doc: next }];
}

/**
 * Compact facts for the /metrics routes (docs/metrics.md): one document per issue, per charge with
 * refunds or disputes, per customer with churn history. Queries never read these one by one: the API
 * process keeps a columnar snapshot of them (MetricsSnapshot), refreshed by `lastPosition`, which is
 * indexed for that reason.
 */
export const metricsProjection: Projection = {
  name: METRICS_PROJECTION,
  // 2: histories of assignments, feedback, charge links and dispute deadlines (answers exact as of any instant).
  version: 2,
  collections: [
    { name: METRIC_ISSUES, indexes: ['lastPosition'] },
    { name: METRIC_CHARGES, indexes: ['lastPosition'] },
    { name: METRIC_CUSTOMERS, indexes: ['lastPosition'] },
  ],
  rebuildWeight: 3.5,
  streamPrefixes: [ISSUE_PREFIX, CHARGE_PREFIX, CUSTOMER_PREFIX],

  keysFor(event: StoredEvent): DocumentKey[] {
    const key = keyOf(event);
    return key === null ? [] : [key];
  },

  apply(event: StoredEvent, current: DocumentLookup): DocumentChange[] {
    const key = keyOf(event);
    if (key === null) return [];
    switch (key.collection) {
      case METRIC_ISSUES:
        return applyIssue(event as unknown as Stored<IssueEvent>, key.id, current);
      case METRIC_CHARGES:
        return applyCharge(event as unknown as Stored<ChargeEvent>, key.id, current);
      default:
        return applyCustomer(event as unknown as Stored<CustomerEvent>, key.id, current);
    }
  },
};
