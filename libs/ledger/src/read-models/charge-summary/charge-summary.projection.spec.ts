import type { ChargeEvent, ChargeRecordedData } from '../../domain/charge/charge.events';
import type { IssueEvent } from '../../domain/issue/issue.events';
import { givenEvents, LedgerLog } from '@app/testing';
import {
  CHARGE_SUMMARIES,
  chargeSummaryProjection,
  type ChargeMoney,
  type ChargeSummaryDocument,
  type DisputeView,
  type RefundView,
} from './charge-summary.projection';

const t = (hhmm: string, day = '02'): string => `2026-03-${day}T${hhmm}:00.000Z`;

const charge: ChargeRecordedData = {
  chargeId: 'ch1',
  customerId: 'c1',
  amount: 10000,
  currency: 'EUR',
  method: 'card',
  provider: 'stripe',
  merchantId: 'm1',
};
const succeeded: ChargeEvent = { type: 'ChargeSucceeded', data: charge };

const untouched: ChargeMoney = {
  refundedAmount: 0,
  pendingRefundAmount: 0,
  lostDisputeAmount: 0,
  openDisputeAmount: 0,
  refundableAmount: 10000,
  exposedAmount: 0,
  overExposed: false,
};

const succeededDoc: ChargeSummaryDocument = {
  id: 'ch1',
  chargeId: 'ch1',
  customerId: 'c1',
  amount: 10000,
  currency: 'EUR',
  method: 'card',
  provider: 'stripe',
  merchantId: 'm1',
  chargedAt: t('09:00'),
  outcome: 'succeeded',
  declineCode: null,
  failureCategory: null,
  ...untouched,
  refunds: [],
  disputes: [],
  revision: 0,
  lastPosition: 0,
};

type Step = [event: ChargeEvent, at: string];

function chargeHistory(...steps: Step[]) {
  const log = new LedgerLog();
  for (const [event, at] of steps) log.record<ChargeEvent>('charge-ch1', event, { occurredAt: at });
  return log.events;
}

/** Charge ch1 succeeded at 09:00, then `steps`; the document after the last of them. */
function afterSucceeded(steps: Step[], expected: Partial<ChargeSummaryDocument>) {
  givenEvents(chargeSummaryProjection, chargeHistory([succeeded, t('09:00')], ...steps)).thenDocuments({
    [CHARGE_SUMMARIES]: [
      {
        ...succeededDoc,
        revision: steps.length,
        lastPosition: steps.length,
        ...expected,
      } as ChargeSummaryDocument,
    ],
  });
}

const refundRef = { chargeId: 'ch1', refundId: 'r1' };
const requested = (amount: number, refundId = 'r1'): ChargeEvent => ({
  type: 'RefundRequested',
  data: { chargeId: 'ch1', refundId, amount, reason: 'requested_by_customer', dueBy: t('00:00', '09') },
});
const request = (amount: number, refundId = 'r1'): RefundView => ({
  refundId,
  amount,
  reason: 'requested_by_customer',
  dueBy: t('00:00', '09'),
  requestedAt: t('10:00'),
  approvedAt: null,
  status: 'requested',
});

const disputeRef = { chargeId: 'ch1', disputeId: 'd1' };
const disputeOpened = (amount: number, kind: 'inquiry' | 'chargeback' = 'chargeback'): ChargeEvent => ({
  type: 'DisputeOpened',
  data: {
    ...disputeRef,
    amount,
    reason: 'fraudulent',
    kind,
    networkReasonCode: '10.4',
    evidenceDueBy: t('00:00', '20'),
  },
});
const openDispute = (amount: number, kind: 'inquiry' | 'chargeback' = 'chargeback'): DisputeView => ({
  disputeId: 'd1',
  amount,
  reason: 'fraudulent',
  kind,
  networkReasonCode: '10.4',
  evidenceDueBy: t('00:00', '20'),
  openedAt: t('11:00'),
  escalatedAt: null,
  evidenceSubmissions: 0,
  evidenceSubmittedAt: [],
  status: 'open',
  closedAt: null,
});

describe('charge-summary projection', () => {
  it('records a succeeded charge with all of its amount refundable', () => {
    givenEvents(chargeSummaryProjection, chargeHistory([succeeded, t('09:00')])).thenDocuments({
      [CHARGE_SUMMARIES]: [succeededDoc],
    });
  });

  it.each([
    [
      'declined, with the raw code and category',
      {
        type: 'ChargeDeclined',
        data: { ...charge, declineCode: 'do_not_honor', failureCategory: 'fraud_suspected' },
      },
      { outcome: 'declined', declineCode: 'do_not_honor', failureCategory: 'fraud_suspected' },
    ],
    [
      'failed, without optional facts',
      { type: 'ChargeFailed', data: { chargeId: 'ch1', customerId: 'c1', amount: 10000, currency: 'EUR' } },
      {
        outcome: 'failed',
        declineCode: null,
        failureCategory: null,
        method: null,
        provider: null,
        merchantId: null,
      },
    ],
  ] as [string, ChargeEvent, Partial<ChargeSummaryDocument>][])(
    'records a charge that %s, with nothing refundable',
    (_name, event, expected) => {
      givenEvents(chargeSummaryProjection, chargeHistory([event, t('09:00')])).thenDocuments({
        [CHARGE_SUMMARIES]: [
          { ...succeededDoc, ...untouched, refundableAmount: 0, ...expected } as ChargeSummaryDocument,
        ],
      });
    },
  );

  describe('refunds', () => {
    it('holds a requested refund as pending', () => {
      afterSucceeded([[requested(2500), t('10:00')]], {
        refunds: [request(2500)],
        pendingRefundAmount: 2500,
        refundableAmount: 7500,
      });
    });

    it('requested -> approved -> succeeded: refunded, with its turnaround times', () => {
      afterSucceeded(
        [
          [requested(2500), t('10:00')],
          [{ type: 'RefundApproved', data: refundRef }, t('10:30')],
          [{ type: 'RefundSucceeded', data: refundRef }, t('12:00', '03')],
        ],
        {
          refunds: [
            { ...request(2500), approvedAt: t('10:30'), status: 'succeeded', succeededAt: t('12:00', '03') },
          ],
          refundedAmount: 2500,
          refundableAmount: 7500,
          exposedAmount: 2500,
        },
      );
    });

    it('requested -> approved stays pending', () => {
      afterSucceeded(
        [
          [requested(2500), t('10:00')],
          [{ type: 'RefundApproved', data: refundRef }, t('10:30')],
        ],
        {
          refunds: [{ ...request(2500), approvedAt: t('10:30'), status: 'approved' }],
          pendingRefundAmount: 2500,
          refundableAmount: 7500,
        },
      );
    });

    it.each([
      [
        'rejected',
        { type: 'RefundRejected', data: { ...refundRef, reason: 'Outside policy' } },
        { status: 'rejected', rejectedAt: t('11:00'), rejectionReason: 'Outside policy' },
      ],
      [
        'failed (the provider skipped approval)',
        { type: 'RefundFailed', data: { ...refundRef, failureReason: 'expired_or_canceled_card' } },
        { status: 'failed', failedAt: t('11:00'), failureReason: 'expired_or_canceled_card' },
      ],
      [
        'canceled with a reason',
        { type: 'RefundCanceled', data: { ...refundRef, reason: 'Customer withdrew' } },
        { status: 'canceled', canceledAt: t('11:00'), cancellationReason: 'Customer withdrew' },
      ],
      [
        'canceled without a reason',
        { type: 'RefundCanceled', data: refundRef },
        { status: 'canceled', canceledAt: t('11:00'), cancellationReason: null },
      ],
    ] as [string, ChargeEvent, Partial<RefundView>][])(
      'requested -> %s frees the amount again',
      (_name, event, outcome) => {
        afterSucceeded(
          [
            [requested(2500), t('10:00')],
            [event, t('11:00')],
          ],
          { refunds: [{ ...request(2500), ...outcome } as RefundView] },
        );
      },
    );

    it('sums several refunds by status', () => {
      afterSucceeded(
        [
          [requested(1000, 'r1'), t('10:00')],
          [requested(2000, 'r2'), t('10:00')],
          [requested(3000, 'r3'), t('10:00')],
          [{ type: 'RefundSucceeded', data: { chargeId: 'ch1', refundId: 'r1' } }, t('11:00')],
          [
            { type: 'RefundFailed', data: { chargeId: 'ch1', refundId: 'r3', failureReason: 'declined' } },
            t('11:00'),
          ],
        ],
        {
          refunds: [
            { ...request(1000, 'r1'), status: 'succeeded', succeededAt: t('11:00') },
            request(2000, 'r2'),
            { ...request(3000, 'r3'), status: 'failed', failedAt: t('11:00'), failureReason: 'declined' },
          ],
          refundedAmount: 1000,
          pendingRefundAmount: 2000,
          refundableAmount: 7000,
          exposedAmount: 1000,
        },
      );
    });

    it('shows a failure recorded after a success as the events say: the money is back', () => {
      // The decider never records this (succeeded is terminal); like evolve, the view follows the facts.
      afterSucceeded(
        [
          [requested(2500), t('10:00')],
          [{ type: 'RefundSucceeded', data: refundRef }, t('11:00')],
          [{ type: 'RefundFailed', data: { ...refundRef, failureReason: 'unknown' } }, t('12:00')],
        ],
        { refunds: [{ ...request(2500), status: 'failed', failedAt: t('12:00'), failureReason: 'unknown' }] },
      );
    });

    it('keeps the first request when a refund id is requested again, and ignores unknown refund ids', () => {
      afterSucceeded(
        [
          [requested(2500), t('10:00')],
          [requested(9000), t('10:05')],
          [{ type: 'RefundSucceeded', data: { chargeId: 'ch1', refundId: 'r-unknown' } }, t('11:00')],
        ],
        { refunds: [request(2500)], pendingRefundAmount: 2500, refundableAmount: 7500 },
      );
    });
  });

  describe('disputes', () => {
    it('inquiry -> escalated to chargeback -> evidence twice -> won: nothing lost in the end', () => {
      afterSucceeded(
        [
          [disputeOpened(10000, 'inquiry'), t('11:00')],
          [
            {
              type: 'DisputeEscalatedToChargeback',
              data: { ...disputeRef, networkReasonCode: '4837', evidenceDueBy: t('00:00', '25') },
            },
            t('12:00'),
          ],
          [
            { type: 'DisputeEvidenceSubmitted', data: { ...disputeRef, summary: 'Signed delivery note' } },
            t('13:00'),
          ],
          [
            { type: 'DisputeEvidenceSubmitted', data: { ...disputeRef, summary: 'Chat log' } },
            t('09:00', '03'),
          ],
          [{ type: 'DisputeWon', data: disputeRef }, t('09:00', '10')],
        ],
        {
          disputes: [
            {
              ...openDispute(10000, 'inquiry'),
              kind: 'chargeback',
              networkReasonCode: '4837',
              evidenceDueBy: t('00:00', '25'),
              escalatedAt: t('12:00'),
              evidenceSubmissions: 2,
              evidenceSubmittedAt: [t('13:00'), t('09:00', '03')],
              status: 'won',
              closedAt: t('09:00', '10'),
            },
          ],
        },
      );
    });

    it('keeps the code and deadline when an escalation brings none', () => {
      afterSucceeded(
        [
          [disputeOpened(4000, 'inquiry'), t('11:00')],
          [{ type: 'DisputeEscalatedToChargeback', data: disputeRef }, t('12:00')],
        ],
        {
          disputes: [{ ...openDispute(4000, 'inquiry'), kind: 'chargeback', escalatedAt: t('12:00') }],
          openDisputeAmount: 4000,
          exposedAmount: 4000,
        },
      );
    });

    it('counts an open dispute as exposed but still refundable', () => {
      afterSucceeded([[disputeOpened(4000), t('11:00')]], {
        disputes: [openDispute(4000)],
        openDisputeAmount: 4000,
        exposedAmount: 4000,
      });
    });

    it('a dispute lost after partial refunds leaves only the rest refundable', () => {
      afterSucceeded(
        [
          [requested(2000, 'r1'), t('10:00')],
          [{ type: 'RefundSucceeded', data: { chargeId: 'ch1', refundId: 'r1' } }, t('10:30')],
          [requested(1000, 'r2'), t('10:00')],
          [disputeOpened(5000), t('11:00')],
          [{ type: 'DisputeLost', data: disputeRef }, t('12:00')],
        ],
        {
          refunds: [
            { ...request(2000, 'r1'), status: 'succeeded', succeededAt: t('10:30') },
            request(1000, 'r2'),
          ],
          disputes: [{ ...openDispute(5000), status: 'lost', closedAt: t('12:00') }],
          refundedAmount: 2000,
          pendingRefundAmount: 1000,
          lostDisputeAmount: 5000,
          refundableAmount: 2000,
          exposedAmount: 7000,
        },
      );
    });

    it('an accepted dispute counts as lost', () => {
      afterSucceeded(
        [
          [disputeOpened(3000), t('11:00')],
          [{ type: 'DisputeAccepted', data: disputeRef }, t('12:00')],
        ],
        {
          disputes: [{ ...openDispute(3000), status: 'accepted', closedAt: t('12:00') }],
          lostDisputeAmount: 3000,
          refundableAmount: 7000,
          exposedAmount: 3000,
        },
      );
    });

    it('records a chargeback beyond what remains and flags the over-exposure; refundable floors at 0', () => {
      afterSucceeded(
        [
          [requested(6000), t('10:00')],
          [{ type: 'RefundSucceeded', data: refundRef }, t('10:30')],
          [disputeOpened(8000), t('11:00')],
          [{ type: 'DisputeLost', data: disputeRef }, t('12:00')],
        ],
        {
          refunds: [{ ...request(6000), status: 'succeeded', succeededAt: t('10:30') }],
          disputes: [{ ...openDispute(8000), status: 'lost', closedAt: t('12:00') }],
          refundedAmount: 6000,
          lostDisputeAmount: 8000,
          refundableAmount: 0,
          exposedAmount: 14000,
          overExposed: true,
        },
      );
    });

    it('flags over-exposure while the dispute is still open', () => {
      afterSucceeded(
        [
          [requested(6000), t('10:00')],
          [{ type: 'RefundSucceeded', data: refundRef }, t('10:30')],
          [disputeOpened(8000), t('11:00')],
        ],
        {
          refunds: [{ ...request(6000), status: 'succeeded', succeededAt: t('10:30') }],
          disputes: [openDispute(8000)],
          refundedAmount: 6000,
          openDisputeAmount: 8000,
          refundableAmount: 4000,
          exposedAmount: 14000,
          overExposed: true,
        },
      );
    });
  });

  it('ignores refunds and disputes on an unsuccessful charge, but tracks the revision', () => {
    const declined: ChargeEvent = {
      type: 'ChargeDeclined',
      data: { ...charge, declineCode: 'card_declined' },
    };
    givenEvents(
      chargeSummaryProjection,
      chargeHistory([declined, t('09:00')], [requested(100), t('10:00')], [disputeOpened(100), t('11:00')]),
    ).thenDocuments({
      [CHARGE_SUMMARIES]: [
        {
          ...succeededDoc,
          ...untouched,
          refundableAmount: 0,
          outcome: 'declined',
          declineCode: 'card_declined',
          failureCategory: null,
          revision: 2,
          lastPosition: 2,
        },
      ],
    });
  });

  it('keeps the first outcome if another is ever recorded', () => {
    afterSucceeded(
      [[{ type: 'ChargeFailed', data: { ...charge, failureCategory: 'other' } }, t('09:30')]],
      {},
    );
  });

  it('changes nothing for events delivered twice', () => {
    const [first, refund] = chargeHistory([succeeded, t('09:00')], [requested(2500), t('10:00')]);
    givenEvents(chargeSummaryProjection, [first, refund, refund, first]).thenDocuments({
      [CHARGE_SUMMARIES]: [
        {
          ...succeededDoc,
          refunds: [request(2500)],
          pendingRefundAmount: 2500,
          refundableAmount: 7500,
          revision: 1,
          lastPosition: 1,
        },
      ],
    });
  });

  it('ignores events before the charge is recorded, other streams and unknown types', () => {
    const log = new LedgerLog();
    log.record<ChargeEvent>('charge-ch1', requested(100));
    log.record<IssueEvent>('issue-i1', { type: 'ChargeLinked', data: { issueId: 'i1', chargeId: 'ch1' } });
    log.record('charge-ch1', { type: 'ChargeCaptured', data: { chargeId: 'ch1' } });
    expect(log.events.map((event) => chargeSummaryProjection.keysFor(event))).toEqual([
      [{ collection: CHARGE_SUMMARIES, id: 'ch1' }],
      [],
      [],
    ]);
    givenEvents(chargeSummaryProjection, log.events).thenDocuments({});
  });
});
