import type { Actor } from '../../application/ports/event-store.port';
import type { ChargeEvent } from '../../domain/charge/charge.events';
import type { IssueEvent } from '../../domain/issue/issue.events';
import { agentActor, givenEvents, LedgerLog, serviceActor } from '@app/testing';
import {
  ISSUE_SUMMARIES,
  issueSummaryProjection,
  type IssueSummaryDocument,
} from './issue-summary.projection';

const t = (hhmm: string): string => `2026-03-02T${hhmm}:00.000Z`;

const opened: IssueEvent = {
  type: 'IssueOpened',
  data: {
    issueId: 'i1',
    customerId: 'c1',
    category: 'duplicate_charge',
    channel: 'chat',
    priority: 'high',
    chargeIds: ['ch1'],
    summary: 'Charged twice for one order',
  },
};

const openedDoc: IssueSummaryDocument = {
  id: 'i1',
  issueId: 'i1',
  status: 'open',
  resolution: null,
  closedAt: null,
  customerId: 'c1',
  category: 'duplicate_charge',
  channel: 'chat',
  priority: 'high',
  summary: 'Charged twice for one order',
  assigneeId: null,
  chargeIds: ['ch1'],
  openedAt: t('09:00'),
  firstResponseAt: null,
  firstResolvedAt: null,
  resolvedAt: null,
  agentAtFirstResolution: null,
  resolutionCount: 0,
  reopenCount: 0,
  escalations: [],
  contactCount: 0,
  agentContactCount: 0,
  noteCount: 0,
  followUpCount: 0,
  csat: null,
  feedbackComment: null,
  feedbackAt: null,
  lastActivityAt: t('09:00'),
  revision: 0,
  lastPosition: 0,
};

type Step = [event: IssueEvent, at: string, actor?: Actor];

/** The events of issue i1, in order. */
function issueHistory(...steps: Step[]) {
  const log = new LedgerLog();
  for (const [event, at, actor] of steps)
    log.record<IssueEvent>('issue-i1', event, { occurredAt: at, actor });
  return log.events;
}

const summaries = (...docs: IssueSummaryDocument[]) => ({ [ISSUE_SUMMARIES]: docs });

describe('issue-summary projection', () => {
  it('opens an issue with its facts, nothing else yet', () => {
    givenEvents(issueSummaryProjection, issueHistory([opened, t('09:00')])).thenDocuments(
      summaries(openedDoc),
    );
  });

  it('records an absent summary as null', () => {
    const { summary: _summary, ...withoutSummary } = opened.data as Extract<
      IssueEvent,
      { type: 'IssueOpened' }
    >['data'];
    givenEvents(
      issueSummaryProjection,
      issueHistory([{ type: 'IssueOpened', data: withoutSummary }, t('09:00')]),
    ).thenDocuments(summaries({ ...openedDoc, summary: null }));
  });

  const agent = agentActor('a-17');
  const cases: [name: string, event: IssueEvent, actor: Actor, change: Partial<IssueSummaryDocument>][] = [
    [
      'IssueAssigned',
      { type: 'IssueAssigned', data: { issueId: 'i1', agentId: 'a-17' } },
      agent,
      { assigneeId: 'a-17' },
    ],
    [
      'CustomerContacted outbound by an agent: the first response',
      {
        type: 'CustomerContacted',
        data: { issueId: 'i1', direction: 'outbound', channel: 'email', agentId: 'a-17' },
      },
      agent,
      { contactCount: 1, agentContactCount: 1, firstResponseAt: t('09:10') },
    ],
    [
      'CustomerContacted inbound, answered by an agent: not a response',
      {
        type: 'CustomerContacted',
        data: { issueId: 'i1', direction: 'inbound', channel: 'phone', agentId: 'a-17' },
      },
      agent,
      { contactCount: 1 },
    ],
    [
      'CustomerContacted outbound without an agent (automated): not a response',
      { type: 'CustomerContacted', data: { issueId: 'i1', direction: 'outbound', channel: 'email' } },
      serviceActor('mailer'),
      { contactCount: 1 },
    ],
    [
      'NoteAdded',
      { type: 'NoteAdded', data: { issueId: 'i1', text: 'Asked PSP', agentId: 'a-17' } },
      agent,
      { noteCount: 1 },
    ],
    [
      'ChargeLinked, a new charge',
      { type: 'ChargeLinked', data: { issueId: 'i1', chargeId: 'ch2' } },
      agent,
      { chargeIds: ['ch1', 'ch2'] },
    ],
    [
      'ChargeLinked, a charge already listed',
      { type: 'ChargeLinked', data: { issueId: 'i1', chargeId: 'ch1' } },
      agent,
      {},
    ],
    [
      'IssueEscalated with a reference',
      { type: 'IssueEscalated', data: { issueId: 'i1', to: 'payment_provider', reference: 'PSP-123' } },
      agent,
      { escalations: [{ to: 'payment_provider', reference: 'PSP-123', reason: null, at: t('09:10') }] },
    ],
    [
      'IssueEscalated with a reason',
      { type: 'IssueEscalated', data: { issueId: 'i1', to: 'fraud', reason: 'Card testing pattern' } },
      agent,
      { escalations: [{ to: 'fraud', reference: null, reason: 'Card testing pattern', at: t('09:10') }] },
    ],
    [
      'IssueResolved',
      {
        type: 'IssueResolved',
        data: { issueId: 'i1', resolution: 'refunded', summary: 'Refunded the duplicate' },
      },
      agent,
      {
        status: 'resolved',
        resolution: 'refunded',
        resolvedAt: t('09:10'),
        firstResolvedAt: t('09:10'),
        resolutionCount: 1,
      },
    ],
    [
      'IssueClosed while open (withdrawn)',
      { type: 'IssueClosed', data: { issueId: 'i1' } },
      serviceActor('desk'),
      { status: 'closed', resolution: null, closedAt: t('09:10') },
    ],
    [
      'FollowUpSent',
      { type: 'FollowUpSent', data: { issueId: 'i1', channel: 'email' } },
      agent,
      { followUpCount: 1 },
    ],
  ];

  it.each(cases)('%s', (_name, event, actor, change) => {
    givenEvents(
      issueSummaryProjection,
      issueHistory([opened, t('09:00')], [event, t('09:10'), actor]),
    ).thenDocuments(
      summaries({
        ...openedDoc,
        ...change,
        lastActivityAt: t('09:10'),
        revision: 1,
        lastPosition: 1,
      } as IssueSummaryDocument),
    );
  });

  it('follows a reopened issue through a second resolution, closing and late feedback', () => {
    const ref = { issueId: 'i1' };
    const history = issueHistory(
      [opened, t('09:00')],
      [{ type: 'IssueAssigned', data: { ...ref, agentId: 'a-1' } }, t('09:01')],
      [{ type: 'CustomerContacted', data: { ...ref, direction: 'inbound', channel: 'chat' } }, t('09:02')],
      [
        {
          type: 'CustomerContacted',
          data: { ...ref, direction: 'outbound', channel: 'chat', agentId: 'a-1' },
        },
        t('09:30'),
        agentActor('a-1'),
      ],
      [{ type: 'IssueResolved', data: { ...ref, resolution: 'explained' } }, t('10:00'), agentActor('a-1')],
      [{ type: 'FeedbackReceived', data: { ...ref, csat: 2 } }, t('10:05')],
      [{ type: 'IssueReopened', data: { ...ref, reason: 'Still charged twice' } }, t('11:00')],
      [{ type: 'IssueAssigned', data: { ...ref, agentId: 'a-2' } }, t('11:01')],
      [
        {
          type: 'CustomerContacted',
          data: { ...ref, direction: 'outbound', channel: 'phone', agentId: 'a-2' },
        },
        t('11:30'),
        agentActor('a-2'),
      ],
      [{ type: 'IssueResolved', data: { ...ref, resolution: 'refunded' } }, t('12:00'), agentActor('a-2')],
      [{ type: 'IssueClosed', data: ref }, t('13:00')],
      [{ type: 'FeedbackReceived', data: { ...ref, csat: 5, comment: 'Sorted in the end' } }, t('14:00')],
      [{ type: 'FollowUpSent', data: ref }, t('15:00')],
    );
    givenEvents(issueSummaryProjection, history).thenDocuments(
      summaries({
        ...openedDoc,
        status: 'closed',
        resolution: 'refunded',
        closedAt: t('13:00'),
        assigneeId: 'a-2',
        firstResponseAt: t('09:30'),
        firstResolvedAt: t('10:00'),
        resolvedAt: t('12:00'),
        agentAtFirstResolution: 'a-1',
        resolutionCount: 2,
        reopenCount: 1,
        contactCount: 3,
        agentContactCount: 2,
        followUpCount: 1,
        csat: 5,
        feedbackComment: 'Sorted in the end',
        feedbackAt: t('14:00'),
        lastActivityAt: t('15:00'),
        revision: 12,
        lastPosition: 12,
      }),
    );
  });

  it('clears the resolution on reopen and keeps the latest resolution time as history', () => {
    const ref = { issueId: 'i1' };
    givenEvents(
      issueSummaryProjection,
      issueHistory(
        [opened, t('09:00')],
        [{ type: 'IssueResolved', data: { ...ref, resolution: 'explained' } }, t('10:00')],
        [{ type: 'IssueReopened', data: { ...ref, reason: 'Not explained' } }, t('11:00')],
      ),
    ).thenDocuments(
      summaries({
        ...openedDoc,
        firstResolvedAt: t('10:00'),
        resolvedAt: t('10:00'),
        resolutionCount: 1,
        reopenCount: 1,
        lastActivityAt: t('11:00'),
        revision: 2,
        lastPosition: 2,
      }),
    );
  });

  it('keeps the resolution when a resolved issue closes; no agent at first resolution if unassigned', () => {
    const ref = { issueId: 'i1' };
    givenEvents(
      issueSummaryProjection,
      issueHistory(
        [opened, t('09:00')],
        [{ type: 'IssueResolved', data: { ...ref, resolution: 'no_action' } }, t('10:00')],
        [{ type: 'IssueClosed', data: ref }, t('11:00')],
      ),
    ).thenDocuments(
      summaries({
        ...openedDoc,
        status: 'closed',
        resolution: 'no_action',
        closedAt: t('11:00'),
        firstResolvedAt: t('10:00'),
        resolvedAt: t('10:00'),
        resolutionCount: 1,
        lastActivityAt: t('11:00'),
        revision: 2,
        lastPosition: 2,
      }),
    );
  });

  it('takes the earliest agent contact as first response and the latest time as last activity', () => {
    const ref = { issueId: 'i1' };
    const outbound = (agentId: string): IssueEvent => ({
      type: 'CustomerContacted',
      data: { ...ref, direction: 'outbound', channel: 'email', agentId },
    });
    // The second contact is recorded later but happened earlier (entered after the fact).
    givenEvents(
      issueSummaryProjection,
      issueHistory([opened, t('09:00')], [outbound('a-1'), t('10:00')], [outbound('a-2'), t('09:20')]),
    ).thenDocuments(
      summaries({
        ...openedDoc,
        contactCount: 2,
        agentContactCount: 2,
        firstResponseAt: t('09:20'),
        lastActivityAt: t('10:00'),
        revision: 2,
        lastPosition: 2,
      }),
    );
  });

  it('orders times by their instants, also when one is written with an offset', () => {
    const ref = { issueId: 'i1' };
    const outbound: IssueEvent = {
      type: 'CustomerContacted',
      data: { ...ref, direction: 'outbound', channel: 'email', agentId: 'a-1' },
    };
    // 11:30+02:00 is 09:30Z: after 09:00Z, before 10:00Z, although it sorts after both as a string.
    const offset = '2026-03-02T11:30:00+02:00';
    givenEvents(
      issueSummaryProjection,
      issueHistory([opened, t('09:00')], [outbound, t('10:00')], [outbound, offset]),
    ).thenDocuments(
      summaries({
        ...openedDoc,
        contactCount: 2,
        agentContactCount: 2,
        firstResponseAt: offset,
        lastActivityAt: t('10:00'),
        revision: 2,
        lastPosition: 2,
      }),
    );
  });

  it('keeps the first opening if another IssueOpened ever appears', () => {
    givenEvents(
      issueSummaryProjection,
      issueHistory(
        [opened, t('09:00')],
        [{ ...opened, data: { ...opened.data, priority: 'low' } }, t('09:10')],
      ),
    ).thenDocuments(summaries({ ...openedDoc, lastActivityAt: t('09:10'), revision: 1, lastPosition: 1 }));
  });

  it('changes nothing for an event delivered twice', () => {
    const [first, assigned] = issueHistory(
      [opened, t('09:00')],
      [{ type: 'IssueAssigned', data: { issueId: 'i1', agentId: 'a-17' } }, t('09:10')],
    );
    givenEvents(issueSummaryProjection, [first, assigned, first, assigned]).thenDocuments(
      summaries({
        ...openedDoc,
        assigneeId: 'a-17',
        lastActivityAt: t('09:10'),
        revision: 1,
        lastPosition: 1,
      }),
    );
  });

  it('keeps one document per issue, keyed by the stream', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', opened, { occurredAt: t('09:00') });
    log.record<IssueEvent>(
      'issue-i2',
      { ...opened, data: { ...opened.data, issueId: 'i2', customerId: 'c2', chargeIds: [] } },
      { occurredAt: t('09:05') },
    );
    log.record<IssueEvent>(
      'issue-i1',
      { type: 'IssueAssigned', data: { issueId: 'i1', agentId: 'a-1' } },
      {
        occurredAt: t('09:10'),
      },
    );
    givenEvents(issueSummaryProjection, log.events).thenDocuments(
      summaries(
        { ...openedDoc, assigneeId: 'a-1', lastActivityAt: t('09:10'), revision: 1, lastPosition: 2 },
        {
          ...openedDoc,
          id: 'i2',
          issueId: 'i2',
          customerId: 'c2',
          chargeIds: [],
          openedAt: t('09:05'),
          lastActivityAt: t('09:05'),
          lastPosition: 1,
        },
      ),
    );
  });

  it('ignores other streams, unknown event types and events before the opening', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', { type: 'IssueAssigned', data: { issueId: 'i1', agentId: 'a-1' } });
    log.record<ChargeEvent>('charge-ch1', {
      type: 'RefundApproved',
      data: { chargeId: 'ch1', refundId: 'r1' },
    });
    log.record('issue-i1', { type: 'IssueTranslated', data: { issueId: 'i1' } });
    log.record('customer-c1', { type: 'CustomerChurned', data: { customerId: 'c1', kind: 'voluntary' } });
    expect(log.events.slice(1).map((event) => issueSummaryProjection.keysFor(event))).toEqual([[], [], []]);
    givenEvents(issueSummaryProjection, log.events).thenDocuments({});
  });
});
