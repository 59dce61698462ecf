import type { ChargeEvent } from '../../domain/charge/charge.events';
import type { CustomerEvent } from '../../domain/customer/customer.events';
import type { IssueEvent } from '../../domain/issue/issue.events';
import { agentActor, givenEvents, LedgerLog } from '@app/testing';
import { DEFAULT_SLA_TARGETS, issueSla } from '../sla/sla';
import { computeMetric, type MetricName, type MetricParams } from './metric-computations';
import { groupItems, monthOfDay, resolutionBucket } from './metric-groups';
import { MetricsSnapshot } from './metrics-snapshot';
import { metricsProjection } from './metrics.projection';

const t = (day: number, hhmm = '09:00') => `2026-03-${String(day).padStart(2, '0')}T${hhmm}:00.000Z`;
const ms = (iso: string) => Date.parse(iso);
const HOUR = 3600;

/** Events -> the projection's documents -> a snapshot, as the API process holds it. */
function snapshotOf(log: LedgerLog): MetricsSnapshot {
  const snapshot = new MetricsSnapshot();
  for (const [collection, docs] of Object.entries(givenEvents(metricsProjection, log.events).documents)) {
    for (const doc of docs) snapshot.ingest(collection, doc);
  }
  return snapshot;
}

class Ledger {
  readonly log = new LedgerLog();
  issue(
    id: string,
    at: string,
    fields: Partial<Record<'category' | 'channel' | 'priority' | 'customerId', string>> = {},
    chargeIds: string[] = [],
  ) {
    return this.on(id, 'IssueOpened', at, {
      customerId: fields.customerId ?? `cu-${id}`,
      category: fields.category ?? 'declined',
      channel: fields.channel ?? 'email',
      priority: fields.priority ?? 'normal',
      chargeIds,
    });
  }
  on(id: string, type: IssueEvent['type'], at: string, data: Record<string, unknown> = {}) {
    this.log.record<IssueEvent>(`issue-${id}`, { type, data: { issueId: id, ...data } } as IssueEvent, {
      occurredAt: at,
      actor: agentActor('ann'),
    });
    return this;
  }
  contact(id: string, at: string, agentId = 'ann') {
    return this.on(id, 'CustomerContacted', at, { direction: 'outbound', channel: 'email', agentId });
  }
  charge(chargeId: string, type: ChargeEvent['type'], at: string, data: Record<string, unknown> = {}) {
    this.log.record<ChargeEvent>(`charge-${chargeId}`, { type, data: { chargeId, ...data } } as ChargeEvent, {
      occurredAt: at,
    });
    return this;
  }
  customer(customerId: string, type: CustomerEvent['type'], at: string, data: Record<string, unknown> = {}) {
    this.log.record<CustomerEvent>(
      `customer-${customerId}`,
      { type, data: { customerId, ...data } } as CustomerEvent,
      {
        occurredAt: at,
      },
    );
    return this;
  }
}

function answer(ledger: Ledger, metric: MetricName, params: Partial<MetricParams> = {}) {
  return computeMetric(
    metric,
    snapshotOf(ledger.log),
    { asOf: ms(t(31)), groupBy: [], window: 30, ...params },
    DEFAULT_SLA_TARGETS,
  );
}
const only = (ledger: Ledger, metric: MetricName, params: Partial<MetricParams> = {}) => {
  const { groups } = answer(ledger, metric, params);
  expect(groups).toHaveLength(1);
  return groups[0];
};

describe('metric computations on crafted facts', () => {
  it('resolution time: two resolved in 1 h and 3 h, one censored at asOf', () => {
    const ledger = new Ledger()
      .issue('a', t(2))
      .on('a', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .issue('b', t(2))
      .on('b', 'IssueResolved', t(2, '12:00'), { resolution: 'explained' })
      .issue('c', t(2));
    const group = only(ledger, 'resolution-time', { asOf: ms(t(3)) });
    expect(group).toMatchObject({ issues: 3, resolved: 2, open: 1 });
    // S = 2/3 after 1 h, 1/3 after 3 h: the median is 3 h; p90 never reached.
    expect(group.km).toMatchObject({ median: { value: 3 * HOUR }, p90: { value: null } });
    expect(group.resolvedOnly).toEqual({ count: 2, mean: 2 * HOUR, median: 2 * HOUR, p90: 3 * HOUR });
  });

  it('resolution time: a resolution after asOf has not happened yet, an issue opened after it is left out', () => {
    const ledger = new Ledger()
      .issue('a', t(2))
      .on('a', 'IssueResolved', t(4), { resolution: 'explained' })
      .issue('late', t(5));
    const group = only(ledger, 'resolution-time', { asOf: ms(t(3)) });
    expect(group).toMatchObject({ issues: 1, resolved: 0, open: 1 });
    expect((group.km as { curve: unknown[] }).curve).toEqual([
      { t: 0, survival: 1, atRisk: 1, events: 0, censored: 0 },
      { t: 86_400, survival: 1, atRisk: 1, events: 0, censored: 1 },
    ]);
  });

  it('first response: a response after the resolution does not count, the clock stopped at the resolution', () => {
    const ledger = new Ledger()
      .issue('a', t(2))
      .on('a', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .contact('a', t(2, '11:00'))
      .issue('b', t(2))
      .on('b', 'CustomerContacted', t(2, '09:30'), { direction: 'outbound', channel: 'email' })
      .contact('b', t(2, '09:45'));
    const group = only(ledger, 'first-response');
    expect(group).toMatchObject({ issues: 2, responded: 1, censored: 1 });
    // b: the contact without an agent is no response; the one at 09:45 is.
    expect(group.respondedOnly).toMatchObject({ count: 1, mean: 45 * 60 });
    expect((group.km as { curve: unknown[] }).curve).toEqual([
      { t: 0, survival: 1, atRisk: 2, events: 0, censored: 0 },
      { t: 45 * 60, survival: 0.5, atRisk: 2, events: 1, censored: 0 },
      { t: HOUR, survival: 0.5, atRisk: 1, events: 0, censored: 1 },
    ]);
  });

  it('SLA: the first-response clock ends where first response censors; withdrawn clocks are stopped', () => {
    // urgent: 30 min to respond, 8 h to resolve.
    const urgent = { priority: 'urgent' };
    const ledger = new Ledger()
      // a: resolved at 09:20 without a response, contacted afterwards: stopped, not met.
      .issue('a', t(2), urgent)
      .on('a', 'IssueResolved', t(2, '09:20'), { resolution: 'explained' })
      .contact('a', t(2, '09:25'))
      // b: withdrawn at 09:10 after a response: first response met, resolution stopped.
      .issue('b', t(2), urgent)
      .contact('b', t(2, '09:05'))
      .on('b', 'IssueClosed', t(2, '09:10'))
      // c: withdrawn at 10:00, past the response target, before any response: first response breached.
      .issue('c', t(2), urgent)
      .on('c', 'IssueClosed', t(2, '10:00'))
      // d: contacted in the very call that resolved it (same instant): a response.
      .issue('d', t(2), urgent)
      .contact('d', t(2, '09:15'))
      .on('d', 'IssueResolved', t(2, '09:15'), { resolution: 'explained' });
    const asOf = ms(t(3));
    const sla = only(ledger, 'sla', { asOf });
    expect(sla.firstResponse).toEqual({
      met: 2,
      breached: 1,
      atRisk: 0,
      onTrack: 0,
      stopped: 1,
      metRate: 2 / 3,
    });
    expect(sla.resolution).toEqual({ met: 2, breached: 0, atRisk: 0, onTrack: 0, stopped: 2, metRate: 1 });
    const response = only(ledger, 'first-response', { asOf });
    // Responded: b and d; censored where the clock stopped: a at 20 min, c at 1 h.
    expect(response).toMatchObject({ responded: 2, censored: 2 });
    expect((response.km as { curve: unknown[] }).curve).toEqual([
      { t: 0, survival: 1, atRisk: 4, events: 0, censored: 0 },
      { t: 5 * 60, survival: 0.75, atRisk: 4, events: 1, censored: 0 },
      { t: 15 * 60, survival: 0.5, atRisk: 3, events: 1, censored: 0 },
      { t: 20 * 60, survival: 0.5, atRisk: 2, events: 0, censored: 1 },
      { t: HOUR, survival: 0.5, atRisk: 1, events: 0, censored: 1 },
    ]);
    // Each issue's clocks are what GET /issues/:id shows (issueSla over the summary's fields).
    const settled: Record<string, string> = {
      a: t(2, '09:20'),
      b: t(2, '09:10'),
      c: t(2, '10:00'),
      d: t(2, '09:15'),
    };
    const responded: Record<string, string | null> = {
      a: t(2, '09:25'),
      b: t(2, '09:05'),
      c: null,
      d: t(2, '09:15'),
    };
    const resolved: Record<string, string | null> = { a: t(2, '09:20'), b: null, c: null, d: t(2, '09:15') };
    const states = Object.keys(settled).map((id) =>
      issueSla(
        {
          priority: 'urgent',
          openedAt: t(2),
          firstResponseAt: responded[id],
          firstResolvedAt: resolved[id],
          settledAt: settled[id],
        },
        new Date(asOf),
      ),
    );
    expect(states.map((s) => s.firstResponse.state)).toEqual(['stopped', 'met', 'breached', 'met']);
    expect(states.map((s) => s.resolution.state)).toEqual(['met', 'stopped', 'stopped', 'met']);
  });

  it('reopens, escalations by destination and first-contact / one-touch resolution', () => {
    const ledger = new Ledger()
      .issue('a', t(2))
      .contact('a', t(2, '09:10'))
      .on('a', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .issue('b', t(2))
      .contact('b', t(2, '09:10'))
      .on('b', 'IssueEscalated', t(2, '09:20'), { to: 'fraud' })
      .on('b', 'IssueEscalated', t(2, '09:30'), { to: 'tier2' })
      .on('b', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .on('b', 'IssueReopened', t(3), { reason: 'again' })
      .issue('c', t(2))
      .contact('c', t(2, '09:10'))
      .contact('c', t(2, '09:20'))
      .on('c', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .issue('d', t(2));
    expect(only(ledger, 'reopens')).toMatchObject({ issues: 4, resolved: 3, reopened: 1, reopenRate: 1 / 3 });
    // Before the reopen, b still counts as first-contact resolved.
    expect(only(ledger, 'reopens', { asOf: ms(t(2, '23:00')) })).toMatchObject({ reopened: 0 });
    expect(only(ledger, 'escalations')).toMatchObject({
      escalated: 1,
      escalationRate: 0.25,
      byDestination: {
        fraud: { issues: 1, rate: 0.25 },
        tier2: { issues: 1, rate: 0.25 },
        finance: { issues: 0 },
      },
    });
    expect(only(ledger, 'first-contact-resolution')).toMatchObject({
      resolved: 3,
      firstContactResolved: 1,
      oneTouch: 2,
      oneTouchRate: 2 / 3,
    });
    expect(only(ledger, 'first-contact-resolution', { asOf: ms(t(2, '23:00')) })).toMatchObject({
      firstContactResolved: 2,
      oneTouch: 2,
    });
  });

  it('CSAT: the latest score given by asOf', () => {
    const ledger = new Ledger()
      .issue('a', t(2))
      .on('a', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .on('a', 'FeedbackReceived', t(3), { csat: 1 })
      .issue('b', t(2))
      .on('b', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' })
      .on('b', 'FeedbackReceived', t(10), { csat: 5 });
    expect(only(ledger, 'csat')).toMatchObject({
      responses: 2,
      average: 3,
      satisfied: 1,
      satisfiedShare: 0.5,
    });
    expect(only(ledger, 'csat', { asOf: ms(t(4)) })).toMatchObject({
      responses: 1,
      average: 1,
      satisfiedShare: 0,
    });
  });

  it('backlog: open at asOf by age; a closed issue (withdrawn) is not open', () => {
    const ledger = new Ledger()
      .issue('a', t(1))
      .issue('b', t(20))
      .issue('c', t(30, '12:00'))
      .issue('w', t(2))
      .on('w', 'IssueClosed', t(3));
    expect(only(ledger, 'backlog')).toMatchObject({
      issues: 4,
      open: 3,
      // a: exactly 30 days old.
      byAge: { under_1d: 1, '1d_to_3d': 0, '3d_to_7d': 0, '7d_to_30d': 1, over_30d: 1 },
    });
  });

  it('refunds and disputes count for the earliest-opened issue linking their charge', () => {
    const ledger = new Ledger()
      .charge('ch', 'ChargeSucceeded', t(1), { customerId: 'cu', amount: 100, currency: 'EUR' })
      .issue('late', t(5), { category: 'other' })
      .on('late', 'ChargeLinked', t(5), { chargeId: 'ch' })
      .issue('early', t(3), { category: 'billing_error' }, ['ch'])
      .charge('ch', 'RefundRequested', t(6), { refundId: 'r', amount: 10, reason: 'duplicate', dueBy: t(8) })
      .charge('ch', 'RefundSucceeded', t(9), { refundId: 'r' })
      .charge('ch', 'DisputeOpened', t(10), {
        disputeId: 'd',
        amount: 10,
        reason: 'general',
        kind: 'inquiry',
        evidenceDueBy: t(12),
      });
    const refunds = answer(ledger, 'refunds', { groupBy: ['category'] });
    expect(refunds.groups).toEqual([
      expect.objectContaining({
        key: { category: 'billing_error' },
        requested: 1,
        succeeded: 1,
        dueBreached: 1,
        dueMet: 0,
      }),
    ]);
    // Before it succeeded, the refund was pending and already past due.
    expect(only(ledger, 'refunds', { asOf: ms(t(8, '12:00')) })).toMatchObject({
      pending: 1,
      dueBreached: 1,
    });
    expect(only(ledger, 'refunds', { asOf: ms(t(7)) })).toMatchObject({ pending: 1, dueBreached: 0 });
    expect(only(ledger, 'disputes', { asOf: ms(t(13)) })).toMatchObject({
      disputes: 1,
      open: 1,
      winRate: null,
      noEvidenceByDueDate: 1,
    });
    expect(answer(ledger, 'disputes', { category: 'other' }).groups[0]).toMatchObject({ disputes: 0 });
  });

  it('churn: within the window after the first issue in the period; before it does not count', () => {
    const ledger = new Ledger()
      .issue('a1', t(2), { customerId: 'x' })
      .issue('a2', t(10), { customerId: 'x' })
      .customer('x', 'CustomerChurned', t(20), { kind: 'voluntary' })
      .issue('b', t(5), { customerId: 'y' })
      .customer('y', 'CustomerChurned', t(4), { kind: 'involuntary' });
    // x anchored at a1 (2nd): churned on the 20th, within 30 days but not within 7.
    expect(only(ledger, 'churn', { window: 30, asOf: ms('2026-04-30T00:00:00.000Z') })).toMatchObject({
      customers: 2,
      eligible: 2,
      churned: 1,
      voluntary: 1,
    });
    expect(only(ledger, 'churn', { window: 7, asOf: ms('2026-04-30T00:00:00.000Z') })).toMatchObject({
      churned: 0,
    });
    // From the 9th on, x's anchor is a2 (10th): the churn on the 20th is within 7 days of it.
    expect(
      only(ledger, 'churn', { window: 14, from: ms(t(9)), asOf: ms('2026-04-30T00:00:00.000Z') }),
    ).toMatchObject({
      customers: 1,
      churned: 1,
    });
  });

  it('groups by week (Monday) and month, and buckets resolution times', () => {
    const ledger = new Ledger()
      .issue('a', '2026-03-01T23:00:00.000Z')
      .issue('b', t(2))
      .issue('c', '2026-04-05T10:00:00.000Z');
    const groups = answer(ledger, 'reopens', {
      groupBy: ['week', 'month'],
      asOf: ms('2026-05-01T00:00:00.000Z'),
    }).groups;
    expect(groups.map((g) => [g.key, g.issues])).toEqual([
      [{ week: '2026-02-23', month: '2026-03' }, 1],
      [{ week: '2026-03-02', month: '2026-03' }, 1],
      [{ week: '2026-03-30', month: '2026-04' }, 1],
    ]);
    const hour = 3_600_000;
    expect([0, 1, 25, 72, 24 * 7, 24 * 8].map((h) => resolutionBucket(0, h * hour, Infinity))).toEqual([
      0, 1, 2, 3, 4, 4,
    ]);
    expect(resolutionBucket(0, 5, 4)).toBe(5);
    const snapshot = snapshotOf(ledger.log);
    expect(
      groupItems(
        new Int32Array(0),
        ['category'],
        { issueRows: null, time: new Float64Array(0) },
        { snapshot, asOf: 0, targets: DEFAULT_SLA_TARGETS },
        'spec',
      ),
    ).toEqual([]);
    // Month arithmetic without a Date, across leap days and years.
    for (const iso of ['1970-01-01', '2024-02-29', '2024-03-01', '2025-12-31', '2026-01-01', '2100-03-01']) {
      const date = new Date(`${iso}T12:00:00.000Z`);
      expect(monthOfDay(Math.floor(date.getTime() / 86_400_000))).toBe(
        date.getUTCFullYear() * 12 + date.getUTCMonth(),
      );
    }
  });

  it('computes every metric over 200,000 open issues (nothing spreads a population into a call)', () => {
    const snapshot = new MetricsSnapshot();
    for (let k = 0; k < 200_000; k++) {
      snapshot.ingest('metric_issues', {
        id: `i${k}`,
        customerId: `c${k % 50_000}`,
        category: 'other',
        channel: 'chat',
        priority: 'low',
        openedAt: new Date(ms(t(1)) + k * 1000).toISOString(),
        assignments: [],
        firstAgentContactAt: null,
        secondAgentContactAt: null,
        firstResolvedAt: null,
        firstReopenedAt: null,
        transitions: [],
        escalatedAt: {},
        feedback: [],
        charges: [],
        lastPosition: k,
      });
    }
    const params = { asOf: ms('2026-06-01T00:00:00.000Z'), groupBy: [], window: 30 };
    for (const metric of ['backlog', 'churn', 'overview', 'resolution-time'] as const) {
      expect(() => computeMetric(metric, snapshot, params, DEFAULT_SLA_TARGETS)).not.toThrow();
    }
    expect(computeMetric('backlog', snapshot, params, DEFAULT_SLA_TARGETS).groups[0]).toMatchObject({
      open: 200_000,
      byAge: { over_30d: 200_000 },
    });
  }, 60_000);

  it('reads version 1 documents (latest values only) until the rebuild to version 2 is promoted', () => {
    const snapshot = new MetricsSnapshot();
    snapshot.ingest('metric_issues', {
      id: 'old',
      customerId: 'c1',
      category: 'declined',
      channel: 'email',
      priority: 'normal',
      openedAt: t(2),
      assigneeId: 'bob',
      agentAtFirstResolution: 'ann',
      firstAgentContactAt: t(2, '09:30'),
      secondAgentContactAt: null,
      firstResolvedAt: t(2, '10:00'),
      firstReopenedAt: null,
      transitions: [{ to: 'resolved', at: t(2, '10:00') }],
      escalatedAt: {},
      csat: 4,
      feedbackAt: t(3),
      chargeIds: ['ch1'],
      lastPosition: 7,
    });
    snapshot.ingest('metric_charges', {
      id: 'ch1',
      refunds: [],
      disputes: [
        {
          disputeId: 'd1',
          openedAt: t(4),
          evidenceDueBy: t(5),
          evidenceSubmittedAt: [t(6)],
          outcome: null,
          closedAt: null,
        },
      ],
      lastPosition: 8,
    });
    const asOf = ms(t(10));
    const params = { asOf, groupBy: ['agent' as const], window: 30 };
    expect(computeMetric('csat', snapshot, params, DEFAULT_SLA_TARGETS).groups).toMatchObject([
      { key: { agent: 'ann' }, responses: 1, average: 4 },
    ]);
    expect(
      computeMetric('disputes', snapshot, { ...params, groupBy: ['category'] }, DEFAULT_SLA_TARGETS).groups,
    ).toMatchObject([
      { key: { category: 'declined' }, disputes: 1, evidenceAfterDueDate: 1, noEvidenceByDueDate: 1 },
    ]);
  });

  it('a newer document of the same issue updates its row instead of adding one', () => {
    const ledger = new Ledger().issue('a', t(2));
    const snapshot = snapshotOf(ledger.log);
    ledger.on('a', 'IssueResolved', t(2, '10:00'), { resolution: 'explained' });
    for (const doc of givenEvents(metricsProjection, ledger.log.events).documents.metric_issues) {
      snapshot.ingest('metric_issues', doc);
    }
    expect(snapshot.issues.size).toBe(1);
    expect(snapshot.positions.metric_issues).toBe(1);
    const params = { asOf: ms(t(3)), groupBy: [], window: 30 };
    expect(computeMetric('reopens', snapshot, params, DEFAULT_SLA_TARGETS).groups[0]).toMatchObject({
      issues: 1,
      resolved: 1,
    });
  });
});
