import { METRIC_NAMES, type Role } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, post } from '../support/http';

const PROBLEM = /application\/problem\+json/;
const AS_OF = '2026-03-31T00:00:00.000Z';
const at = (day: string, hhmm: string) => `2026-03-${day}T${hhmm}:00.000Z`;
const HOUR = 3600;
const DAY = 86_400;

/**
 * Five issues, four customers, three charges, hand-computed figures (seconds) at AS_OF:
 *   A payment_failed/email/high, cu1, agent ann: response 1 h, resolved 2 h, one agent contact, csat 5, ch1
 *   B payment_failed/chat/normal, cu1, agent -bob: response 30 min, resolved 1 d, reopened, resolved again, csat 2
 *   C declined/email/low, cu2: no contact, never resolved (censored at 27 d 15 h), escalated to finance, ch3
 *   D declined/phone/urgent, cu3: resolved after 30 min without any contact
 *   E payment_failed/email/high, cu4, agent ann: response 1 h, resolved after 20 d, escalated, csat 4
 */
async function seed(h: LedgerHarness): Promise<string> {
  let last = '0';
  const send = async (role: Role, path: string, body: Record<string, unknown>, occurredAt: string) => {
    const res = await post(h, role, path, { ...body, occurredAt }).then(expectCreated);
    last = res.body.position as string;
  };
  const charge = (chargeId: string, customerId: string) =>
    send(
      'service',
      '/charges',
      { chargeId, customerId, amount: 10000, currency: 'EUR', outcome: 'succeeded' },
      at('01', '08:00'),
    );
  await charge('ch1', 'cu1');
  await charge('ch2', 'cu9');
  await charge('ch3', 'cu2');
  const open = (
    issueId: string,
    customerId: string,
    category: string,
    channel: string,
    priority: string,
    when: string,
    chargeIds: string[] = [],
  ) => send('agent', '/issues', { issueId, customerId, category, channel, priority, chargeIds }, when);
  const contact = (issueId: string, direction: string, when: string, agentId?: string) =>
    send(
      'agent',
      `/issues/${issueId}/contacts`,
      { direction, channel: 'email', ...(agentId ? { agentId } : {}) },
      when,
    );

  await open('A', 'cu1', 'payment_failed', 'email', 'high', at('02', '09:00'), ['ch1']);
  await send('agent', '/issues/A/assign', { agentId: 'ann' }, at('02', '09:05'));
  await contact('A', 'outbound', at('02', '10:00'), 'ann');
  await send('agent', '/issues/A/resolve', { resolution: 'explained' }, at('02', '11:00'));
  await send('service', '/issues/A/feedback', { csat: 5 }, at('02', '12:00'));

  await open('B', 'cu1', 'payment_failed', 'chat', 'normal', at('02', '12:00'));
  await send('agent', '/issues/B/assign', { agentId: '-bob' }, at('02', '12:05'));
  await contact('B', 'outbound', at('02', '12:30'), '-bob');
  await contact('B', 'inbound', at('02', '12:45'));
  await send('agent', '/issues/B/resolve', { resolution: 'payment_retried' }, at('03', '12:00'));
  await send('agent', '/issues/B/reopen', { reason: 'failed again' }, at('03', '13:00'));
  await send('agent', '/issues/B/resolve', { resolution: 'payment_retried' }, at('03', '14:00'));
  await send('service', '/issues/B/feedback', { csat: 2 }, at('03', '15:00'));

  await open('C', 'cu2', 'declined', 'email', 'low', at('03', '09:00'));
  await send('agent', '/issues/C/charges', { chargeId: 'ch3' }, at('03', '09:10'));
  await send('agent', '/issues/C/escalate', { to: 'finance' }, at('03', '10:00'));

  await open('D', 'cu3', 'declined', 'phone', 'urgent', at('04', '09:00'));
  await send('agent', '/issues/D/resolve', { resolution: 'no_action' }, at('04', '09:30'));

  await open('E', 'cu4', 'payment_failed', 'email', 'high', at('05', '09:00'));
  await send('agent', '/issues/E/assign', { agentId: 'ann' }, at('05', '09:01'));
  await contact('E', 'outbound', at('05', '10:00'), 'ann');
  await send('agent', '/issues/E/escalate', { to: 'payment_provider' }, at('06', '09:00'));
  await send('agent', '/issues/E/resolve', { resolution: 'charge_corrected' }, at('25', '09:00'));
  await send('service', '/issues/E/feedback', { csat: 4 }, at('25', '10:00'));

  // Refunds: r1 met its due date (1 d turnaround), r2 is still pending past it, r3 (unlinked) was late.
  const refund = (chargeId: string, refundId: string, dueBy: string, when: string) =>
    send(
      'service',
      `/charges/${chargeId}/refunds`,
      { refundId, amount: 1000, reason: 'duplicate', dueBy },
      when,
    );
  await refund('ch1', 'r1', at('05', '09:00'), at('02', '09:30'));
  await send('service', '/charges/ch1/refunds/r1/succeed', {}, at('03', '09:30'));
  await refund('ch1', 'r2', at('03', '09:00'), at('02', '10:00'));
  await send('agent', '/charges/ch1/refunds/r2/approve', {}, at('02', '11:00'));
  await refund('ch2', 'r3', at('11', '09:00'), at('10', '09:00'));
  await send('service', '/charges/ch2/refunds/r3/succeed', {}, at('12', '09:00'));

  // Disputes: d1 (C) evidence after its due date and lost; d2 (A) evidence in time and won; d3 accepted.
  const dispute = (chargeId: string, disputeId: string, when: string, evidenceDueBy?: string) =>
    send(
      'service',
      `/charges/${chargeId}/disputes`,
      {
        disputeId,
        amount: 1000,
        reason: 'fraudulent',
        kind: 'chargeback',
        ...(evidenceDueBy ? { evidenceDueBy } : {}),
      },
      when,
    );
  await dispute('ch3', 'd1', at('04', '09:00'), at('10', '09:00'));
  await send('service', '/charges/ch3/disputes/d1/evidence', { summary: 'late receipt' }, at('11', '09:00'));
  await send('service', '/charges/ch3/disputes/d1/close', { outcome: 'lost' }, at('20', '09:00'));
  await dispute('ch1', 'd2', at('06', '09:00'), at('08', '09:00'));
  await send('service', '/charges/ch1/disputes/d2/evidence', { summary: 'receipt' }, at('07', '09:00'));
  await send('service', '/charges/ch1/disputes/d2/close', { outcome: 'won' }, at('15', '09:00'));
  await dispute('ch2', 'd3', at('20', '09:00'));
  await send('service', '/charges/ch2/disputes/d3/close', { outcome: 'accepted' }, at('21', '09:00'));

  // Churn: cu1 within 7 d of A and reactivated; cu2 before its issue; cu4 within 7 d of E.
  await send('service', '/customers/cu1/churn', { kind: 'voluntary' }, at('06', '09:00'));
  await send('service', '/customers/cu1/reactivate', {}, at('20', '09:00'));
  await send('service', '/customers/cu2/churn', { kind: 'involuntary' }, at('03', '08:00'));
  await send('service', '/customers/cu4/churn', { kind: 'involuntary' }, at('08', '09:00'));
  return last;
}

describe('GET /metrics/* over HTTP (hand-computed figures)', () => {
  let h: LedgerHarness;
  let position: string;
  const metric = (path: string, role: Role = 'analyst') => get(h, role, `/metrics/${path}`);
  const json = async (path: string) => {
    const separator = path.includes('?') ? '&' : '?';
    const res = await metric(`${path}${separator}asOf=${AS_OF}&minPosition=${position}`);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    h = await startLedger();
    position = await seed(h);
  }, 60_000);
  afterAll(() => h.close(true));

  it('resolution time: Kaplan–Meier with the open issue censored at asOf, and resolved-only figures', async () => {
    const body = await json('resolution-time');
    expect(body).toMatchObject({ metric: 'resolution-time', asOf: AS_OF, groupBy: [] });
    expect(body.groups).toHaveLength(1);
    const [all] = body.groups;
    expect(all).toMatchObject({ key: {}, issues: 5, resolved: 4, open: 1 });
    // Times 1800, 7200, 86400, 1728000 resolved; 2386800 censored: S = .8, .6, .4, .2.
    expect(all.km.median.value).toBe(DAY);
    expect(all.km.p75.value).toBe(20 * DAY);
    expect(all.km.p90.value).toBeNull();
    expect(all.km.median.lower).toBeLessThanOrEqual(DAY);
    expect(
      all.km.curve.map((p: { t: number; survival: number }) => [p.t, Number(p.survival.toFixed(6))]),
    ).toEqual([
      [0, 1],
      [1800, 0.8],
      [7200, 0.6],
      [DAY, 0.4],
      [20 * DAY, 0.2],
      [27 * DAY + 15 * HOUR, 0.2],
    ]);
    expect(all.resolvedOnly).toEqual({ count: 4, mean: 455_850, median: 46_800, p90: 20 * DAY });
  });

  it('thins the survival curve to curvePoints, keeping its first and last point', async () => {
    const { groups } = await json('resolution-time?curvePoints=2');
    expect(groups[0].km.curve.map((p: { t: number }) => p.t)).toEqual([0, 27 * DAY + 15 * HOUR]);
    expect(groups[0].km.median.value).toBe(DAY);
  });

  it('groups by category, agent, day, week and month, combined, and filters', async () => {
    const byCategory = await json('resolution-time?groupBy=category');
    expect(
      byCategory.groups.map((g: { key: object; issues: number; resolved: number }) => [
        g.key,
        g.issues,
        g.resolved,
      ]),
    ).toEqual([
      [{ category: 'payment_failed' }, 3, 3],
      [{ category: 'declined' }, 2, 1],
    ]);
    expect(byCategory.groups[0].km.median.value).toBe(DAY);

    const byAgent = await json('resolution-time?groupBy=agent');
    expect(byAgent.groups.map((g: { key: object; issues: number }) => [g.key, g.issues])).toEqual([
      [{ agent: '-bob' }, 1],
      [{ agent: 'ann' }, 2],
      [{ agent: null }, 2],
    ]);

    const byTime = await json('reopens?groupBy=week,month');
    expect(byTime.groups).toEqual([
      {
        key: { week: '2026-03-02', month: '2026-03' },
        issues: 5,
        resolved: 4,
        reopened: 1,
        reopenRate: 0.25,
      },
    ]);
    const byDay = await json('reopens?groupBy=day,channel');
    expect(byDay.groups.map((g: { key: object; issues: number }) => [g.key, g.issues])).toEqual([
      [{ day: '2026-03-02', channel: 'email' }, 1],
      [{ day: '2026-03-02', channel: 'chat' }, 1],
      [{ day: '2026-03-03', channel: 'email' }, 1],
      [{ day: '2026-03-04', channel: 'phone' }, 1],
      [{ day: '2026-03-05', channel: 'email' }, 1],
    ]);

    const filtered = await json('resolution-time?category=payment_failed&channel=email&priority=high');
    expect(filtered.groups[0]).toMatchObject({ issues: 2, resolved: 2 });
    expect(filtered.filters).toEqual({ category: 'payment_failed', channel: 'email', priority: 'high' });
    const period = await json(`reopens?from=${at('02', '12:00')}&to=${at('04', '09:00')}`);
    // B and C opened in [from, to); D opened exactly at `to`.
    expect(period.groups[0]).toMatchObject({ issues: 2, resolved: 1, reopened: 1 });
  });

  it('first response: censored at asOf while open, at the resolution when resolved without one', async () => {
    const { groups } = await json('first-response');
    // 1800 censored (D) then 1800 (B), 3600 twice (A, E), 2386800 censored (C): S = .8, then .8 / 3.
    expect(groups[0]).toMatchObject({ issues: 5, responded: 3, censored: 2 });
    expect(groups[0].km.median.value).toBe(HOUR);
    expect(groups[0].km.curve[1]).toEqual({ t: 1800, survival: 0.8, atRisk: 5, events: 1, censored: 1 });
    expect(groups[0].respondedOnly).toEqual({ count: 3, mean: 3000, median: 3600, p90: 3600 });
  });

  it('SLA met / breached / at risk per priority, at asOf', async () => {
    const { groups } = await json('sla');
    expect(groups[0]).toEqual({
      key: {},
      issues: 5,
      // D was resolved at its 30-minute response target without a response: stopped, in neither rate.
      firstResponse: { met: 3, breached: 1, atRisk: 0, onTrack: 0, stopped: 1, metRate: 0.75 },
      resolution: { met: 3, breached: 2, atRisk: 0, onTrack: 0, stopped: 0, metRate: 0.6 },
    });
    const byPriority = await json('sla?groupBy=priority');
    expect(byPriority.groups.map((g: { key: { priority: string } }) => g.key.priority)).toEqual([
      'low',
      'normal',
      'high',
      'urgent',
    ]);
    expect(byPriority.groups[2].resolution).toMatchObject({ met: 1, breached: 1 });
    // C (low: 24 h to respond) one hour after opening, then 20 h after (past 80%); D not opened yet.
    const early = await metric('sla?category=declined&asOf=2026-03-03T10:00:00.000Z').expect(200);
    expect(early.body.groups[0]).toMatchObject({ issues: 1, firstResponse: { onTrack: 1 } });
    const later = await metric('sla?category=declined&asOf=2026-03-04T05:00:00.000Z').expect(200);
    expect(later.body.groups[0]).toMatchObject({ issues: 1, firstResponse: { atRisk: 1, onTrack: 0 } });
  });

  it('escalations by destination, CSAT, first-contact and one-touch resolution', async () => {
    expect((await json('escalations')).groups[0]).toEqual({
      key: {},
      issues: 5,
      escalated: 2,
      escalationRate: 0.4,
      byDestination: {
        payment_provider: { issues: 1, rate: 0.2 },
        finance: { issues: 1, rate: 0.2 },
        product: { issues: 0, rate: 0 },
        fraud: { issues: 0, rate: 0 },
        tier2: { issues: 0, rate: 0 },
      },
    });
    expect((await json('csat')).groups[0]).toEqual({
      key: {},
      issues: 5,
      responses: 3,
      average: 11 / 3,
      distribution: { '1': 0, '2': 1, '3': 0, '4': 1, '5': 1 },
      satisfied: 2,
      satisfiedShare: 2 / 3,
    });
    // A and E: one agent contact, never reopened; B: one contact but reopened; D: no contact at all.
    expect((await json('first-contact-resolution')).groups[0]).toEqual({
      key: {},
      issues: 5,
      resolved: 4,
      firstContactResolved: 2,
      firstContactResolutionRate: 0.5,
      oneTouch: 3,
      oneTouchRate: 0.75,
    });
  });

  it('backlog by age at asOf, including an issue open again after a reopen', async () => {
    const now = (await json('backlog')).groups[0];
    expect(now).toMatchObject({ issues: 5, open: 1, byAge: { '7d_to_30d': 1, under_1d: 0 } });
    const duringReopen = await metric('backlog?asOf=2026-03-03T13:30:00.000Z').expect(200);
    // B (opened 25.5 h before, reopened at 13:00) and C (4.5 h); A resolved; D and E not opened yet.
    expect(duringReopen.body.groups[0]).toMatchObject({
      issues: 3,
      open: 2,
      byAge: { under_1d: 1, '1d_to_3d': 1, '3d_to_7d': 0, '7d_to_30d': 0, over_30d: 0 },
      ageSeconds: { max: 25.5 * HOUR },
    });
  });

  it('refunds: turnaround of succeeded ones and due-date breaches, per linked issue', async () => {
    expect((await json('refunds')).groups[0]).toEqual({
      key: {},
      requested: 3,
      succeeded: 2,
      pending: 1,
      unsuccessful: 0,
      turnaroundSucceededOnly: { count: 2, mean: 1.5 * DAY, median: 1.5 * DAY, p90: 2 * DAY },
      withDueBy: 3,
      dueMet: 1,
      dueBreached: 2,
      dueBreachRate: 2 / 3,
    });
    const byCategory = await json('refunds?groupBy=category');
    expect(
      byCategory.groups.map((g: { key: object; requested: number; dueBreached: number }) => [
        g.key,
        g.requested,
        g.dueBreached,
      ]),
    ).toEqual([
      [{ category: null }, 1, 1],
      [{ category: 'payment_failed' }, 2, 1],
    ]);
    expect((await json('refunds?category=payment_failed')).groups[0]).toMatchObject({ requested: 2 });
  });

  it('disputes: win rate over won and lost, accepted apart, evidence after the due date', async () => {
    expect((await json('disputes')).groups[0]).toEqual({
      key: {},
      disputes: 3,
      open: 0,
      won: 1,
      lost: 1,
      accepted: 1,
      winRate: 0.5,
      withEvidence: 2,
      evidenceAfterDueDate: 1,
      noEvidenceByDueDate: 1,
    });
    const byCategory = await json('disputes?groupBy=category');
    expect(
      byCategory.groups.map((g: { key: object; won: number; lost: number }) => [g.key, g.won, g.lost]),
    ).toEqual([
      [{ category: null }, 0, 0],
      [{ category: 'payment_failed' }, 1, 0],
      [{ category: 'declined' }, 0, 1],
    ]);
  });

  it('churn: anchored at the first issue, pending until the window elapsed, reactivated still counted', async () => {
    const thirty = await json('churn');
    expect(thirty.window).toBe(30);
    expect(thirty.groups[0]).toMatchObject({
      customers: 4,
      pending: 4,
      eligible: 0,
      churned: 0,
      churnRate: null,
    });
    const week = await json('churn?window=7');
    expect(week.groups[0]).toEqual({
      key: {},
      customers: 4,
      pending: 0,
      eligible: 4,
      churned: 2,
      retained: 2,
      churnRate: 0.5,
      voluntary: 1,
      involuntary: 1,
      reactivated: 1,
      reactivatedCustomers: ['cu1'],
    });
    const byBucket = await json('churn?window=7&groupBy=resolutionBucket');
    expect(
      byBucket.groups.map((g: { key: object; customers: number; churned: number }) => [
        g.key,
        g.customers,
        g.churned,
      ]),
    ).toEqual([
      [{ resolutionBucket: 'under_1h' }, 1, 0],
      [{ resolutionBucket: '1h_to_24h' }, 1, 1],
      [{ resolutionBucket: 'over_7d' }, 1, 1],
      [{ resolutionBucket: 'unresolved' }, 1, 0],
    ]);
    const bySla = await json('churn?window=7&groupBy=sla');
    expect(
      bySla.groups.map((g: { key: object; customers: number; churned: number }) => [
        g.key,
        g.customers,
        g.churned,
      ]),
    ).toEqual([
      [{ sla: 'met' }, 2, 1],
      [{ sla: 'breached' }, 2, 1],
    ]);
  });

  it('overview: the headline numbers of every metric, per group', async () => {
    const { groups } = await json('overview');
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      key: {},
      issues: 5,
      resolved: 4,
      open: 1,
      resolutionTime: { median: DAY, p90: null },
      firstResponse: { median: HOUR },
      sla: { firstResponseMetRate: 0.75, resolutionMetRate: 0.6 },
      reopens: { rate: 0.25 },
      escalations: { rate: 0.4 },
      firstContactResolution: { rate: 0.5, oneTouchRate: 0.75 },
      csat: { average: 11 / 3, responses: 3 },
      backlog: { open: 1 },
      refunds: { requested: 3, dueBreachRate: 2 / 3 },
      disputes: { disputes: 3, winRate: 0.5 },
      churn: { customers: 4, pending: 4 },
    });
    const byCategory = await json('overview?groupBy=category');
    expect(byCategory.groups.map((g: { key: object; issues: number }) => [g.key, g.issues])).toEqual([
      [{ category: 'payment_failed' }, 3],
      [{ category: 'declined' }, 2],
      [{ category: null }, 0],
    ]);
  });

  it('exports every route as CSV, one row per group, flattened columns, formula cells escaped', async () => {
    const res = await get(h, 'analyst', `/metrics/resolution-time?groupBy=agent&asOf=${AS_OF}`).set(
      'Accept',
      'text/csv',
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const lines = res.text.trim().split('\r\n');
    const header = lines[0].split(',');
    expect(header.slice(0, 5)).toEqual(['agent', 'issues', 'resolved', 'open', 'km.median.value']);
    expect(header).toContain('resolvedOnly.mean');
    expect(header.some((column) => column.startsWith('km.curve'))).toBe(false);
    expect(lines).toHaveLength(4);
    const cell = (line: string, column: string) => line.split(',')[header.indexOf(column)];
    // The agent id "-bob" would be a formula in a spreadsheet.
    expect(cell(lines[1], 'agent')).toBe("'-bob");
    expect(cell(lines[2], 'agent')).toBe('ann');
    expect(cell(lines[2], 'resolved')).toBe('2');
    expect(cell(lines[3], 'agent')).toBe('');

    // Every other route (resolution-time is checked cell by cell above).
    for (const route of METRIC_NAMES.filter((name) => name !== 'resolution-time')) {
      const csv = await get(h, 'auditor', `/metrics/${route}?groupBy=category&asOf=${AS_OF}`).set(
        'Accept',
        'text/csv',
      );
      expect({ route, status: csv.status }).toEqual({ route, status: 200 });
      expect(csv.text.split('\r\n')[0].startsWith('category,')).toBe(true);
    }
    const churn = await get(h, 'analyst', `/metrics/churn?window=7&asOf=${AS_OF}`).set('Accept', 'text/csv');
    const [head, row] = churn.text.trim().split('\r\n');
    expect(row.split(',')[head.split(',').indexOf('reactivatedCustomers')]).toBe('cu1');
  });

  it('picks up new facts at once with minPosition, and answers the same after a rebuild of the projection', async () => {
    const before = await json('reopens');
    const opened = await post(h, 'agent', '/issues', {
      issueId: 'F',
      customerId: 'cu5',
      category: 'other',
      channel: 'web_form',
      occurredAt: at('06', '09:00'),
    }).then(expectCreated);
    const reopened = await post(h, 'agent', '/issues/A/reopen', {
      reason: 'again',
      occurredAt: at('07', '09:00'),
    }).then(expectCreated);
    expect(BigInt(reopened.body.position)).toBeGreaterThan(BigInt(opened.body.position));
    position = reopened.body.position;
    const after = await json('reopens');
    expect(after.groups[0]).toMatchObject({ issues: before.groups[0].issues + 1, reopened: 2, resolved: 4 });

    const report = await h.ledger.projections.rebuild('metrics', {});
    expect(report.promoted).toBe(true);
    const rebuilt = await json('reopens');
    expect(rebuilt.groups).toEqual(after.groups);
    // Open at asOf: C, the new one and A reopened; A has its first resolution, so it is not unresolved.
    expect((await json('resolution-time')).groups[0]).toMatchObject({
      issues: 6,
      resolved: 4,
      open: 3,
      unresolved: 2,
    });
  });

  it('answers 400 problem+json with field errors for bad parameters', async () => {
    const cases: [string, string][] = [
      ['resolution-time?groupBy=category,colour', 'groupBy'],
      ['resolution-time?groupBy=resolutionBucket', 'groupBy'],
      ['churn?window=0', 'window'],
      ['churn?window=30.5', 'window'],
      ['sla?asOf=yesterday', 'asOf'],
      ['csat?from=2026-13-01', 'from'],
      ['refunds?category=lost_wallet', 'category'],
      ['disputes?priority=asap', 'priority'],
      ['backlog?colour=red', 'colour'],
      ['overview?minPosition=-1', 'minPosition'],
      ['resolution-time?curvePoints=1', 'curvePoints'],
      ['resolution-time?asOf=2026-W10', 'asOf'],
      ['sla?from=2026-060', 'from'],
      ['churn?to=2026-03-01T10', 'to'],
      ['churn?curvePoints=10', 'curvePoints'],
      [`reopens?from=${at('05', '00:00')}&to=${at('04', '00:00')}`, 'to'],
    ];
    for (const [path, field] of cases) {
      const res = await metric(path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('/errors/validation-failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('answers an empty ledger period with zero counts and null figures, and groups with none', async () => {
    const empty = await json(`resolution-time?from=2025-01-01T00:00:00.000Z&to=2025-02-01T00:00:00.000Z`);
    expect(empty.groups).toEqual([
      {
        key: {},
        issues: 0,
        resolved: 0,
        open: 0,
        km: {
          median: { value: null, lower: null, upper: null },
          p75: { value: null, lower: null, upper: null },
          p90: { value: null, lower: null, upper: null },
          curve: [],
        },
        resolvedOnly: { count: 0, mean: null, median: null, p90: null },
        unresolved: 0,
      },
    ]);
    const grouped = await json(
      `csat?groupBy=agent&from=2025-01-01T00:00:00.000Z&to=2025-02-01T00:00:00.000Z`,
    );
    expect(grouped.groups).toEqual([]);
  });
});
