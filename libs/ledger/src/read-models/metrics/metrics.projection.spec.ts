import type { ChargeEvent } from '../../domain/charge/charge.events';
import type { CustomerEvent } from '../../domain/customer/customer.events';
import type { IssueEvent } from '../../domain/issue/issue.events';
import { givenEvents, LedgerLog } from '@app/testing';
import {
  METRIC_CHARGES,
  METRIC_CUSTOMERS,
  METRIC_ISSUES,
  metricsProjection,
  type MetricIssueDocument,
} from './metrics.projection';

const t = (hhmm: string, day = '02'): string => `2026-03-${day}T${hhmm}:00.000Z`;
const ref = { issueId: 'i1' };

const openedDoc: MetricIssueDocument = {
  id: 'i1',
  customerId: 'c1',
  category: 'delayed_refund',
  channel: 'email',
  priority: 'high',
  openedAt: t('09:00'),
  assignments: [],
  firstAgentContactAt: null,
  secondAgentContactAt: null,
  firstResolvedAt: null,
  firstReopenedAt: null,
  transitions: [],
  escalatedAt: {},
  feedback: [],
  charges: [{ chargeId: 'ch1', at: t('09:00') }],
  lastPosition: 0,
};

const opened: IssueEvent = {
  type: 'IssueOpened',
  data: {
    ...ref,
    customerId: 'c1',
    category: 'delayed_refund',
    channel: 'email',
    priority: 'high',
    chargeIds: ['ch1', 'ch1'],
  },
};

function issueHistory(...steps: [IssueEvent, string][]) {
  const log = new LedgerLog();
  for (const [event, at] of steps) log.record<IssueEvent>('issue-i1', event, { occurredAt: at });
  return log.events;
}

describe('metrics projection', () => {
  it('keeps an issue’s facts with their business times', () => {
    const contact = (
      at: string,
      direction: 'inbound' | 'outbound',
      agentId?: string,
    ): [IssueEvent, string] => [
      {
        type: 'CustomerContacted',
        data: { ...ref, direction, channel: 'email', ...(agentId ? { agentId } : {}) },
      },
      at,
    ];
    const events = issueHistory(
      [opened, t('09:00')],
      [{ type: 'IssueAssigned', data: { ...ref, agentId: 'ann' } }, t('09:05')],
      contact(t('09:10'), 'inbound', 'ann'),
      contact(t('09:40'), 'outbound'),
      contact(t('10:00'), 'outbound', 'ann'),
      // Recorded later, happened earlier: the two earliest by business time count.
      contact(t('09:30'), 'outbound', 'ann'),
      [{ type: 'IssueEscalated', data: { ...ref, to: 'finance' } }, t('10:30')],
      [{ type: 'IssueEscalated', data: { ...ref, to: 'finance' } }, t('10:20')],
      [{ type: 'ChargeLinked', data: { ...ref, chargeId: 'ch2' } }, t('10:40')],
      // A repeated link that says it is older moves the link earlier; a later one changes nothing.
      [{ type: 'ChargeLinked', data: { ...ref, chargeId: 'ch2' } }, t('10:35')],
      [{ type: 'ChargeLinked', data: { ...ref, chargeId: 'ch1' } }, t('10:45')],
      [{ type: 'IssueResolved', data: { ...ref, resolution: 'refunded' } }, t('11:00')],
      [{ type: 'IssueAssigned', data: { ...ref, agentId: 'bob' } }, t('11:30')],
      [{ type: 'IssueReopened', data: { ...ref, reason: 'still missing' } }, t('12:00')],
      // Recorded later, happened earlier (a back-dated resolution): the earliest is the first.
      [{ type: 'IssueResolved', data: { ...ref, resolution: 'refunded' } }, t('10:50')],
      [{ type: 'IssueClosed', data: ref }, t('14:00')],
      [{ type: 'FeedbackReceived', data: { ...ref, csat: 2 } }, t('15:00')],
      [{ type: 'FeedbackReceived', data: { ...ref, csat: 4 } }, t('16:00')],
      [{ type: 'NoteAdded', data: { ...ref, text: 'x' } }, t('16:30')],
    );
    givenEvents(metricsProjection, events).thenDocuments({
      [METRIC_ISSUES]: [
        {
          ...openedDoc,
          assignments: [
            { agentId: 'ann', at: t('09:05') },
            { agentId: 'bob', at: t('11:30') },
          ],
          firstAgentContactAt: t('09:30'),
          secondAgentContactAt: t('10:00'),
          firstResolvedAt: t('10:50'),
          firstReopenedAt: t('12:00'),
          transitions: [
            { to: 'resolved', at: t('11:00') },
            { to: 'open', at: t('12:00') },
            { to: 'resolved', at: t('10:50') },
            { to: 'closed', at: t('14:00') },
          ],
          escalatedAt: { finance: t('10:20') },
          feedback: [
            { csat: 2, at: t('15:00') },
            { csat: 4, at: t('16:00') },
          ],
          charges: [
            { chargeId: 'ch1', at: t('09:00') },
            { chargeId: 'ch2', at: t('10:35') },
          ],
          lastPosition: 18,
        },
      ],
    });
  });

  it('ignores events of an issue that was never opened', () => {
    const events = issueHistory([
      { type: 'IssueResolved', data: { ...ref, resolution: 'other' } },
      t('09:00'),
    ]);
    givenEvents(metricsProjection, events).thenDocuments({});
  });

  it('keeps refunds and disputes of a charge, and no document for a charge without either', () => {
    const log = new LedgerLog();
    const charge = (event: ChargeEvent, at: string, id = 'ch1') =>
      log.record<ChargeEvent>(`charge-${id}`, event, { occurredAt: at });
    const base = { customerId: 'c1', amount: 5000, currency: 'EUR' };
    charge({ type: 'ChargeSucceeded', data: { ...base, chargeId: 'ch1' } }, t('08:00'));
    charge({ type: 'ChargeSucceeded', data: { ...base, chargeId: 'ch9' } }, t('08:00'), 'ch9');
    const r = { chargeId: 'ch1', refundId: 'r1' };
    charge(
      { type: 'RefundRequested', data: { ...r, amount: 100, reason: 'duplicate', dueBy: t('12:00') } },
      t('09:00'),
    );
    charge({ type: 'RefundRequested', data: { ...r, amount: 999, reason: 'other' } }, t('09:30'));
    charge({ type: 'RefundApproved', data: r }, t('10:00'));
    charge({ type: 'RefundSucceeded', data: r }, t('13:00'));
    const r2 = { chargeId: 'ch1', refundId: 'r2' };
    charge({ type: 'RefundRequested', data: { ...r2, amount: 100, reason: 'other' } }, t('09:00', '03'));
    charge({ type: 'RefundRejected', data: { ...r2, reason: 'no' } }, t('10:00', '03'));
    const d = { chargeId: 'ch1', disputeId: 'd1' };
    charge(
      {
        type: 'DisputeOpened',
        data: { ...d, amount: 5000, reason: 'fraudulent', kind: 'inquiry', evidenceDueBy: t('09:00', '05') },
      },
      t('09:00', '04'),
    );
    charge(
      { type: 'DisputeEscalatedToChargeback', data: { ...d, evidenceDueBy: t('09:00', '10') } },
      t('10:00', '04'),
    );
    charge({ type: 'DisputeEvidenceSubmitted', data: { ...d, summary: 'receipt' } }, t('09:00', '09'));
    charge({ type: 'DisputeEvidenceSubmitted', data: { ...d, summary: 'more' } }, t('09:00', '11'));
    charge({ type: 'DisputeLost', data: d }, t('09:00', '20'));
    givenEvents(metricsProjection, log.events).thenDocuments({
      [METRIC_CHARGES]: [
        {
          id: 'ch1',
          refunds: [
            {
              refundId: 'r1',
              requestedAt: t('09:00'),
              dueBy: t('12:00'),
              status: 'succeeded',
              terminalAt: t('13:00'),
            },
            {
              refundId: 'r2',
              requestedAt: t('09:00', '03'),
              dueBy: null,
              status: 'rejected',
              terminalAt: t('10:00', '03'),
            },
          ],
          disputes: [
            {
              disputeId: 'd1',
              openedAt: t('09:00', '04'),
              deadlines: [
                { dueBy: t('09:00', '05'), at: t('09:00', '04') },
                { dueBy: t('09:00', '10'), at: t('10:00', '04') },
              ],
              evidenceSubmittedAt: [t('09:00', '09'), t('09:00', '11')],
              outcome: 'lost',
              closedAt: t('09:00', '20'),
            },
          ],
          lastPosition: 12,
        },
      ],
    });
  });

  it('keeps churns and reactivations of a customer', () => {
    const log = new LedgerLog();
    const customer = (event: CustomerEvent, at: string) =>
      log.record<CustomerEvent>('customer-c1', event, { occurredAt: at });
    customer(
      { type: 'CustomerChurned', data: { customerId: 'c1', kind: 'involuntary', reason: 'card' } },
      t('09:00'),
    );
    customer({ type: 'CustomerReactivated', data: { customerId: 'c1' } }, t('09:00', '05'));
    customer({ type: 'CustomerDataErased', data: { customerId: 'c1' } }, t('09:00', '06'));
    customer({ type: 'CustomerChurned', data: { customerId: 'c1', kind: 'voluntary' } }, t('09:00', '07'));
    givenEvents(metricsProjection, log.events).thenDocuments({
      [METRIC_CUSTOMERS]: [
        {
          id: 'c1',
          churns: [
            { kind: 'involuntary', at: t('09:00') },
            { kind: 'voluntary', at: t('09:00', '07') },
          ],
          reactivations: [t('09:00', '05')],
          lastPosition: 3,
        },
      ],
    });
  });
});
