import type { ChargeEvent } from '../../domain/charge/charge.events';
import type { CustomerEvent } from '../../domain/customer/customer.events';
import type { IssueEvent } from '../../domain/issue/issue.events';
import { givenEvents, LedgerLog } from '@app/testing';
import {
  CUSTOMER_SUMMARIES,
  customerSummaryProjection,
  type CustomerSummaryDocument,
} from './customer-summary.projection';

const t = (day: string): string => `2026-03-${day}T09:00:00.000Z`;

const issueOpened = (issueId: string, customerId = 'c1'): IssueEvent => ({
  type: 'IssueOpened',
  data: { issueId, customerId, category: 'declined', channel: 'email', priority: 'normal', chargeIds: [] },
});
const churned = (kind: 'voluntary' | 'involuntary', reason?: string): CustomerEvent => ({
  type: 'CustomerChurned',
  data: reason === undefined ? { customerId: 'c1', kind } : { customerId: 'c1', kind, reason },
});
const reactivated: CustomerEvent = { type: 'CustomerReactivated', data: { customerId: 'c1' } };
const erased: CustomerEvent = { type: 'CustomerDataErased', data: { customerId: 'c1' } };

const knownFromIssues: CustomerSummaryDocument = {
  id: 'c1',
  customerId: 'c1',
  status: 'active',
  churnKind: null,
  churnedAt: null,
  churnCount: 0,
  reactivationCount: 0,
  history: [],
  issueCount: 1,
  firstIssueAt: t('02'),
  dataErased: false,
  dataErasedAt: null,
  revision: -1,
  lastPosition: 0,
};

const customers = (...docs: CustomerSummaryDocument[]) => ({ [CUSTOMER_SUMMARIES]: docs });

describe('customer-summary projection', () => {
  it('knows a customer first seen through an issue as active, with no stream (revision -1)', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', issueOpened('i1'), { occurredAt: t('02') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(customers(knownFromIssues));
  });

  it('counts issues and anchors on the earliest opening, even one entered after the fact', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', issueOpened('i1'), { occurredAt: t('05') });
    log.record<IssueEvent>('issue-i2', issueOpened('i2'), { occurredAt: t('02') });
    log.record<IssueEvent>('issue-i3', issueOpened('i3'), { occurredAt: t('09') });
    log.record<IssueEvent>('issue-i1', { type: 'IssueAssigned', data: { issueId: 'i1', agentId: 'a-1' } });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers({ ...knownFromIssues, issueCount: 3, firstIssueAt: t('02'), lastPosition: 2 }),
    );
  });

  it('churns, reactivates and churns again, keeping the history; issues do not move the revision', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', issueOpened('i1'), { occurredAt: t('02') });
    log.record<CustomerEvent>('customer-c1', churned('voluntary', 'Moved to a competitor'), {
      occurredAt: t('10'),
    });
    log.record<CustomerEvent>('customer-c1', reactivated, { occurredAt: t('20') });
    log.record<IssueEvent>('issue-i2', issueOpened('i2'), { occurredAt: t('21') });
    log.record<CustomerEvent>('customer-c1', churned('involuntary'), { occurredAt: t('25') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers({
        ...knownFromIssues,
        status: 'churned',
        churnKind: 'involuntary',
        churnedAt: t('25'),
        churnCount: 2,
        reactivationCount: 1,
        history: [
          { type: 'churned', kind: 'voluntary', reason: 'Moved to a competitor', at: t('10') },
          { type: 'reactivated', at: t('20') },
          { type: 'churned', kind: 'involuntary', reason: null, at: t('25') },
        ],
        issueCount: 2,
        revision: 2,
        lastPosition: 4,
      }),
    );
  });

  it('reactivation makes the customer active again', () => {
    const log = new LedgerLog();
    log.record<CustomerEvent>('customer-c1', churned('voluntary'), { occurredAt: t('10') });
    log.record<CustomerEvent>('customer-c1', reactivated, { occurredAt: t('20') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers({
        ...knownFromIssues,
        reactivationCount: 1,
        churnCount: 1,
        history: [
          { type: 'churned', kind: 'voluntary', reason: null, at: t('10') },
          { type: 'reactivated', at: t('20') },
        ],
        issueCount: 0,
        firstIssueAt: null,
        revision: 1,
        lastPosition: 1,
      }),
    );
  });

  it('creates the customer from a churn alone, then counts a later issue', () => {
    const log = new LedgerLog();
    log.record<CustomerEvent>('customer-c1', churned('involuntary', 'Card expired'), { occurredAt: t('01') });
    log.record<IssueEvent>('issue-i1', issueOpened('i1'), { occurredAt: t('02') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers({
        ...knownFromIssues,
        status: 'churned',
        churnKind: 'involuntary',
        churnedAt: t('01'),
        churnCount: 1,
        history: [{ type: 'churned', kind: 'involuntary', reason: 'Card expired', at: t('01') }],
        revision: 0,
        lastPosition: 1,
      }),
    );
  });

  it.each([
    ['a customer known from issues', [['issue-i1', issueOpened('i1')]], { revision: 0, lastPosition: 1 }],
    [
      'a customer with no history at all',
      [],
      { issueCount: 0, firstIssueAt: null, revision: 0, lastPosition: 0 },
    ],
  ] as [
    string,
    [string, IssueEvent][],
    Partial<Pick<CustomerSummaryDocument, 'issueCount' | 'firstIssueAt' | 'revision' | 'lastPosition'>>,
  ][])('records the erasure receipt for %s, keeping the status', (_name, before, expected) => {
    const log = new LedgerLog();
    for (const [stream, event] of before) log.record<IssueEvent>(stream, event, { occurredAt: t('02') });
    log.record<CustomerEvent>('customer-c1', erased, { occurredAt: t('28') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers({ ...knownFromIssues, dataErased: true, dataErasedAt: t('28'), ...expected }),
    );
  });

  it('keeps one document per customer', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', issueOpened('i1', 'c1'), { occurredAt: t('02') });
    log.record<IssueEvent>('issue-i2', issueOpened('i2', 'c2'), { occurredAt: t('03') });
    givenEvents(customerSummaryProjection, log.events).thenDocuments(
      customers(knownFromIssues, {
        ...knownFromIssues,
        id: 'c2',
        customerId: 'c2',
        firstIssueAt: t('03'),
        lastPosition: 1,
      }),
    );
  });

  it('changes nothing for events delivered twice', () => {
    const log = new LedgerLog();
    const opened = log.record<IssueEvent>('issue-i1', issueOpened('i1'), { occurredAt: t('02') });
    const churn = log.record<CustomerEvent>('customer-c1', churned('voluntary'), { occurredAt: t('10') });
    givenEvents(customerSummaryProjection, [opened, opened, churn, opened, churn]).thenDocuments(
      customers({
        ...knownFromIssues,
        status: 'churned',
        churnKind: 'voluntary',
        churnedAt: t('10'),
        churnCount: 1,
        history: [{ type: 'churned', kind: 'voluntary', reason: null, at: t('10') }],
        revision: 0,
        lastPosition: 1,
      }),
    );
  });

  it('ignores other issue events, other streams and unknown types', () => {
    const log = new LedgerLog();
    log.record<IssueEvent>('issue-i1', { type: 'IssueClosed', data: { issueId: 'i1' } });
    log.record<ChargeEvent>('charge-ch1', {
      type: 'ChargeSucceeded',
      data: { chargeId: 'ch1', customerId: 'c1', amount: 100, currency: 'EUR' },
    });
    log.record('customer-c1', { type: 'CustomerRenamed', data: { customerId: 'c1' } });
    log.record('charge-ch1', issueOpened('i9'));
    expect(log.events.map((event) => customerSummaryProjection.keysFor(event))).toEqual([[], [], [], []]);
    givenEvents(customerSummaryProjection, log.events).thenDocuments({});
  });
});
