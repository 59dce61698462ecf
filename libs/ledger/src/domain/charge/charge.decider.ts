import { assertNever, type Decider } from '../shared/decider';
import { notFound, ruleViolation } from '../shared/error-types';
import { ownEntry, sameContent, withoutUndefined } from '../shared/plain-data';
import type {
  ApproveRefund,
  CancelRefund,
  ChargeCommand,
  CloseDispute,
  EscalateDispute,
  MarkRefundFailed,
  MarkRefundSucceeded,
  OpenDispute,
  RecordCharge,
  RejectRefund,
  RequestRefund,
  SubmitDisputeEvidence,
} from './charge.commands';
import type {
  ChargeEvent,
  ChargeOutcome,
  ChargeRecordedData,
  DisputeKind,
  DisputeReason,
  FailureCategory,
  RefundFailureReason,
  RefundReason,
} from './charge.events';

export const REFUND_STATUSES = [
  'requested',
  'approved',
  'rejected',
  'succeeded',
  'failed',
  'canceled',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

interface RefundRequest {
  refundId: string;
  amount: number;
  reason: RefundReason;
  dueBy?: string;
}

export type RefundState =
  | (RefundRequest & { status: 'requested' | 'approved' | 'succeeded' })
  | (RefundRequest & { status: 'rejected'; rejectionReason: string })
  | (RefundRequest & { status: 'failed'; failureReason: RefundFailureReason })
  | (RefundRequest & { status: 'canceled'; cancellationReason?: string });

const REFUND_TRANSITIONS: Record<RefundStatus, readonly RefundStatus[]> = {
  // Some providers skip approval, so a request may go straight to succeeded or failed.
  requested: ['approved', 'rejected', 'canceled', 'succeeded', 'failed'],
  approved: ['succeeded', 'failed', 'canceled'],
  rejected: [],
  succeeded: [],
  failed: [],
  canceled: [],
};

export const DISPUTE_STATUSES = ['open', 'evidence_submitted', 'won', 'lost', 'accepted'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];
const CLOSED_DISPUTE_STATUSES: readonly DisputeStatus[] = ['won', 'lost', 'accepted'];

export interface DisputeDeadlineAndCode {
  networkReasonCode?: string;
  evidenceDueBy?: string;
}

export interface DisputeState extends DisputeDeadlineAndCode {
  disputeId: string;
  amount: number;
  reason: DisputeReason;
  /** Current kind, code and deadline: an escalation replaces them. */
  kind: DisputeKind;
  status: DisputeStatus;
  evidenceSubmissions: number;
  /** As first reported, so a replayed DisputeOpened is compared against the original, not the current view. */
  opened: DisputeDeadlineAndCode & { kind: DisputeKind };
  escalation: DisputeDeadlineAndCode | null;
}

interface RecordedChargeFacts {
  status: 'recorded';
  chargeId: string;
  customerId: string;
  amount: number;
  currency: string;
  method?: string;
  provider?: string;
  merchantId?: string;
}

/**
 * Money at stake on a succeeded charge. `refundableAmount` is what a new refund request may take;
 * `exposedAmount` counts what the merchant has lost or may lose (open disputes included), and
 * `overExposed` flags provider facts that went beyond the charge: they are recorded, never refused.
 */
export interface ChargeExposure {
  refundedAmount: number;
  pendingRefundAmount: number;
  disputeLossAmount: number;
  openDisputeAmount: number;
  refundableAmount: number;
  exposedAmount: number;
  overExposed: boolean;
}

export interface SucceededCharge extends RecordedChargeFacts, ChargeExposure {
  outcome: 'succeeded';
  refunds: Record<string, RefundState>;
  disputes: Record<string, DisputeState>;
  openDisputeId: string | null;
}

export interface UnsuccessfulCharge extends RecordedChargeFacts {
  outcome: 'declined' | 'failed';
  declineCode?: string;
  failureCategory?: FailureCategory;
}

export type ChargeState = { status: 'none' } | SucceededCharge | UnsuccessfulCharge;

export const initialChargeState: ChargeState = { status: 'none' };

function exposureOf(
  amount: number,
  refunds: Record<string, RefundState>,
  disputes: Record<string, DisputeState>,
): ChargeExposure {
  let refundedAmount = 0;
  let pendingRefundAmount = 0;
  for (const refund of Object.values(refunds)) {
    if (refund.status === 'succeeded') refundedAmount += refund.amount;
    if (refund.status === 'requested' || refund.status === 'approved') pendingRefundAmount += refund.amount;
  }
  let disputeLossAmount = 0;
  let openDisputeAmount = 0;
  for (const dispute of Object.values(disputes)) {
    if (dispute.status === 'lost' || dispute.status === 'accepted') disputeLossAmount += dispute.amount;
    if (dispute.status === 'open' || dispute.status === 'evidence_submitted')
      openDisputeAmount += dispute.amount;
  }
  const exposedAmount = refundedAmount + disputeLossAmount + openDisputeAmount;
  return {
    refundedAmount,
    pendingRefundAmount,
    disputeLossAmount,
    openDisputeAmount,
    refundableAmount: Math.max(0, amount - refundedAmount - pendingRefundAmount - disputeLossAmount),
    exposedAmount,
    overExposed: exposedAmount > amount,
  };
}

function withRefund(charge: SucceededCharge, refund: RefundState): SucceededCharge {
  const refunds = { ...charge.refunds, [refund.refundId]: refund };
  return { ...charge, refunds, ...exposureOf(charge.amount, refunds, charge.disputes) };
}

function withDispute(charge: SucceededCharge, dispute: DisputeState): SucceededCharge {
  const disputes = { ...charge.disputes, [dispute.disputeId]: dispute };
  const openDisputeId = CLOSED_DISPUTE_STATUSES.includes(dispute.status)
    ? charge.openDisputeId === dispute.disputeId
      ? null
      : charge.openDisputeId
    : dispute.disputeId;
  return { ...charge, disputes, openDisputeId, ...exposureOf(charge.amount, charge.refunds, disputes) };
}

function recordedFacts(data: ChargeRecordedData): RecordedChargeFacts {
  return withoutUndefined({
    status: 'recorded',
    chargeId: data.chargeId,
    customerId: data.customerId,
    amount: data.amount,
    currency: data.currency,
    method: data.method,
    provider: data.provider,
    merchantId: data.merchantId,
  });
}

function evolve(state: ChargeState, event: ChargeEvent): ChargeState {
  switch (event.type) {
    case 'ChargeSucceeded':
      // A second outcome for a recorded charge is never decided; evolve ignores one rather than reset.
      if (state.status !== 'none') return state;
      return {
        ...recordedFacts(event.data),
        outcome: 'succeeded',
        refunds: {},
        disputes: {},
        openDisputeId: null,
        ...exposureOf(event.data.amount, {}, {}),
      };
    case 'ChargeDeclined':
    case 'ChargeFailed':
      if (state.status !== 'none') return state;
      return withoutUndefined({
        ...recordedFacts(event.data),
        outcome: event.type === 'ChargeDeclined' ? 'declined' : 'failed',
        declineCode: event.data.declineCode,
        failureCategory: event.data.failureCategory,
      });
    case 'RefundRequested': {
      if (!isSucceeded(state)) return state;
      const { amount, reason, dueBy, refundId } = event.data;
      return withRefund(state, withoutUndefined({ refundId, amount, reason, dueBy, status: 'requested' }));
    }
    case 'RefundApproved':
      return updateRefund(state, event.data.refundId, (refund) => ({
        ...requestOf(refund),
        status: 'approved',
      }));
    case 'RefundSucceeded':
      return updateRefund(state, event.data.refundId, (refund) => ({
        ...requestOf(refund),
        status: 'succeeded',
      }));
    case 'RefundRejected':
      return updateRefund(state, event.data.refundId, (refund) => ({
        ...requestOf(refund),
        status: 'rejected',
        rejectionReason: event.data.reason,
      }));
    case 'RefundFailed':
      return updateRefund(state, event.data.refundId, (refund) => ({
        ...requestOf(refund),
        status: 'failed',
        failureReason: event.data.failureReason,
      }));
    case 'RefundCanceled':
      return updateRefund(state, event.data.refundId, (refund) =>
        withoutUndefined({ ...requestOf(refund), status: 'canceled', cancellationReason: event.data.reason }),
      );
    case 'DisputeOpened': {
      if (!isSucceeded(state)) return state;
      const { disputeId, amount, reason, kind, networkReasonCode, evidenceDueBy } = event.data;
      return withDispute(
        state,
        withoutUndefined({
          disputeId,
          amount,
          reason,
          kind,
          networkReasonCode,
          evidenceDueBy,
          status: 'open',
          evidenceSubmissions: 0,
          opened: withoutUndefined({ kind, networkReasonCode, evidenceDueBy }),
          escalation: null,
        }),
      );
    }
    case 'DisputeEscalatedToChargeback': {
      const { networkReasonCode, evidenceDueBy } = event.data;
      return updateDispute(state, event.data.disputeId, (dispute) =>
        withoutUndefined({
          ...dispute,
          kind: 'chargeback',
          // The escalation carries the network's new code and deadline; absent ones keep the old values.
          networkReasonCode: networkReasonCode ?? dispute.networkReasonCode,
          evidenceDueBy: evidenceDueBy ?? dispute.evidenceDueBy,
          escalation: withoutUndefined({ networkReasonCode, evidenceDueBy }),
        }),
      );
    }
    case 'DisputeEvidenceSubmitted':
      return updateDispute(state, event.data.disputeId, (dispute) => ({
        ...dispute,
        status: 'evidence_submitted',
        evidenceSubmissions: dispute.evidenceSubmissions + 1,
      }));
    case 'DisputeWon':
      return updateDispute(state, event.data.disputeId, (dispute) => ({ ...dispute, status: 'won' }));
    case 'DisputeLost':
      return updateDispute(state, event.data.disputeId, (dispute) => ({ ...dispute, status: 'lost' }));
    case 'DisputeAccepted':
      return updateDispute(state, event.data.disputeId, (dispute) => ({ ...dispute, status: 'accepted' }));
    default:
      return assertNever(event);
  }
}

const isSucceeded = (state: ChargeState): state is SucceededCharge =>
  state.status === 'recorded' && state.outcome === 'succeeded';

function requestOf(refund: RefundState): RefundRequest {
  return withoutUndefined({
    refundId: refund.refundId,
    amount: refund.amount,
    reason: refund.reason,
    dueBy: refund.dueBy,
  });
}

// evolve stays total: an event for a refund or dispute it cannot place leaves the state as it was.
function updateRefund(state: ChargeState, refundId: string, update: (refund: RefundState) => RefundState) {
  if (!isSucceeded(state)) return state;
  const refund = ownEntry(state.refunds, refundId);
  return refund ? withRefund(state, update(refund)) : state;
}

function updateDispute(
  state: ChargeState,
  disputeId: string,
  update: (dispute: DisputeState) => DisputeState,
) {
  if (!isSucceeded(state)) return state;
  const dispute = ownEntry(state.disputes, disputeId);
  return dispute ? withDispute(state, update(dispute)) : state;
}

function decide(command: ChargeCommand, state: ChargeState): ChargeEvent[] {
  switch (command.type) {
    case 'RecordCharge':
      return recordCharge(command, state);
    case 'RequestRefund':
      return requestRefund(command, state);
    case 'ApproveRefund':
    case 'RejectRefund':
    case 'MarkRefundSucceeded':
    case 'MarkRefundFailed':
    case 'CancelRefund':
      return transitionRefund(command, state);
    case 'OpenDispute':
      return openDispute(command, state);
    case 'EscalateDispute':
      return escalateDispute(command, state);
    case 'SubmitDisputeEvidence':
      return submitDisputeEvidence(command, state);
    case 'CloseDispute':
      return closeDispute(command, state);
    default:
      return assertNever(command);
  }
}

function recordCharge(command: RecordCharge, state: ChargeState): ChargeEvent[] {
  const { chargeId } = command;
  if (
    command.outcome === 'succeeded' &&
    (command.declineCode !== undefined || command.failureCategory !== undefined)
  ) {
    throw ruleViolation(
      'charge-outcome-mismatch',
      `Charge ${chargeId} succeeded but carries a decline code or failure category`,
      {
        chargeId,
      },
    );
  }
  const event = chargeRecorded(command.outcome, command);
  if (state.status === 'none') return [event];
  if (sameContent(event, chargeRecorded(state.outcome, state))) return [];
  throw ruleViolation(
    'charge-already-recorded',
    `Charge ${chargeId} was already recorded with other content`,
    {
      chargeId,
    },
  );
}

function chargeRecorded(
  outcome: ChargeOutcome,
  charge: ChargeRecordedData & { declineCode?: string; failureCategory?: FailureCategory },
): ChargeEvent {
  const data: ChargeRecordedData = withoutUndefined({
    chargeId: charge.chargeId,
    customerId: charge.customerId,
    amount: charge.amount,
    currency: charge.currency,
    method: charge.method,
    provider: charge.provider,
    merchantId: charge.merchantId,
  });
  switch (outcome) {
    case 'succeeded':
      return { type: 'ChargeSucceeded', data };
    case 'declined':
    case 'failed':
      return {
        type: outcome === 'declined' ? 'ChargeDeclined' : 'ChargeFailed',
        data: withoutUndefined({
          ...data,
          declineCode: charge.declineCode,
          failureCategory: charge.failureCategory,
        }),
      };
    default:
      return assertNever(outcome);
  }
}

function recordedCharge(state: ChargeState, chargeId: string): SucceededCharge | UnsuccessfulCharge {
  if (state.status === 'none')
    throw notFound('charge-not-found', `Charge ${chargeId} does not exist`, { chargeId });
  return state;
}

function succeededCharge(state: ChargeState, chargeId: string): SucceededCharge {
  const charge = recordedCharge(state, chargeId);
  if (charge.outcome !== 'succeeded') {
    throw ruleViolation(
      'charge-not-succeeded',
      `Charge ${chargeId} ${charge.outcome}; it cannot be refunded or disputed`,
      {
        chargeId,
        outcome: charge.outcome,
      },
    );
  }
  return charge;
}

function existingRefund(state: ChargeState, chargeId: string, refundId: string): RefundState {
  const charge = recordedCharge(state, chargeId);
  const refund = charge.outcome === 'succeeded' ? ownEntry(charge.refunds, refundId) : undefined;
  if (!refund) {
    throw notFound('refund-not-found', `Refund ${refundId} does not exist on charge ${chargeId}`, {
      chargeId,
      refundId,
    });
  }
  return refund;
}

function existingDispute(state: ChargeState, chargeId: string, disputeId: string): DisputeState {
  const charge = recordedCharge(state, chargeId);
  const dispute = charge.outcome === 'succeeded' ? ownEntry(charge.disputes, disputeId) : undefined;
  if (!dispute) {
    throw notFound('dispute-not-found', `Dispute ${disputeId} does not exist on charge ${chargeId}`, {
      chargeId,
      disputeId,
    });
  }
  return dispute;
}

function requestRefund(command: RequestRefund, state: ChargeState): ChargeEvent[] {
  const { chargeId, refundId, amount, reason, dueBy } = command;
  const charge = succeededCharge(state, chargeId);
  const event: ChargeEvent = {
    type: 'RefundRequested',
    data: withoutUndefined({ chargeId, refundId, amount, reason, dueBy }),
  };
  const known = ownEntry(charge.refunds, refundId);
  if (known) {
    if (sameContent(requestOf(known), { refundId, amount, reason, dueBy })) return [];
    throw ruleViolation('refund-id-conflict', `Refund ${refundId} was already requested with other content`, {
      chargeId,
      refundId,
    });
  }
  if (amount > charge.refundableAmount) {
    throw ruleViolation(
      'refund-exceeds-refundable',
      `Refund of ${amount} exceeds the ${charge.refundableAmount} still refundable on charge ${chargeId}`,
      { chargeId, refundId, amount, refundableAmount: charge.refundableAmount },
    );
  }
  return [event];
}

type RefundTransitionCommand =
  ApproveRefund | RejectRefund | MarkRefundSucceeded | MarkRefundFailed | CancelRefund;

/** The target status, the event, and the details beyond the ids that a repeat must match. */
function refundTransition(command: RefundTransitionCommand): {
  to: RefundStatus;
  event: ChargeEvent;
  details: Record<string, unknown>;
} {
  const ref = { chargeId: command.chargeId, refundId: command.refundId };
  switch (command.type) {
    case 'ApproveRefund':
      return { to: 'approved', event: { type: 'RefundApproved', data: ref }, details: {} };
    case 'MarkRefundSucceeded':
      return { to: 'succeeded', event: { type: 'RefundSucceeded', data: ref }, details: {} };
    case 'RejectRefund': {
      const details = { reason: command.reason };
      return { to: 'rejected', event: { type: 'RefundRejected', data: { ...ref, ...details } }, details };
    }
    case 'MarkRefundFailed': {
      const details = { failureReason: command.failureReason };
      return { to: 'failed', event: { type: 'RefundFailed', data: { ...ref, ...details } }, details };
    }
    case 'CancelRefund': {
      const details = withoutUndefined({ reason: command.reason });
      return { to: 'canceled', event: { type: 'RefundCanceled', data: { ...ref, ...details } }, details };
    }
    default:
      return assertNever(command);
  }
}

/** The details a refund's current status was recorded with, in the shape refundTransition gives them. */
function recordedRefundDetails(refund: RefundState): Record<string, unknown> {
  switch (refund.status) {
    case 'rejected':
      return { reason: refund.rejectionReason };
    case 'failed':
      return { failureReason: refund.failureReason };
    case 'canceled':
      return withoutUndefined({ reason: refund.cancellationReason });
    case 'requested':
    case 'approved':
    case 'succeeded':
      return {};
    default:
      return assertNever(refund);
  }
}

function transitionRefund(command: RefundTransitionCommand, state: ChargeState): ChargeEvent[] {
  const { chargeId, refundId } = command;
  const refund = existingRefund(state, chargeId, refundId);
  const { to, event, details } = refundTransition(command);
  // A provider re-sending a fact already recorded (e.g. "succeeded" twice) changes nothing.
  if (refund.status === to && sameContent(recordedRefundDetails(refund), details)) return [];
  if (!REFUND_TRANSITIONS[refund.status].includes(to)) {
    throw ruleViolation(
      'invalid-refund-transition',
      `Refund ${refundId} is ${refund.status}; it cannot become ${to}`,
      {
        chargeId,
        refundId,
        from: refund.status,
        to,
      },
    );
  }
  return [event];
}

function openDispute(command: OpenDispute, state: ChargeState): ChargeEvent[] {
  const { chargeId, disputeId, amount, reason, networkReasonCode, evidenceDueBy } = command;
  const kind = command.kind ?? 'chargeback';
  const charge = succeededCharge(state, chargeId);
  const data = withoutUndefined({
    chargeId,
    disputeId,
    amount,
    reason,
    kind,
    networkReasonCode,
    evidenceDueBy,
  });
  const known = ownEntry(charge.disputes, disputeId);
  if (known) {
    const recorded = { chargeId, disputeId, amount: known.amount, reason: known.reason, ...known.opened };
    if (sameContent(recorded, data)) return [];
    throw ruleViolation('dispute-id-conflict', `Dispute ${disputeId} was already opened with other content`, {
      chargeId,
      disputeId,
    });
  }
  if (charge.openDisputeId !== null) {
    throw ruleViolation(
      'dispute-already-open',
      `Charge ${chargeId} already has open dispute ${charge.openDisputeId}`,
      {
        chargeId,
        disputeId,
        openDisputeId: charge.openDisputeId,
      },
    );
  }
  // No amount check: a dispute is the network's fact; over-exposure is flagged on the charge instead.
  return [{ type: 'DisputeOpened', data }];
}

const isClosed = (dispute: DisputeState) => CLOSED_DISPUTE_STATUSES.includes(dispute.status);

function disputeClosedError(chargeId: string, dispute: DisputeState) {
  return ruleViolation('dispute-closed', `Dispute ${dispute.disputeId} is closed (${dispute.status})`, {
    chargeId,
    disputeId: dispute.disputeId,
    status: dispute.status,
  });
}

function escalateDispute(command: EscalateDispute, state: ChargeState): ChargeEvent[] {
  const { chargeId, disputeId, networkReasonCode, evidenceDueBy } = command;
  const dispute = existingDispute(state, chargeId, disputeId);
  const escalation = withoutUndefined({ networkReasonCode, evidenceDueBy });
  if (dispute.escalation !== null && sameContent(dispute.escalation, escalation)) return [];
  if (isClosed(dispute)) throw disputeClosedError(chargeId, dispute);
  if (dispute.kind !== 'inquiry') {
    throw ruleViolation('dispute-not-inquiry', `Dispute ${disputeId} is already a chargeback`, {
      chargeId,
      disputeId,
    });
  }
  return [{ type: 'DisputeEscalatedToChargeback', data: { chargeId, disputeId, ...escalation } }];
}

function submitDisputeEvidence(command: SubmitDisputeEvidence, state: ChargeState): ChargeEvent[] {
  const { chargeId, disputeId, summary } = command;
  const dispute = existingDispute(state, chargeId, disputeId);
  if (isClosed(dispute)) throw disputeClosedError(chargeId, dispute);
  // Each submission is its own fact (evidence is sent in rounds), so there is no repeat detection here.
  return [{ type: 'DisputeEvidenceSubmitted', data: { chargeId, disputeId, summary } }];
}

const DISPUTE_CLOSINGS = {
  won: { status: 'won', type: 'DisputeWon', from: ['evidence_submitted'] },
  lost: { status: 'lost', type: 'DisputeLost', from: ['open', 'evidence_submitted'] },
  accepted: { status: 'accepted', type: 'DisputeAccepted', from: ['open'] },
} as const satisfies Record<
  CloseDispute['outcome'],
  { status: DisputeStatus; type: ChargeEvent['type']; from: readonly DisputeStatus[] }
>;

function closeDispute(command: CloseDispute, state: ChargeState): ChargeEvent[] {
  const { chargeId, disputeId, outcome } = command;
  const dispute = existingDispute(state, chargeId, disputeId);
  const closing = DISPUTE_CLOSINGS[outcome];
  if (dispute.status === closing.status) return [];
  if (isClosed(dispute)) throw disputeClosedError(chargeId, dispute);
  if (!(closing.from as readonly DisputeStatus[]).includes(dispute.status)) {
    throw ruleViolation(
      'invalid-dispute-transition',
      `Dispute ${disputeId} is ${dispute.status}; it cannot be closed as ${outcome}`,
      { chargeId, disputeId, from: dispute.status, to: closing.status },
    );
  }
  return [{ type: closing.type, data: { chargeId, disputeId } }];
}

export const chargeDecider: Decider<ChargeState, ChargeCommand, ChargeEvent> = {
  initialState: initialChargeState,
  evolve,
  decide,
};
