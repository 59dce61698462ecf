import type { Actor } from '../../application/ports/event-store.port';
import type { ChargeEvent } from '../../domain/charge/charge.events';
import type { IssueEvent } from '../../domain/issue/issue.events';

// Descriptions are stored copies, so they hold no personal data (summaries, notes, comments, free-text
// reasons): those cannot be crypto-shredded out of a derived string. Ids, vocabulary and amounts only.
// Refund and dispute events carry no currency, so every amount is given in minor units, the same way.

const words = (value: string): string => value.replaceAll('_', ' ');

const minorUnits = (amount: number, currency?: string): string =>
  currency === undefined ? `${amount} (minor units)` : `${amount} ${currency} (minor units)`;

export function describeActor(actor: Actor): string {
  if (actor.agentId !== undefined) return `Agent ${actor.agentId}`;
  switch (actor.kind) {
    case 'agent':
      return `Agent ${actor.id}`;
    case 'service':
      return `Service ${actor.id}`;
    case 'system':
      return `System ${actor.id}`;
    default: {
      const unhandled: never = actor.kind;
      return unhandled;
    }
  }
}

export function describeIssueEvent(event: IssueEvent, actor: Actor): string {
  const who = describeActor(actor);
  switch (event.type) {
    case 'IssueOpened': {
      const { customerId, category, channel, priority, chargeIds } = event.data;
      const what = `${words(category)} via ${words(channel)}, ${priority} priority`;
      const charges = chargeIds.length === 0 ? '' : `; charges ${chargeIds.join(', ')}`;
      return `${who} opened the issue for customer ${customerId}: ${what}${charges}`;
    }
    case 'IssueAssigned':
      return `${who} assigned the issue to agent ${event.data.agentId}`;
    case 'CustomerContacted': {
      const { direction, channel, agentId } = event.data;
      // The agent named in the data is who spoke; the actor may be the desk tool that recorded it.
      if (direction === 'inbound') {
        const to = agentId === undefined ? 'support' : `agent ${agentId}`;
        return `Customer contacted ${to} by ${words(channel)}`;
      }
      const from = agentId === undefined ? who : `Agent ${agentId}`;
      return `${from} contacted the customer by ${words(channel)}`;
    }
    case 'NoteAdded': {
      const { agentId } = event.data;
      return `${agentId === undefined ? who : `Agent ${agentId}`} added a note`;
    }
    case 'ChargeLinked':
      return `${who} linked charge ${event.data.chargeId}`;
    case 'IssueEscalated': {
      const { to, reference } = event.data;
      return `${who} escalated to ${words(to)}${reference === undefined ? '' : ` (ref ${reference})`}`;
    }
    case 'IssueResolved':
      return `${who} resolved the issue: ${words(event.data.resolution)}`;
    case 'IssueReopened':
      return `${who} reopened the issue`;
    case 'IssueClosed':
      return `${who} closed the issue`;
    case 'FeedbackReceived':
      return `Customer gave feedback: CSAT ${event.data.csat}/5`;
    case 'FollowUpSent': {
      const { channel } = event.data;
      return `${who} sent a follow-up${channel === undefined ? '' : ` by ${words(channel)}`}`;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export function describeChargeEvent(event: ChargeEvent): string {
  switch (event.type) {
    case 'ChargeSucceeded': {
      const { chargeId, amount, currency } = event.data;
      return `Charge ${chargeId} of ${minorUnits(amount, currency)} succeeded`;
    }
    case 'ChargeDeclined':
    case 'ChargeFailed': {
      const { chargeId, amount, currency, failureCategory, declineCode } = event.data;
      const outcome = event.type === 'ChargeDeclined' ? 'declined' : 'failed';
      const category = failureCategory === undefined ? '' : `: ${words(failureCategory)}`;
      const code = declineCode === undefined ? '' : ` (code ${declineCode})`;
      return `Charge ${chargeId} of ${minorUnits(amount, currency)} ${outcome}${category}${code}`;
    }
    case 'RefundRequested': {
      const { refundId, amount, reason, dueBy } = event.data;
      const due = dueBy === undefined ? '' : `, due by ${dueBy}`;
      return `Refund ${refundId} of ${minorUnits(amount)} requested: ${words(reason)}${due}`;
    }
    case 'RefundApproved':
      return `Refund ${event.data.refundId} approved`;
    case 'RefundRejected':
      return `Refund ${event.data.refundId} rejected`;
    case 'RefundSucceeded':
      return `Refund ${event.data.refundId} succeeded`;
    case 'RefundFailed':
      return `Refund ${event.data.refundId} failed: ${words(event.data.failureReason)}`;
    case 'RefundCanceled':
      return `Refund ${event.data.refundId} canceled`;
    case 'DisputeOpened': {
      const { disputeId, amount, reason, kind, networkReasonCode, evidenceDueBy } = event.data;
      const code = networkReasonCode === undefined ? '' : ` (network code ${networkReasonCode})`;
      const due = evidenceDueBy === undefined ? '' : `, evidence due by ${evidenceDueBy}`;
      const title = kind === 'inquiry' ? 'Inquiry' : 'Chargeback';
      return `${title} ${disputeId} of ${minorUnits(amount)} opened: ${words(reason)}${code}${due}`;
    }
    case 'DisputeEscalatedToChargeback': {
      const { disputeId, networkReasonCode, evidenceDueBy } = event.data;
      const code = networkReasonCode === undefined ? '' : ` (network code ${networkReasonCode})`;
      const due = evidenceDueBy === undefined ? '' : `, evidence due by ${evidenceDueBy}`;
      return `Dispute ${disputeId} escalated to a chargeback${code}${due}`;
    }
    case 'DisputeEvidenceSubmitted':
      return `Evidence submitted for dispute ${event.data.disputeId}`;
    case 'DisputeWon':
      return `Dispute ${event.data.disputeId} won`;
    case 'DisputeLost':
      return `Dispute ${event.data.disputeId} lost`;
    case 'DisputeAccepted':
      return `Dispute ${event.data.disputeId} accepted`;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
