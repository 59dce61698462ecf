import type { Actor } from '../../application/ports/event-store.port';
import { CHARGE_EVENT_TYPES, type ChargeEvent } from '../../domain/charge/charge.events';
import type { CustomerEvent } from '../../domain/customer/customer.events';
import { ISSUE_EVENT_TYPES, type IssueEvent } from '../../domain/issue/issue.events';
import { agentActor, givenEvents, LedgerLog, serviceActor } from '@app/testing';
import {
  issueTimelineProjection,
  TIMELINE_ENTRIES,
  timelineEntryId,
  type TimelineEntryDocument,
} from './issue-timeline.projection';

const issue = { issueId: 'i1' };
const agent = agentActor('a-17');
const desk = serviceActor('desk');
const systemActor: Actor = { kind: 'system', id: 'ledger' };

const issueDescriptions: [event: IssueEvent, actor: Actor, description: string][] = [
  [
    {
      type: 'IssueOpened',
      data: {
        ...issue,
        customerId: 'c1',
        category: 'duplicate_charge',
        channel: 'web_form',
        priority: 'high',
        chargeIds: ['ch1', 'ch2'],
        summary: 'Charged twice',
      },
    },
    desk,
    'Service desk opened the issue for customer c1: duplicate charge via web form, high priority; charges ch1, ch2',
  ],
  [
    {
      type: 'IssueOpened',
      data: {
        ...issue,
        customerId: 'c1',
        category: 'other',
        channel: 'chat',
        priority: 'low',
        chargeIds: [],
      },
    },
    systemActor,
    'System ledger opened the issue for customer c1: other via chat, low priority',
  ],
  [
    { type: 'IssueAssigned', data: { ...issue, agentId: 'a-2' } },
    agent,
    'Agent a-17 assigned the issue to agent a-2',
  ],
  [
    {
      type: 'CustomerContacted',
      data: { ...issue, direction: 'outbound', channel: 'phone', agentId: 'a-2' },
    },
    desk,
    'Agent a-2 contacted the customer by phone',
  ],
  [
    { type: 'CustomerContacted', data: { ...issue, direction: 'outbound', channel: 'email' } },
    desk,
    'Service desk contacted the customer by email',
  ],
  [
    { type: 'CustomerContacted', data: { ...issue, direction: 'inbound', channel: 'chat', agentId: 'a-2' } },
    agent,
    'Customer contacted agent a-2 by chat',
  ],
  [
    { type: 'CustomerContacted', data: { ...issue, direction: 'inbound', channel: 'self_service' } },
    desk,
    'Customer contacted support by self service',
  ],
  [
    { type: 'NoteAdded', data: { ...issue, text: 'Private note', agentId: 'a-2' } },
    desk,
    'Agent a-2 added a note',
  ],
  [{ type: 'NoteAdded', data: { ...issue, text: 'Private note' } }, agent, 'Agent a-17 added a note'],
  [{ type: 'ChargeLinked', data: { ...issue, chargeId: 'ch3' } }, agent, 'Agent a-17 linked charge ch3'],
  [
    {
      type: 'IssueEscalated',
      data: { ...issue, to: 'payment_provider', reference: 'PSP-123', reason: 'Stuck' },
    },
    agent,
    'Agent a-17 escalated to payment provider (ref PSP-123)',
  ],
  [{ type: 'IssueEscalated', data: { ...issue, to: 'tier2' } }, agent, 'Agent a-17 escalated to tier2'],
  [
    { type: 'IssueResolved', data: { ...issue, resolution: 'charge_corrected', summary: 'Fixed' } },
    agent,
    'Agent a-17 resolved the issue: charge corrected',
  ],
  [
    { type: 'IssueReopened', data: { ...issue, reason: 'Still wrong' } },
    agent,
    'Agent a-17 reopened the issue',
  ],
  [{ type: 'IssueClosed', data: issue }, { kind: 'agent', id: 'key-9' }, 'Agent key-9 closed the issue'],
  [
    { type: 'FeedbackReceived', data: { ...issue, csat: 4, comment: 'Thanks' } },
    desk,
    'Customer gave feedback: CSAT 4/5',
  ],
  [
    { type: 'FollowUpSent', data: { ...issue, channel: 'email' } },
    agent,
    'Agent a-17 sent a follow-up by email',
  ],
  [{ type: 'FollowUpSent', data: issue }, desk, 'Service desk sent a follow-up'],
];

const charge = { chargeId: 'ch1' };
const refund = { ...charge, refundId: 're_1' };
const dispute = { ...charge, disputeId: 'dp_1' };
const chargeDescriptions: [event: ChargeEvent, description: string][] = [
  [
    {
      type: 'ChargeSucceeded',
      data: { ...charge, customerId: 'c1', amount: 2500, currency: 'EUR', method: 'card' },
    },
    'Charge ch1 of 2500 EUR (minor units) succeeded',
  ],
  [
    {
      type: 'ChargeDeclined',
      data: {
        ...charge,
        customerId: 'c1',
        amount: 990,
        currency: 'JPY',
        declineCode: 'do_not_honor',
        failureCategory: 'insufficient_funds',
      },
    },
    'Charge ch1 of 990 JPY (minor units) declined: insufficient funds (code do_not_honor)',
  ],
  [
    { type: 'ChargeFailed', data: { ...charge, customerId: 'c1', amount: 100, currency: 'USD' } },
    'Charge ch1 of 100 USD (minor units) failed',
  ],
  [
    {
      type: 'RefundRequested',
      data: { ...refund, amount: 2500, reason: 'requested_by_customer', dueBy: '2026-03-09T00:00:00.000Z' },
    },
    'Refund re_1 of 2500 (minor units) requested: requested by customer, due by 2026-03-09T00:00:00.000Z',
  ],
  [
    { type: 'RefundRequested', data: { ...refund, amount: 1, reason: 'duplicate' } },
    'Refund re_1 of 1 (minor units) requested: duplicate',
  ],
  [{ type: 'RefundApproved', data: refund }, 'Refund re_1 approved'],
  [{ type: 'RefundRejected', data: { ...refund, reason: 'Outside policy' } }, 'Refund re_1 rejected'],
  [{ type: 'RefundSucceeded', data: refund }, 'Refund re_1 succeeded'],
  [
    { type: 'RefundFailed', data: { ...refund, failureReason: 'lost_or_stolen_card' } },
    'Refund re_1 failed: lost or stolen card',
  ],
  [{ type: 'RefundCanceled', data: { ...refund, reason: 'Customer withdrew' } }, 'Refund re_1 canceled'],
  [
    {
      type: 'DisputeOpened',
      data: {
        ...dispute,
        amount: 2500,
        reason: 'fraudulent',
        kind: 'chargeback',
        networkReasonCode: '10.4',
        evidenceDueBy: '2026-03-20T00:00:00.000Z',
      },
    },
    'Chargeback dp_1 of 2500 (minor units) opened: fraudulent (network code 10.4), evidence due by 2026-03-20T00:00:00.000Z',
  ],
  [
    {
      type: 'DisputeOpened',
      data: { ...dispute, amount: 700, reason: 'product_not_received', kind: 'inquiry' },
    },
    'Inquiry dp_1 of 700 (minor units) opened: product not received',
  ],
  [
    {
      type: 'DisputeEscalatedToChargeback',
      data: { ...dispute, networkReasonCode: '4837', evidenceDueBy: '2026-03-25T00:00:00.000Z' },
    },
    'Dispute dp_1 escalated to a chargeback (network code 4837), evidence due by 2026-03-25T00:00:00.000Z',
  ],
  [{ type: 'DisputeEscalatedToChargeback', data: dispute }, 'Dispute dp_1 escalated to a chargeback'],
  [
    { type: 'DisputeEvidenceSubmitted', data: { ...dispute, summary: 'Delivery proof' } },
    'Evidence submitted for dispute dp_1',
  ],
  [{ type: 'DisputeWon', data: dispute }, 'Dispute dp_1 won'],
  [{ type: 'DisputeLost', data: dispute }, 'Dispute dp_1 lost'],
  [{ type: 'DisputeAccepted', data: dispute }, 'Dispute dp_1 accepted'],
];

const descriptionsOf = (log: LedgerLog) =>
  givenEvents(issueTimelineProjection, log.events).documents[TIMELINE_ENTRIES].map(
    (entry) => entry.description,
  );

describe('issue-timeline projection', () => {
  it('writes one entry per event, keyed by the zero-padded position, with the event as stored', () => {
    const log = new LedgerLog({ firstPosition: 7n, positionStep: 3n });
    log.record<IssueEvent>(
      'issue-i1',
      { type: 'IssueEscalated', data: { ...issue, to: 'payment_provider', reference: 'PSP-123' } },
      { occurredAt: '2026-03-02T08:00:00.000Z', recordedAt: '2026-03-02T09:00:00.000Z', actor: agent },
    );
    log.record<ChargeEvent>(
      'charge-ch1',
      { type: 'RefundRequested', data: { ...refund, amount: 2500, reason: 'requested_by_customer' } },
      { occurredAt: '2026-03-02T10:00:00.000Z', actor: desk },
    );
    const expected: TimelineEntryDocument[] = [
      {
        id: '00000000000000000007',
        stream: 'issue-i1',
        revision: 0,
        position: 7,
        eventId: 'event-7',
        type: 'IssueEscalated',
        occurredAt: '2026-03-02T08:00:00.000Z',
        recordedAt: '2026-03-02T09:00:00.000Z',
        actor: { kind: 'agent', id: 'desk-key', agentId: 'a-17' },
        description: 'Agent a-17 escalated to payment provider (ref PSP-123)',
        data: { issueId: 'i1', to: 'payment_provider', reference: 'PSP-123' },
        lastPosition: 7,
      },
      {
        id: '00000000000000000010',
        stream: 'charge-ch1',
        revision: 0,
        position: 10,
        eventId: 'event-10',
        type: 'RefundRequested',
        occurredAt: '2026-03-02T10:00:00.000Z',
        recordedAt: '2026-03-02T10:00:00.000Z',
        actor: { kind: 'service', id: 'desk', agentId: null },
        description: 'Refund re_1 of 2500 (minor units) requested: requested by customer',
        data: { chargeId: 'ch1', refundId: 're_1', amount: 2500, reason: 'requested_by_customer' },
        lastPosition: 10,
      },
    ];
    givenEvents(issueTimelineProjection, log.events).thenDocuments({ [TIMELINE_ENTRIES]: expected });
  });

  it('orders ids as the ledger does, up to the largest 64-bit position', () => {
    const positions = [0n, 9n, 10n, 99_999n, 2n ** 53n, 2n ** 64n - 1n];
    const ids = positions.map(timelineEntryId);
    expect(ids.every((id) => id.length === 20)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('describes every issue and charge event type', () => {
    const described = new Set([
      ...issueDescriptions.map(([event]) => event.type),
      ...chargeDescriptions.map(([event]) => event.type),
    ]);
    expect([...described].sort()).toEqual([...ISSUE_EVENT_TYPES, ...CHARGE_EVENT_TYPES].sort());
  });

  it.each(issueDescriptions.map(([event, actor, description]) => [description, event, actor] as const))(
    '%s',
    (description, event, actor) => {
      const log = new LedgerLog();
      log.record<IssueEvent>('issue-i1', event, { actor });
      expect(descriptionsOf(log)).toEqual([description]);
    },
  );

  it.each(chargeDescriptions.map(([event, description]) => [description, event] as const))(
    '%s',
    (description, event) => {
      const log = new LedgerLog();
      log.record<ChargeEvent>('charge-ch1', event);
      expect(descriptionsOf(log)).toEqual([description]);
    },
  );

  it('keeps personal data out of descriptions (it stays in data, where erasure can reach it)', () => {
    const secret = 'SECRET-personal-text';
    const log = new LedgerLog();
    const events: IssueEvent[] = [
      {
        type: 'IssueOpened',
        data: {
          ...issue,
          customerId: 'c1',
          category: 'other',
          channel: 'chat',
          priority: 'low',
          chargeIds: [],
          summary: secret,
        },
      },
      {
        type: 'CustomerContacted',
        data: { ...issue, direction: 'inbound', channel: 'chat', summary: secret },
      },
      { type: 'NoteAdded', data: { ...issue, text: secret } },
      { type: 'IssueEscalated', data: { ...issue, to: 'finance', reason: secret } },
      { type: 'IssueResolved', data: { ...issue, resolution: 'other', summary: secret } },
      { type: 'IssueReopened', data: { ...issue, reason: secret } },
      { type: 'FeedbackReceived', data: { ...issue, csat: 1, comment: secret } },
    ];
    for (const event of events) log.record<IssueEvent>('issue-i1', event);
    log.record<ChargeEvent>('charge-ch1', { type: 'RefundRejected', data: { ...refund, reason: secret } });
    log.record<ChargeEvent>('charge-ch1', { type: 'RefundCanceled', data: { ...refund, reason: secret } });
    log.record<ChargeEvent>('charge-ch1', {
      type: 'DisputeEvidenceSubmitted',
      data: { ...dispute, summary: secret },
    });
    const entries = givenEvents(issueTimelineProjection, log.events).documents[TIMELINE_ENTRIES];
    expect(entries).toHaveLength(10);
    expect(entries.filter((entry) => (entry.description as string).includes(secret))).toEqual([]);
    expect(entries.every((entry) => JSON.stringify(entry.data).includes(secret))).toBe(true);
  });

  it('changes nothing for an event delivered twice', () => {
    const log = new LedgerLog();
    const closed = log.record<IssueEvent>('issue-i1', { type: 'IssueClosed', data: issue }, { actor: agent });
    givenEvents(issueTimelineProjection, [closed, closed]).thenDocuments({
      [TIMELINE_ENTRIES]: [
        {
          id: '00000000000000000000',
          stream: 'issue-i1',
          revision: 0,
          position: 0,
          eventId: 'event-0',
          type: 'IssueClosed',
          occurredAt: closed.metadata.occurredAt,
          recordedAt: closed.metadata.recordedAt,
          actor: { kind: 'agent', id: 'desk-key', agentId: 'a-17' },
          description: 'Agent a-17 closed the issue',
          data: { issueId: 'i1' },
          lastPosition: 0,
        },
      ],
    });
  });

  it('leaves out customer streams, unknown types and events outside their stream kind', () => {
    const log = new LedgerLog();
    log.record<CustomerEvent>('customer-c1', {
      type: 'CustomerChurned',
      data: { customerId: 'c1', kind: 'voluntary' },
    });
    log.record('issue-i1', { type: 'IssueTranslated', data: issue });
    log.record<ChargeEvent>('issue-i1', { type: 'RefundApproved', data: refund });
    log.record<IssueEvent>('charge-ch1', { type: 'IssueClosed', data: issue });
    expect(log.events.map((event) => issueTimelineProjection.keysFor(event))).toEqual([[], [], [], []]);
    givenEvents(issueTimelineProjection, log.events).thenDocuments({});
  });
});
