import { given } from '@app/testing';
import type { CommandContext } from '../shared/decider';
import { NotFoundError, RuleViolationError } from '../shared/domain-error';
import type { ChargeCommand } from './charge.commands';
import { chargeDecider, type ChargeState } from './charge.decider';
import { chargeStream, type ChargeEvent } from './charge.events';

const context: CommandContext = {
  occurredAt: '2026-03-01T10:00:00.000Z',
  now: '2026-03-01T10:00:01.000Z',
  actor: { kind: 'service', id: 'key-1' },
};
const chargeId = 'ch_1';

const succeeded: ChargeEvent = {
  type: 'ChargeSucceeded',
  data: { chargeId, customerId: 'cu_1', amount: 10000, currency: 'EUR' },
};
const declined: ChargeEvent = {
  type: 'ChargeDeclined',
  data: { chargeId, customerId: 'cu_1', amount: 10000, currency: 'EUR', declineCode: 'do_not_honor' },
};
const refundRequested = (refundId: string, amount: number): ChargeEvent => ({
  type: 'RefundRequested',
  data: { chargeId, refundId, amount, reason: 'requested_by_customer' },
});
const refundApproved = (refundId: string): ChargeEvent => ({
  type: 'RefundApproved',
  data: { chargeId, refundId },
});
const refundSucceeded = (refundId: string): ChargeEvent => ({
  type: 'RefundSucceeded',
  data: { chargeId, refundId },
});
const refundRejected = (refundId: string, reason = 'outside policy'): ChargeEvent => ({
  type: 'RefundRejected',
  data: { chargeId, refundId, reason },
});
const refundFailed = (refundId: string): ChargeEvent => ({
  type: 'RefundFailed',
  data: { chargeId, refundId, failureReason: 'declined' },
});
const refundCanceled = (refundId: string, reason?: string): ChargeEvent => ({
  type: 'RefundCanceled',
  data: reason === undefined ? { chargeId, refundId } : { chargeId, refundId, reason },
});
const disputeOpened = (
  disputeId: string,
  amount: number,
  kind: 'inquiry' | 'chargeback' = 'chargeback',
): ChargeEvent => ({
  type: 'DisputeOpened',
  data: { chargeId, disputeId, amount, reason: 'fraudulent', kind },
});
const evidenceSubmitted = (disputeId: string): ChargeEvent => ({
  type: 'DisputeEvidenceSubmitted',
  data: { chargeId, disputeId, summary: 'Delivery confirmation' },
});
const disputeLost = (disputeId: string): ChargeEvent => ({
  type: 'DisputeLost',
  data: { chargeId, disputeId },
});
const disputeWon = (disputeId: string): ChargeEvent => ({
  type: 'DisputeWon',
  data: { chargeId, disputeId },
});

const recordCharge = (
  fields: Partial<Extract<ChargeCommand, { type: 'RecordCharge' }>> = {},
): ChargeCommand => ({
  type: 'RecordCharge',
  chargeId,
  customerId: 'cu_1',
  amount: 10000,
  currency: 'EUR',
  outcome: 'succeeded',
  context,
  ...fields,
});
const requestRefund = (refundId: string, amount: number, extra: { dueBy?: string } = {}): ChargeCommand => ({
  type: 'RequestRefund',
  chargeId,
  refundId,
  amount,
  reason: 'requested_by_customer',
  ...extra,
  context,
});
const approve = (refundId: string): ChargeCommand => ({ type: 'ApproveRefund', chargeId, refundId, context });
const reject = (refundId: string, reason = 'outside policy'): ChargeCommand => ({
  type: 'RejectRefund',
  chargeId,
  refundId,
  reason,
  context,
});
const markSucceeded = (refundId: string): ChargeCommand => ({
  type: 'MarkRefundSucceeded',
  chargeId,
  refundId,
  context,
});
const markFailed = (refundId: string, failureReason: 'declined' | 'unknown' = 'declined'): ChargeCommand => ({
  type: 'MarkRefundFailed',
  chargeId,
  refundId,
  failureReason,
  context,
});
const cancel = (refundId: string, reason?: string): ChargeCommand => ({
  type: 'CancelRefund',
  chargeId,
  refundId,
  ...(reason === undefined ? {} : { reason }),
  context,
});
const openDispute = (
  disputeId: string,
  amount: number,
  extra: Partial<Extract<ChargeCommand, { type: 'OpenDispute' }>> = {},
): ChargeCommand => ({
  type: 'OpenDispute',
  chargeId,
  disputeId,
  amount,
  reason: 'fraudulent',
  ...extra,
  context,
});
const escalate = (
  disputeId: string,
  extra: { networkReasonCode?: string; evidenceDueBy?: string } = {},
): ChargeCommand => ({
  type: 'EscalateDispute',
  chargeId,
  disputeId,
  ...extra,
  context,
});
const submitEvidence = (disputeId: string): ChargeCommand => ({
  type: 'SubmitDisputeEvidence',
  chargeId,
  disputeId,
  summary: 'Delivery confirmation',
  context,
});
const closeDispute = (disputeId: string, outcome: 'won' | 'lost' | 'accepted'): ChargeCommand => ({
  type: 'CloseDispute',
  chargeId,
  disputeId,
  outcome,
  context,
});

const recorded = (state: ChargeState) => {
  if (state.status !== 'recorded' || state.outcome !== 'succeeded')
    throw new Error('expected a succeeded charge');
  return state;
};

describe('charge decider', () => {
  it('names the stream charge-{chargeId}', () => {
    expect(chargeStream('ch_1')).toBe('charge-ch_1');
  });

  describe('RecordCharge', () => {
    it('records a succeeded charge with every optional detail', () => {
      const state = given(chargeDecider)
        .when(recordCharge({ method: 'card', provider: 'stripe', merchantId: 'm_1' }))
        .then([
          {
            type: 'ChargeSucceeded',
            data: {
              chargeId,
              customerId: 'cu_1',
              amount: 10000,
              currency: 'EUR',
              method: 'card',
              provider: 'stripe',
              merchantId: 'm_1',
            },
          },
        ]);
      expect(state).toEqual(
        expect.objectContaining({ status: 'recorded', outcome: 'succeeded', refundableAmount: 10000 }),
      );
    });

    it('omits absent optionals instead of writing undefined', () => {
      given(chargeDecider)
        .when(recordCharge({ method: undefined }))
        .then([succeeded]);
    });

    it('records a decline with the raw provider code', () => {
      given(chargeDecider)
        .when(recordCharge({ outcome: 'declined', declineCode: 'do_not_honor' }))
        .then([declined]);
    });

    it('records a failure with its category and any raw code', () => {
      given(chargeDecider)
        .when(
          recordCharge({ outcome: 'failed', failureCategory: 'processor_error', declineCode: 'pspx_503' }),
        )
        .then([
          {
            type: 'ChargeFailed',
            data: {
              chargeId,
              customerId: 'cu_1',
              amount: 10000,
              currency: 'EUR',
              declineCode: 'pspx_503',
              failureCategory: 'processor_error',
            },
          },
        ]);
    });

    it('refuses a succeeded charge that carries a decline code or failure category', () => {
      given(chargeDecider)
        .when(recordCharge({ declineCode: 'do_not_honor' }))
        .thenThrows(RuleViolationError, 'charge-outcome-mismatch');
      given(chargeDecider)
        .when(recordCharge({ failureCategory: 'other' }))
        .thenThrows(RuleViolationError, 'charge-outcome-mismatch');
    });

    it('changes nothing when the same charge is recorded again, even after refunds', () => {
      given(chargeDecider, [succeeded]).when(recordCharge()).thenNothing();
      given(chargeDecider, [succeeded, refundRequested('re_1', 100), refundSucceeded('re_1')])
        .when(recordCharge())
        .thenNothing();
      given(chargeDecider, [declined])
        .when(recordCharge({ outcome: 'declined', declineCode: 'do_not_honor' }))
        .thenNothing();
    });

    it('refuses the same charge id with other content', () => {
      given(chargeDecider, [succeeded])
        .when(recordCharge({ amount: 999 }))
        .thenThrows(RuleViolationError, 'charge-already-recorded');
      given(chargeDecider, [succeeded])
        .when(recordCharge({ outcome: 'declined' }))
        .thenThrows(RuleViolationError, 'charge-already-recorded');
      given(chargeDecider, [succeeded])
        .when(recordCharge({ provider: 'adyen' }))
        .thenThrows(RuleViolationError, 'charge-already-recorded');
      given(chargeDecider, [declined])
        .when(recordCharge({ outcome: 'declined', declineCode: 'insufficient_funds' }))
        .thenThrows(RuleViolationError, 'charge-already-recorded');
    });
  });

  describe('RequestRefund', () => {
    it('records the request with its deadline', () => {
      const state = given(chargeDecider, [succeeded])
        .when(requestRefund('re_1', 3000, { dueBy: '2026-03-10T00:00:00.000Z' }))
        .then([
          {
            type: 'RefundRequested',
            data: {
              chargeId,
              refundId: 're_1',
              amount: 3000,
              reason: 'requested_by_customer',
              dueBy: '2026-03-10T00:00:00.000Z',
            },
          },
        ]);
      expect(recorded(state).refunds.re_1).toEqual({
        refundId: 're_1',
        amount: 3000,
        reason: 'requested_by_customer',
        dueBy: '2026-03-10T00:00:00.000Z',
        status: 'requested',
      });
      expect(recorded(state)).toEqual(
        expect.objectContaining({ pendingRefundAmount: 3000, refundableAmount: 7000 }),
      );
    });

    it('records a request without a deadline without a dueBy key', () => {
      given(chargeDecider, [succeeded])
        .when(requestRefund('re_1', 10000))
        .then([refundRequested('re_1', 10000)]);
    });

    it('is 404 on a charge that does not exist', () => {
      given(chargeDecider).when(requestRefund('re_1', 1)).thenThrows(NotFoundError, 'charge-not-found');
    });

    it('refuses a charge that did not succeed', () => {
      given(chargeDecider, [declined])
        .when(requestRefund('re_1', 1))
        .thenThrows(RuleViolationError, 'charge-not-succeeded');
    });

    it('refuses more than the charge amount', () => {
      given(chargeDecider, [succeeded])
        .when(requestRefund('re_1', 10001))
        .thenThrows(RuleViolationError, 'refund-exceeds-refundable');
    });

    it('counts succeeded and pending refunds and lost disputes, not open disputes or ended refunds', () => {
      const history = [
        succeeded,
        refundRequested('re_done', 3000),
        refundSucceeded('re_done'),
        refundRequested('re_pending', 1000),
        refundApproved('re_pending'),
        refundRequested('re_waiting', 1000),
        refundRequested('re_rejected', 5000),
        refundRejected('re_rejected'),
        refundRequested('re_failed', 5000),
        refundFailed('re_failed'),
        refundRequested('re_canceled', 5000),
        refundCanceled('re_canceled'),
        disputeOpened('dp_lost', 4000),
        disputeLost('dp_lost'),
        disputeOpened('dp_open', 9000),
      ];
      expect(recorded(given(chargeDecider, history).state).refundableAmount).toBe(1000);
      given(chargeDecider, history)
        .when(requestRefund('re_new', 1001))
        .thenThrows(RuleViolationError, 'refund-exceeds-refundable');
      given(chargeDecider, history)
        .when(requestRefund('re_new', 1000))
        .then([refundRequested('re_new', 1000)]);
    });

    it('changes nothing for the same refund id with the same content, whatever happened since', () => {
      given(chargeDecider, [succeeded, refundRequested('re_1', 10000)])
        .when(requestRefund('re_1', 10000))
        .thenNothing();
      given(chargeDecider, [succeeded, refundRequested('re_1', 10000), refundSucceeded('re_1')])
        .when(requestRefund('re_1', 10000))
        .thenNothing();
    });

    it('refuses the same refund id with other content', () => {
      given(chargeDecider, [succeeded, refundRequested('re_1', 100)])
        .when(requestRefund('re_1', 200))
        .thenThrows(RuleViolationError, 'refund-id-conflict');
      given(chargeDecider, [succeeded, refundRequested('re_1', 100)])
        .when(requestRefund('re_1', 100, { dueBy: '2026-03-10T00:00:00.000Z' }))
        .thenThrows(RuleViolationError, 'refund-id-conflict');
    });

    it('keeps ids such as __proto__ as plain keys', () => {
      const state = given(chargeDecider, [succeeded])
        .when(requestRefund('__proto__', 100))
        .then([refundRequested('__proto__', 100)]);
      expect(Object.hasOwn(recorded(state).refunds, '__proto__')).toBe(true);
      given(chargeDecider, [succeeded])
        .when(approve('constructor'))
        .thenThrows(NotFoundError, 'refund-not-found');
      given(chargeDecider, [succeeded, refundRequested('__proto__', 100)])
        .when(approve('__proto__'))
        .then([refundApproved('__proto__')]);
    });
  });

  describe('refund transitions', () => {
    const requested = [succeeded, refundRequested('re_1', 2500)];
    const approved = [...requested, refundApproved('re_1')];

    it('approves a requested refund, and an approval repeated changes nothing', () => {
      given(chargeDecider, requested)
        .when(approve('re_1'))
        .then([refundApproved('re_1')]);
      given(chargeDecider, approved).when(approve('re_1')).thenNothing();
    });

    it('rejects a requested refund with a reason; the same rejection again changes nothing', () => {
      const state = given(chargeDecider, requested)
        .when(reject('re_1', 'outside policy'))
        .then([refundRejected('re_1', 'outside policy')]);
      expect(recorded(state).refunds.re_1).toEqual(
        expect.objectContaining({ status: 'rejected', rejectionReason: 'outside policy' }),
      );
      expect(recorded(state).pendingRefundAmount).toBe(0);
      given(chargeDecider, [...requested, refundRejected('re_1')])
        .when(reject('re_1'))
        .thenNothing();
    });

    it('refuses a rejection with another reason once rejected, and a rejection after approval', () => {
      given(chargeDecider, [...requested, refundRejected('re_1', 'outside policy')])
        .when(reject('re_1', 'fraud'))
        .thenThrows(RuleViolationError, 'invalid-refund-transition');
      given(chargeDecider, approved)
        .when(reject('re_1'))
        .thenThrows(RuleViolationError, 'invalid-refund-transition');
    });

    it('marks an approved refund, or a requested one (providers that skip approval), succeeded', () => {
      const state = given(chargeDecider, approved)
        .when(markSucceeded('re_1'))
        .then([refundSucceeded('re_1')]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({ refundedAmount: 2500, pendingRefundAmount: 0, refundableAmount: 7500 }),
      );
      given(chargeDecider, requested)
        .when(markSucceeded('re_1'))
        .then([refundSucceeded('re_1')]);
    });

    it('changes nothing when a success is reported again', () => {
      given(chargeDecider, [...approved, refundSucceeded('re_1')])
        .when(markSucceeded('re_1'))
        .thenNothing();
    });

    it('records a success even when it over-refunds, and flags the exposure', () => {
      const history = [
        succeeded,
        refundRequested('re_1', 6000),
        disputeOpened('dp_1', 5000),
        disputeLost('dp_1'),
      ];
      const state = given(chargeDecider, history)
        .when(markSucceeded('re_1'))
        .then([refundSucceeded('re_1')]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({
          refundedAmount: 6000,
          disputeLossAmount: 5000,
          exposedAmount: 11000,
          refundableAmount: 0,
          overExposed: true,
        }),
      );
    });

    it('marks a refund failed with the reason; the same failure again changes nothing', () => {
      given(chargeDecider, approved)
        .when(markFailed('re_1'))
        .then([refundFailed('re_1')]);
      given(chargeDecider, requested)
        .when(markFailed('re_1'))
        .then([refundFailed('re_1')]);
      given(chargeDecider, [...approved, refundFailed('re_1')])
        .when(markFailed('re_1'))
        .thenNothing();
    });

    it('refuses a failure with another reason once failed', () => {
      given(chargeDecider, [...approved, refundFailed('re_1')])
        .when(markFailed('re_1', 'unknown'))
        .thenThrows(RuleViolationError, 'invalid-refund-transition');
    });

    it('cancels a requested or approved refund, with or without a reason', () => {
      given(chargeDecider, requested)
        .when(cancel('re_1', 'customer changed mind'))
        .then([refundCanceled('re_1', 'customer changed mind')]);
      given(chargeDecider, approved)
        .when(cancel('re_1'))
        .then([refundCanceled('re_1')]);
    });

    it('changes nothing when the same cancellation comes again, and refuses one with another reason', () => {
      given(chargeDecider, [...requested, refundCanceled('re_1', 'dup')])
        .when(cancel('re_1', 'dup'))
        .thenNothing();
      given(chargeDecider, [...requested, refundCanceled('re_1')])
        .when(cancel('re_1'))
        .thenNothing();
      given(chargeDecider, [...requested, refundCanceled('re_1', 'dup')])
        .when(cancel('re_1', 'other'))
        .thenThrows(RuleViolationError, 'invalid-refund-transition');
    });

    it.each([
      ['succeeded', [refundSucceeded('re_1')], [approve, reject, markFailed, cancel]],
      ['failed', [refundFailed('re_1')], [approve, reject, markSucceeded, cancel]],
      ['rejected', [refundRejected('re_1')], [approve, markSucceeded, markFailed, cancel]],
      ['canceled', [refundCanceled('re_1')], [approve, reject, markSucceeded, markFailed]],
    ] as const)('a %s refund is terminal', (_status, after, commands) => {
      for (const command of commands) {
        given(chargeDecider, [...requested, ...after])
          .when(command('re_1'))
          .thenThrows(RuleViolationError, 'invalid-refund-transition');
      }
    });

    it('is 404 for an unknown refund or charge', () => {
      for (const command of [approve, reject, markSucceeded, markFailed, cancel]) {
        given(chargeDecider, [succeeded])
          .when(command('re_nope'))
          .thenThrows(NotFoundError, 'refund-not-found');
        given(chargeDecider, [declined])
          .when(command('re_nope'))
          .thenThrows(NotFoundError, 'refund-not-found');
        given(chargeDecider).when(command('re_nope')).thenThrows(NotFoundError, 'charge-not-found');
      }
    });
  });

  describe('OpenDispute', () => {
    it('records the dispute with the raw network code and deadline', () => {
      const state = given(chargeDecider, [succeeded])
        .when(
          openDispute('dp_1', 10000, {
            reason: 'product_not_received',
            kind: 'inquiry',
            networkReasonCode: '13.1',
            evidenceDueBy: '2026-04-01T00:00:00.000Z',
          }),
        )
        .then([
          {
            type: 'DisputeOpened',
            data: {
              chargeId,
              disputeId: 'dp_1',
              amount: 10000,
              reason: 'product_not_received',
              kind: 'inquiry',
              networkReasonCode: '13.1',
              evidenceDueBy: '2026-04-01T00:00:00.000Z',
            },
          },
        ]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({ openDisputeId: 'dp_1', openDisputeAmount: 10000, overExposed: false }),
      );
    });

    it('defaults the kind to chargeback', () => {
      given(chargeDecider, [succeeded])
        .when(openDispute('dp_1', 500))
        .then([disputeOpened('dp_1', 500, 'chargeback')]);
    });

    it('records a dispute for more than remains and flags the over-exposure', () => {
      const history = [succeeded, refundRequested('re_1', 6000), refundSucceeded('re_1')];
      const state = given(chargeDecider, history)
        .when(openDispute('dp_1', 5000))
        .then([disputeOpened('dp_1', 5000)]);
      expect(recorded(state)).toEqual(expect.objectContaining({ exposedAmount: 11000, overExposed: true }));
    });

    it('is 404 on a charge that does not exist and refused on one that did not succeed', () => {
      given(chargeDecider).when(openDispute('dp_1', 1)).thenThrows(NotFoundError, 'charge-not-found');
      given(chargeDecider, [declined])
        .when(openDispute('dp_1', 1))
        .thenThrows(RuleViolationError, 'charge-not-succeeded');
    });

    it('allows one open dispute at a time', () => {
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100)])
        .when(openDispute('dp_2', 100))
        .thenThrows(RuleViolationError, 'dispute-already-open');
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100), evidenceSubmitted('dp_1')])
        .when(openDispute('dp_2', 100))
        .thenThrows(RuleViolationError, 'dispute-already-open');
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100), disputeLost('dp_1')])
        .when(openDispute('dp_2', 100))
        .then([disputeOpened('dp_2', 100)]);
    });

    it('changes nothing for the same dispute id with the same content, even after escalation or closing', () => {
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100)])
        .when(openDispute('dp_1', 100, { kind: 'chargeback' }))
        .thenNothing();
      given(chargeDecider, [
        succeeded,
        disputeOpened('dp_1', 100, 'inquiry'),
        {
          type: 'DisputeEscalatedToChargeback',
          data: { chargeId, disputeId: 'dp_1', evidenceDueBy: '2026-05-01' },
        },
        disputeLost('dp_1'),
      ])
        .when(openDispute('dp_1', 100, { kind: 'inquiry' }))
        .thenNothing();
    });

    it('refuses the same dispute id with other content', () => {
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100)])
        .when(openDispute('dp_1', 200))
        .thenThrows(RuleViolationError, 'dispute-id-conflict');
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100)])
        .when(openDispute('dp_1', 100, { kind: 'inquiry' }))
        .thenThrows(RuleViolationError, 'dispute-id-conflict');
    });
  });

  describe('EscalateDispute', () => {
    const inquiry = [succeeded, disputeOpened('dp_1', 100, 'inquiry')];

    it('turns an inquiry into a chargeback with the new code and deadline', () => {
      const state = given(chargeDecider, inquiry)
        .when(escalate('dp_1', { networkReasonCode: '10.4', evidenceDueBy: '2026-05-01T00:00:00.000Z' }))
        .then([
          {
            type: 'DisputeEscalatedToChargeback',
            data: {
              chargeId,
              disputeId: 'dp_1',
              networkReasonCode: '10.4',
              evidenceDueBy: '2026-05-01T00:00:00.000Z',
            },
          },
        ]);
      expect(recorded(state).disputes.dp_1).toEqual(
        expect.objectContaining({
          kind: 'chargeback',
          status: 'open',
          networkReasonCode: '10.4',
          evidenceDueBy: '2026-05-01T00:00:00.000Z',
        }),
      );
    });

    it('escalates without optional fields', () => {
      given(chargeDecider, inquiry)
        .when(escalate('dp_1'))
        .then([{ type: 'DisputeEscalatedToChargeback', data: { chargeId, disputeId: 'dp_1' } }]);
    });

    it('changes nothing when the same escalation comes again; refuses another one', () => {
      const escalated = [
        ...inquiry,
        {
          type: 'DisputeEscalatedToChargeback',
          data: { chargeId, disputeId: 'dp_1', networkReasonCode: '10.4' },
        },
      ] as ChargeEvent[];
      given(chargeDecider, escalated)
        .when(escalate('dp_1', { networkReasonCode: '10.4' }))
        .thenNothing();
      given(chargeDecider, escalated)
        .when(escalate('dp_1', { networkReasonCode: '10.5' }))
        .thenThrows(RuleViolationError, 'dispute-not-inquiry');
    });

    it('refuses a dispute opened as a chargeback', () => {
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100)])
        .when(escalate('dp_1'))
        .thenThrows(RuleViolationError, 'dispute-not-inquiry');
    });

    it('refuses a closed dispute', () => {
      given(chargeDecider, [...inquiry, disputeLost('dp_1')])
        .when(escalate('dp_1'))
        .thenThrows(RuleViolationError, 'dispute-closed');
    });

    it('is 404 for an unknown dispute or charge', () => {
      given(chargeDecider, [succeeded])
        .when(escalate('dp_nope'))
        .thenThrows(NotFoundError, 'dispute-not-found');
      given(chargeDecider).when(escalate('dp_nope')).thenThrows(NotFoundError, 'charge-not-found');
    });
  });

  describe('SubmitDisputeEvidence', () => {
    it('records each submission as its own event', () => {
      const open = [succeeded, disputeOpened('dp_1', 100)];
      const state = given(chargeDecider, open)
        .when(submitEvidence('dp_1'))
        .then([evidenceSubmitted('dp_1')]);
      expect(recorded(state).disputes.dp_1).toEqual(
        expect.objectContaining({ status: 'evidence_submitted', evidenceSubmissions: 1 }),
      );
      const again = given(chargeDecider, [...open, evidenceSubmitted('dp_1')])
        .when(submitEvidence('dp_1'))
        .then([evidenceSubmitted('dp_1')]);
      expect(recorded(again).disputes.dp_1.evidenceSubmissions).toBe(2);
    });

    it('refuses a closed dispute', () => {
      given(chargeDecider, [succeeded, disputeOpened('dp_1', 100), disputeLost('dp_1')])
        .when(submitEvidence('dp_1'))
        .thenThrows(RuleViolationError, 'dispute-closed');
    });

    it('is 404 for an unknown dispute or charge', () => {
      given(chargeDecider, [succeeded])
        .when(submitEvidence('dp_nope'))
        .thenThrows(NotFoundError, 'dispute-not-found');
      given(chargeDecider, [declined])
        .when(submitEvidence('dp_nope'))
        .thenThrows(NotFoundError, 'dispute-not-found');
      given(chargeDecider).when(submitEvidence('dp_nope')).thenThrows(NotFoundError, 'charge-not-found');
    });
  });

  describe('CloseDispute', () => {
    const open = [succeeded, disputeOpened('dp_1', 4000)];
    const withEvidence = [...open, evidenceSubmitted('dp_1')];

    it('records a win after evidence', () => {
      const state = given(chargeDecider, withEvidence)
        .when(closeDispute('dp_1', 'won'))
        .then([disputeWon('dp_1')]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({
          openDisputeId: null,
          openDisputeAmount: 0,
          disputeLossAmount: 0,
          refundableAmount: 10000,
        }),
      );
    });

    it('records a loss, with or without evidence, and counts it against the refundable amount', () => {
      const state = given(chargeDecider, open)
        .when(closeDispute('dp_1', 'lost'))
        .then([disputeLost('dp_1')]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({ openDisputeId: null, disputeLossAmount: 4000, refundableAmount: 6000 }),
      );
      given(chargeDecider, withEvidence)
        .when(closeDispute('dp_1', 'lost'))
        .then([disputeLost('dp_1')]);
    });

    it('records an accepted dispute while it is open', () => {
      const state = given(chargeDecider, open)
        .when(closeDispute('dp_1', 'accepted'))
        .then([{ type: 'DisputeAccepted', data: { chargeId, disputeId: 'dp_1' } }]);
      expect(recorded(state)).toEqual(
        expect.objectContaining({ disputeLossAmount: 4000, refundableAmount: 6000 }),
      );
    });

    it('refuses a win without evidence and an acceptance after evidence', () => {
      given(chargeDecider, open)
        .when(closeDispute('dp_1', 'won'))
        .thenThrows(RuleViolationError, 'invalid-dispute-transition');
      given(chargeDecider, withEvidence)
        .when(closeDispute('dp_1', 'accepted'))
        .thenThrows(RuleViolationError, 'invalid-dispute-transition');
    });

    it('changes nothing when the same outcome comes again; refuses another outcome once closed', () => {
      given(chargeDecider, [...withEvidence, disputeWon('dp_1')])
        .when(closeDispute('dp_1', 'won'))
        .thenNothing();
      given(chargeDecider, [...withEvidence, disputeWon('dp_1')])
        .when(closeDispute('dp_1', 'lost'))
        .thenThrows(RuleViolationError, 'dispute-closed');
    });

    it('is 404 for an unknown dispute or charge', () => {
      given(chargeDecider, [succeeded])
        .when(closeDispute('dp_nope', 'won'))
        .thenThrows(NotFoundError, 'dispute-not-found');
      given(chargeDecider).when(closeDispute('dp_nope', 'won')).thenThrows(NotFoundError, 'charge-not-found');
    });
  });

  describe('evolve', () => {
    it('is total: events it cannot place leave the state unchanged', () => {
      const none = chargeDecider.initialState;
      for (const event of [
        refundApproved('re_1'),
        refundRequested('re_1', 1),
        disputeOpened('dp_1', 1),
        disputeWon('dp_1'),
      ]) {
        expect(chargeDecider.evolve(none, event)).toBe(none);
      }
      const declinedState = given(chargeDecider, [declined]).state;
      expect(chargeDecider.evolve(declinedState, refundRequested('re_1', 1))).toBe(declinedState);
      const succeededState = given(chargeDecider, [succeeded]).state;
      expect(chargeDecider.evolve(succeededState, refundApproved('re_1'))).toBe(succeededState);
      expect(chargeDecider.evolve(succeededState, declined)).toBe(succeededState);
    });

    it('keeps the state JSON-serialisable', () => {
      const { state } = given(chargeDecider, [
        succeeded,
        refundRequested('re_1', 100),
        refundCanceled('re_1', 'x'),
        disputeOpened('dp_1', 100, 'inquiry'),
        evidenceSubmitted('dp_1'),
      ]);
      expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
    });
  });
});
