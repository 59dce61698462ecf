import type { StoredEvent } from '../../application/ports/event-store.port';
import type { DocumentChange, DocumentKey } from '../../application/ports/read-model-store.port';
import {
  isChargeEvent,
  type ChargeEvent,
  type DisputeKind,
  type DisputeReason,
  type FailureCategory,
  type RefundFailureReason,
  type RefundReason,
} from '../../domain/charge/charge.events';
import type { DocumentLookup, Projection } from '../projection';

export const CHARGE_SUMMARIES = 'charge_summaries';
const STREAM_PREFIX = 'charge-';

type RefundRequest = {
  refundId: string;
  amount: number;
  reason: RefundReason;
  dueBy: string | null;
  requestedAt: string;
  approvedAt: string | null;
};

/** A refund and the time it reached its status; terminal statuses carry their own details. */
export type RefundView = RefundRequest &
  (
    | { status: 'requested' | 'approved' }
    | { status: 'succeeded'; succeededAt: string }
    | { status: 'rejected'; rejectedAt: string; rejectionReason: string }
    | { status: 'failed'; failedAt: string; failureReason: RefundFailureReason }
    | { status: 'canceled'; canceledAt: string; cancellationReason: string | null }
  );

export type DisputeView = {
  disputeId: string;
  amount: number;
  reason: DisputeReason;
  /** Current kind, code and deadline: an escalation to chargeback replaces them. */
  kind: DisputeKind;
  networkReasonCode: string | null;
  evidenceDueBy: string | null;
  openedAt: string;
  escalatedAt: string | null;
  evidenceSubmissions: number;
  /** When each round of evidence was submitted: "evidence after its due date" is a query-time metric. */
  evidenceSubmittedAt: string[];
} & (
  | { status: 'open' | 'evidence_submitted'; closedAt: null }
  | { status: 'won' | 'lost' | 'accepted'; closedAt: string }
);

/**
 * DESIGN.md's money rules, in minor units: what a new refund may still take, and what the merchant has
 * lost or may lose. Provider facts beyond the charge amount are recorded and flagged, never dropped.
 */
export type ChargeMoney = {
  /** Succeeded refunds. */
  refundedAmount: number;
  /** Requested or approved refunds. */
  pendingRefundAmount: number;
  /** Lost or accepted disputes. */
  lostDisputeAmount: number;
  /** Open disputes, evidence submitted or not. */
  openDisputeAmount: number;
  /** amount - refunded - pending - lost disputes, floor 0; always 0 on an unsuccessful charge. */
  refundableAmount: number;
  /** refunded + lost disputes + open disputes. */
  exposedAmount: number;
  /** exposedAmount beyond the charge amount. */
  overExposed: boolean;
};

export type ChargeOutcomeFields =
  | { outcome: 'succeeded'; declineCode: null; failureCategory: null }
  | { outcome: 'declined' | 'failed'; declineCode: string | null; failureCategory: FailureCategory | null };

/** Overdue refunds and evidence deadlines are judged at query time from dueBy / evidenceDueBy. */
export type ChargeSummaryDocument = ChargeOutcomeFields &
  ChargeMoney & {
    id: string;
    chargeId: string;
    customerId: string;
    amount: number;
    currency: string;
    method: string | null;
    provider: string | null;
    merchantId: string | null;
    chargedAt: string;
    /** In request order. */
    refunds: RefundView[];
    /** In opening order. */
    disputes: DisputeView[];
    /** Revision of the charge stream: the ETag. */
    revision: number;
    lastPosition: number;
  };

type StoredChargeEvent = Omit<StoredEvent, 'type' | 'data'> & ChargeEvent;
type ChargeRecorded = StoredChargeEvent & { type: 'ChargeSucceeded' | 'ChargeDeclined' | 'ChargeFailed' };

const chargeIdOf = (event: StoredEvent): string | null =>
  event.stream.startsWith(STREAM_PREFIX) && isChargeEvent(event)
    ? event.stream.slice(STREAM_PREFIX.length)
    : null;

const isChargeRecorded = (event: StoredChargeEvent): event is ChargeRecorded =>
  event.type === 'ChargeSucceeded' || event.type === 'ChargeDeclined' || event.type === 'ChargeFailed';

function moneyOf(
  amount: number,
  refunds: readonly RefundView[],
  disputes: readonly DisputeView[],
): ChargeMoney {
  let refundedAmount = 0;
  let pendingRefundAmount = 0;
  for (const refund of refunds) {
    if (refund.status === 'succeeded') refundedAmount += refund.amount;
    if (refund.status === 'requested' || refund.status === 'approved') pendingRefundAmount += refund.amount;
  }
  let lostDisputeAmount = 0;
  let openDisputeAmount = 0;
  for (const dispute of disputes) {
    if (dispute.status === 'lost' || dispute.status === 'accepted') lostDisputeAmount += dispute.amount;
    if (dispute.status === 'open' || dispute.status === 'evidence_submitted')
      openDisputeAmount += dispute.amount;
  }
  const exposedAmount = refundedAmount + lostDisputeAmount + openDisputeAmount;
  return {
    refundedAmount,
    pendingRefundAmount,
    lostDisputeAmount,
    openDisputeAmount,
    refundableAmount: Math.max(0, amount - refundedAmount - pendingRefundAmount - lostDisputeAmount),
    exposedAmount,
    overExposed: exposedAmount > amount,
  };
}

const NOTHING_AT_STAKE: ChargeMoney = {
  refundedAmount: 0,
  pendingRefundAmount: 0,
  lostDisputeAmount: 0,
  openDisputeAmount: 0,
  refundableAmount: 0,
  exposedAmount: 0,
  overExposed: false,
};

function recorded(event: ChargeRecorded, chargeId: string): ChargeSummaryDocument {
  const { data } = event;
  const succeeded = event.type === 'ChargeSucceeded';
  const money = succeeded ? moneyOf(data.amount, [], []) : NOTHING_AT_STAKE;
  // One literal, so every charge document starts with the same shape (spreads were a rebuild hot spot).
  return {
    id: chargeId,
    chargeId,
    customerId: data.customerId,
    amount: data.amount,
    currency: data.currency,
    method: data.method ?? null,
    provider: data.provider ?? null,
    merchantId: data.merchantId ?? null,
    chargedAt: event.metadata.occurredAt,
    refunds: [],
    disputes: [],
    revision: event.revision,
    lastPosition: Number(event.position),
    ...(succeeded
      ? { outcome: 'succeeded', declineCode: null, failureCategory: null }
      : {
          outcome: event.type === 'ChargeDeclined' ? 'declined' : 'failed',
          declineCode: event.data.declineCode ?? null,
          failureCategory: event.data.failureCategory ?? null,
        }),
    refundedAmount: money.refundedAmount,
    pendingRefundAmount: money.pendingRefundAmount,
    lostDisputeAmount: money.lostDisputeAmount,
    openDisputeAmount: money.openDisputeAmount,
    refundableAmount: money.refundableAmount,
    exposedAmount: money.exposedAmount,
    overExposed: money.overExposed,
  };
}

function requestOf(refund: RefundView): RefundRequest {
  const { refundId, amount, reason, dueBy, requestedAt, approvedAt } = refund;
  return { refundId, amount, reason, dueBy, requestedAt, approvedAt };
}

/**
 * The refund's next state. Like the aggregate, the event is the truth: a transition the decider would
 * refuse never reaches the ledger, and if one did (a provider fact), showing it beats hiding it.
 */
function nextRefund(refund: RefundView, event: StoredChargeEvent): RefundView {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'RefundApproved':
      return { ...requestOf(refund), approvedAt: at, status: 'approved' };
    case 'RefundSucceeded':
      return { ...requestOf(refund), status: 'succeeded', succeededAt: at };
    case 'RefundRejected':
      return { ...requestOf(refund), status: 'rejected', rejectedAt: at, rejectionReason: event.data.reason };
    case 'RefundFailed':
      return {
        ...requestOf(refund),
        status: 'failed',
        failedAt: at,
        failureReason: event.data.failureReason,
      };
    case 'RefundCanceled':
      return {
        ...requestOf(refund),
        status: 'canceled',
        canceledAt: at,
        cancellationReason: event.data.reason ?? null,
      };
    default:
      return refund;
  }
}

function nextDispute(dispute: DisputeView, event: StoredChargeEvent): DisputeView {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'DisputeEscalatedToChargeback':
      return {
        ...dispute,
        kind: 'chargeback',
        // The network's new code and deadline replace the old; absent ones keep them.
        networkReasonCode: event.data.networkReasonCode ?? dispute.networkReasonCode,
        evidenceDueBy: event.data.evidenceDueBy ?? dispute.evidenceDueBy,
        escalatedAt: at,
      };
    case 'DisputeEvidenceSubmitted':
      return {
        ...dispute,
        status: 'evidence_submitted',
        closedAt: null,
        evidenceSubmissions: dispute.evidenceSubmissions + 1,
        evidenceSubmittedAt: [...dispute.evidenceSubmittedAt, at],
      };
    case 'DisputeWon':
      return { ...dispute, status: 'won', closedAt: at };
    case 'DisputeLost':
      return { ...dispute, status: 'lost', closedAt: at };
    case 'DisputeAccepted':
      return { ...dispute, status: 'accepted', closedAt: at };
    default:
      return dispute;
  }
}

/** The charge's own changes; the caller stamps revision and position. */
function evolve(doc: ChargeSummaryDocument, event: StoredChargeEvent): ChargeSummaryDocument {
  if (doc.outcome !== 'succeeded') return doc;
  const at = event.metadata.occurredAt;
  let { refunds, disputes } = doc;
  switch (event.type) {
    case 'ChargeSucceeded':
    case 'ChargeDeclined':
    case 'ChargeFailed':
      // A second outcome is never decided; like the aggregate, keep the first.
      return doc;
    case 'RefundRequested': {
      const { refundId, amount, reason, dueBy } = event.data;
      // A repeated request for a known id is never decided; the first one stands.
      if (refunds.some((refund) => refund.refundId === refundId)) return doc;
      const refund: RefundView = {
        refundId,
        amount,
        reason,
        dueBy: dueBy ?? null,
        requestedAt: at,
        approvedAt: null,
        status: 'requested',
      };
      refunds = [...refunds, refund];
      break;
    }
    case 'RefundApproved':
    case 'RefundRejected':
    case 'RefundSucceeded':
    case 'RefundFailed':
    case 'RefundCanceled': {
      const { refundId } = event.data;
      refunds = refunds.map((refund) => (refund.refundId === refundId ? nextRefund(refund, event) : refund));
      break;
    }
    case 'DisputeOpened': {
      const { disputeId, amount, reason, kind, networkReasonCode, evidenceDueBy } = event.data;
      // Likewise for a dispute opened again under a known id.
      if (disputes.some((dispute) => dispute.disputeId === disputeId)) return doc;
      const dispute: DisputeView = {
        disputeId,
        amount,
        reason,
        kind,
        networkReasonCode: networkReasonCode ?? null,
        evidenceDueBy: evidenceDueBy ?? null,
        openedAt: at,
        escalatedAt: null,
        evidenceSubmissions: 0,
        evidenceSubmittedAt: [],
        status: 'open',
        closedAt: null,
      };
      disputes = [...disputes, dispute];
      break;
    }
    case 'DisputeEscalatedToChargeback':
    case 'DisputeEvidenceSubmitted':
    case 'DisputeWon':
    case 'DisputeLost':
    case 'DisputeAccepted': {
      const { disputeId } = event.data;
      disputes = disputes.map((dispute) =>
        dispute.disputeId === disputeId ? nextDispute(dispute, event) : dispute,
      );
      break;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
  const next = { ...doc, refunds, disputes };
  // Assigned, not spread: a second spread into a literal takes V8's slow path (measured in rebuilds).
  Object.assign(next, moneyOf(doc.amount, refunds, disputes));
  return next;
}

export const chargeSummaryProjection: Projection = {
  name: 'charge-summary',
  version: 1,
  collections: [{ name: CHARGE_SUMMARIES, indexes: ['customerId', 'outcome'] }],
  rebuildWeight: 2.5,
  streamPrefixes: [STREAM_PREFIX],

  keysFor(event: StoredEvent): DocumentKey[] {
    const chargeId = chargeIdOf(event);
    return chargeId === null ? [] : [{ collection: CHARGE_SUMMARIES, id: chargeId }];
  },

  apply(stored: StoredEvent, current: DocumentLookup): DocumentChange[] {
    const chargeId = chargeIdOf(stored);
    if (chargeId === null) return [];
    const event = stored as unknown as StoredChargeEvent;
    const doc = current.get(CHARGE_SUMMARIES, chargeId) as ChargeSummaryDocument | null;
    if (doc === null) {
      // Refunds and disputes need a recorded charge; the aggregate ignores them before one too.
      return isChargeRecorded(event)
        ? [{ collection: CHARGE_SUMMARIES, id: chargeId, doc: recorded(event, chargeId) }]
        : [];
    }
    if (Number(event.position) <= doc.lastPosition) return [];
    const next: ChargeSummaryDocument = {
      ...evolve(doc, event),
      revision: event.revision,
      lastPosition: Number(event.position),
    };
    return [{ collection: CHARGE_SUMMARIES, id: chargeId, doc: next }];
  },
};
