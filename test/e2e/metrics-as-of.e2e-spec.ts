import type { Role } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, post } from '../support/http';

/**
 * Issue #17: an answer as of an instant uses only the facts that occurred by then, and the SLA clocks
 * measure what /metrics/first-response measures (DESIGN.md "Metrics (exact definitions)": "As of", "SLA").
 * Each test has its own issues, charges and customers in its own period, and every query narrows to that
 * period with from/to (issue opened; disputes: dispute opened), so the tests do not see each other's data.
 *
 * Default targets (minutes, first response / resolution): low 1440 / 10080, normal 480 / 4320.
 */

type Clock = { met: number; breached: number; atRisk: number; onTrack: number; stopped: number };
const clockFigures = ({ met = 0, breached = 0, atRisk = 0, onTrack = 0, stopped = 0 }: Partial<Clock>) => ({
  met,
  breached,
  atRisk,
  onTrack,
  stopped,
  metRate: met + breached === 0 ? null : met / (met + breached),
});
const period = (day: string, next: string) => `from=${day}T00:00:00.000Z&to=${next}T00:00:00.000Z`;

describe('GET /metrics/* as of an instant, and the SLA clocks (issue #17)', () => {
  let h: LedgerHarness;
  let last = '0';

  const send = async (role: Role, path: string, body: Record<string, unknown>, occurredAt: string) => {
    const res = await post(h, role, path, { ...body, occurredAt }).then(expectCreated);
    last = res.body.position as string;
    return res;
  };
  const open = (
    issueId: string,
    customerId: string,
    occurredAt: string,
    extra: Record<string, unknown> = {},
  ) =>
    send(
      'agent',
      '/issues',
      { issueId, customerId, category: 'payment_failed', channel: 'email', ...extra },
      occurredAt,
    );
  const agentContact = (issueId: string, occurredAt: string, agentId = 'ag-rita') =>
    send(
      'agent',
      `/issues/${issueId}/contacts`,
      { direction: 'outbound', channel: 'email', agentId },
      occurredAt,
    );
  const resolve = (issueId: string, occurredAt: string) =>
    send('agent', `/issues/${issueId}/resolve`, { resolution: 'explained' }, occurredAt);
  const close = (issueId: string, occurredAt: string) =>
    send('agent', `/issues/${issueId}/close`, {}, occurredAt);
  const assign = (issueId: string, agentId: string, occurredAt: string) =>
    send('agent', `/issues/${issueId}/assign`, { agentId }, occurredAt);
  const feedback = (issueId: string, csat: number, occurredAt: string) =>
    send('service', `/issues/${issueId}/feedback`, { csat }, occurredAt);

  /** The whole answer of a metrics route, once the projection has applied the last command. */
  const metric = async (path: string) => {
    const res = await get(h, 'analyst', `/metrics/${path}&minPosition=${last}`);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const group = async (path: string) => {
    const body = await metric(path);
    expect(body.groups).toHaveLength(1);
    return body.groups[0];
  };
  const issueSummary = async (issueId: string) => {
    const res = await get(h, 'agent', `/issues/${issueId}?minPosition=${last}`);
    if (res.status !== 200) throw new Error(`issue ${issueId}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    h = await startLedger();
  }, 60_000);
  afterAll(() => h.close(true));

  it('1. CSAT: counts the score given by asOf even when a later one exists', async () => {
    const july1 = period('2026-07-01', '2026-07-02');
    await open('rp-csat', 'rp-c1', '2026-07-01T09:00:00.000Z', { category: 'declined', channel: 'email' });
    await resolve('rp-csat', '2026-07-01T12:00:00.000Z');
    await feedback('rp-csat', 2, '2026-07-02T10:00:00.000Z');
    await feedback('rp-csat', 5, '2026-07-10T10:00:00.000Z');

    expect(await group(`csat?asOf=2026-07-05T00:00:00Z&${july1}`)).toEqual({
      key: {},
      issues: 1,
      responses: 1,
      average: 2,
      distribution: { '1': 0, '2': 1, '3': 0, '4': 0, '5': 0 },
      satisfied: 0,
      satisfiedShare: 0,
    });
    // Before any score: none; after the second one: the latest.
    expect(await group(`csat?asOf=2026-07-01T13:00:00Z&${july1}`)).toMatchObject({
      issues: 1,
      responses: 0,
      average: null,
      satisfiedShare: null,
    });
    expect(await group(`csat?asOf=2026-07-11T00:00:00Z&${july1}`)).toEqual({
      key: {},
      issues: 1,
      responses: 1,
      average: 5,
      distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 },
      satisfied: 1,
      satisfiedShare: 1,
    });
    // The overview repeats the figure.
    expect((await group(`overview?asOf=2026-07-05T00:00:00Z&${july1}`)).csat).toEqual({
      average: 2,
      satisfiedShare: 0,
      responses: 1,
    });
  });

  it('1. CSAT: answers the same as of an earlier instant before and after a later score is recorded', async () => {
    const june1 = period('2026-06-01', '2026-06-02');
    await open('rp-csat-b', 'rp-c1b', '2026-06-01T09:00:00.000Z', { category: 'declined' });
    await resolve('rp-csat-b', '2026-06-01T12:00:00.000Z');
    await feedback('rp-csat-b', 2, '2026-06-02T10:00:00.000Z');
    const before = await metric(`csat?asOf=2026-06-05T00:00:00Z&${june1}`);
    expect(before.groups[0]).toMatchObject({ responses: 1, average: 2 });

    await feedback('rp-csat-b', 5, '2026-06-10T10:00:00.000Z');
    expect(await metric(`csat?asOf=2026-06-05T00:00:00Z&${june1}`)).toEqual(before);
  });

  const dispute = async (
    chargeId: string,
    disputeId: string,
    customerId: string,
    day: string,
    due: string,
  ) => {
    await send(
      'service',
      '/charges',
      { chargeId, customerId, amount: 10000, currency: 'EUR', outcome: 'succeeded' },
      `${day}T08:00:00.000Z`,
    );
    await send(
      'service',
      `/charges/${chargeId}/disputes`,
      { disputeId, amount: 10000, reason: 'fraudulent', kind: 'inquiry', evidenceDueBy: due },
      `${day}T09:00:00.000Z`,
    );
  };

  it('2. disputes: judges evidence against the deadline in force at asOf, not one set by a later escalation', async () => {
    const july2 = period('2026-07-02', '2026-07-03');
    await dispute('rp-dp-ch', 'rp-dp', 'rp-dp-c', '2026-07-02', '2026-07-10T00:00:00.000Z');
    await send(
      'service',
      '/charges/rp-dp-ch/disputes/rp-dp/evidence',
      { summary: 'receipt' },
      '2026-07-12T09:00:00.000Z',
    );
    await send(
      'service',
      '/charges/rp-dp-ch/disputes/rp-dp/escalate',
      { evidenceDueBy: '2026-08-01T00:00:00.000Z' },
      '2026-07-20T09:00:00.000Z',
    );

    // As of 07-15 the deadline is 07-10: it passed with nothing submitted by then, and the evidence came after it.
    expect(await group(`disputes?asOf=2026-07-15T00:00:00Z&${july2}`)).toEqual({
      key: {},
      disputes: 1,
      open: 1,
      won: 0,
      lost: 0,
      accepted: 0,
      winRate: null,
      withEvidence: 1,
      evidenceAfterDueDate: 1,
      noEvidenceByDueDate: 1,
    });
    expect((await group(`overview?asOf=2026-07-15T00:00:00Z&${july2}`)).disputes).toMatchObject({
      disputes: 1,
      evidenceAfterDueDate: 1,
    });
    // As of 08-05 the escalation has moved the deadline to 08-01, and the evidence of 07-12 is before it.
    expect(await group(`disputes?asOf=2026-08-05T00:00:00Z&${july2}`)).toEqual({
      key: {},
      disputes: 1,
      open: 1,
      won: 0,
      lost: 0,
      accepted: 0,
      winRate: null,
      withEvidence: 1,
      evidenceAfterDueDate: 0,
      noEvidenceByDueDate: 0,
    });
  });

  it('2. disputes: answers the same as of an earlier instant before and after an escalation moves the deadline', async () => {
    const june2 = period('2026-06-02', '2026-06-03');
    await dispute('rp-dp-ch-b', 'rp-dp-b', 'rp-dp-cb', '2026-06-02', '2026-06-10T00:00:00.000Z');
    await send(
      'service',
      '/charges/rp-dp-ch-b/disputes/rp-dp-b/evidence',
      { summary: 'receipt' },
      '2026-06-12T09:00:00.000Z',
    );
    const before = await metric(`disputes?asOf=2026-06-15T00:00:00Z&${june2}`);
    expect(before.groups[0]).toMatchObject({
      disputes: 1,
      evidenceAfterDueDate: 1,
      noEvidenceByDueDate: 1,
    });

    await send(
      'service',
      '/charges/rp-dp-ch-b/disputes/rp-dp-b/escalate',
      { evidenceDueBy: '2026-07-01T00:00:00.000Z' },
      '2026-06-20T09:00:00.000Z',
    );
    expect(await metric(`disputes?asOf=2026-06-15T00:00:00Z&${june2}`)).toEqual(before);
  });

  it('3. groupBy=agent: groups under the assignee at asOf, not one assigned or resolving later', async () => {
    const aug20 = period('2026-08-20', '2026-08-21');
    await open('rp-agent', 'rp-agent-c', '2026-08-20T00:00:00.000Z');
    await assign('rp-agent', 'ag-ana', '2026-08-20T01:00:00.000Z');
    await assign('rp-agent', 'ag-gus', '2026-08-22T00:00:00.000Z');
    await resolve('rp-agent', '2026-08-23T00:00:00.000Z');

    expect((await metric(`reopens?asOf=2026-08-21T00:00:00Z&groupBy=agent&${aug20}`)).groups).toEqual([
      { key: { agent: 'ag-ana' }, issues: 1, resolved: 0, reopened: 0, reopenRate: null },
    ]);
    // Once resolved by ag-gus, it is his.
    expect((await metric(`reopens?asOf=2026-08-24T00:00:00Z&groupBy=agent&${aug20}`)).groups).toEqual([
      { key: { agent: 'ag-gus' }, issues: 1, resolved: 1, reopened: 0, reopenRate: 0 },
    ]);
  });

  it('3. groupBy=agent: keeps the assignee at the first resolution after a later reassignment', async () => {
    const aug26 = period('2026-08-26', '2026-08-27');
    await open('rp-agent-r', 'rp-agent-rc', '2026-08-26T00:00:00.000Z');
    await assign('rp-agent-r', 'ag-ana', '2026-08-26T01:00:00.000Z');
    await resolve('rp-agent-r', '2026-08-26T02:00:00.000Z');
    await assign('rp-agent-r', 'ag-gus', '2026-08-28T00:00:00.000Z');
    for (const asOf of ['2026-08-27T00:00:00Z', '2026-08-29T00:00:00Z']) {
      expect((await metric(`reopens?asOf=${asOf}&groupBy=agent&${aug26}`)).groups).toEqual([
        { key: { agent: 'ag-ana' }, issues: 1, resolved: 1, reopened: 0, reopenRate: 0 },
      ]);
    }
  });

  it('3. groupBy=agent: answers the same as of an earlier instant before and after a reassignment and a resolution', async () => {
    const june20 = period('2026-06-20', '2026-06-21');
    await open('rp-agent-b', 'rp-agent-cb', '2026-06-20T00:00:00.000Z');
    await assign('rp-agent-b', 'ag-ana', '2026-06-20T01:00:00.000Z');
    const before = await metric(`reopens?asOf=2026-06-21T00:00:00Z&groupBy=agent&${june20}`);
    expect(before.groups).toEqual([
      { key: { agent: 'ag-ana' }, issues: 1, resolved: 0, reopened: 0, reopenRate: null },
    ]);

    await assign('rp-agent-b', 'ag-gus', '2026-06-22T00:00:00.000Z');
    await resolve('rp-agent-b', '2026-06-23T00:00:00.000Z');
    expect(await metric(`reopens?asOf=2026-06-21T00:00:00Z&groupBy=agent&${june20}`)).toEqual(before);
  });

  it('4. first-response SLA: stops the first-response clock at a resolution without a response, and a later contact does not count', async () => {
    const july3 = period('2026-07-03', '2026-07-04');
    await open('rp-fr', 'rp-fr-c', '2026-07-03T00:00:00.000Z', {
      category: 'billing_error',
      priority: 'low',
    });
    await resolve('rp-fr', '2026-07-03T06:00:00.000Z');

    // Resolved 18 h before its 24 h first-response target, without a response: stopped, in neither rate.
    const expected = {
      key: {},
      issues: 1,
      firstResponse: clockFigures({ stopped: 1 }),
      resolution: clockFigures({ met: 1 }),
    };
    expect(await group(`sla?asOf=2026-07-03T21:00:00Z&${july3}`)).toEqual(expected);
    expect(await group(`sla?asOf=2026-07-05T00:00:00Z&${july3}`)).toEqual(expected);

    // An agent contact after the resolution (and before the target) is not the first response.
    await agentContact('rp-fr', '2026-07-03T10:00:00.000Z');
    expect(await group(`sla?asOf=2026-07-03T21:00:00Z&${july3}`)).toEqual(expected);
    expect(await group(`sla?asOf=2026-07-05T00:00:00Z&${july3}`)).toEqual(expected);
    expect(await group(`first-response?asOf=2026-07-05T00:00:00Z&${july3}`)).toMatchObject({
      issues: 1,
      responded: 0,
      censored: 1,
    });
  });

  it('4. first-response SLA: GET /issues/:id shows the first-response clock of an issue resolved before any response as stopped', async () => {
    await open('rp-sum-fr', 'rp-sum-fr-c', '2026-09-10T00:00:00.000Z', { priority: 'low' });
    await resolve('rp-sum-fr', '2026-09-10T06:00:00.000Z');
    let issue = await issueSummary('rp-sum-fr');
    expect([issue.sla.firstResponse.state, issue.sla.resolution.state]).toEqual(['stopped', 'met']);

    await agentContact('rp-sum-fr', '2026-09-10T10:00:00.000Z');
    issue = await issueSummary('rp-sum-fr');
    expect([issue.sla.firstResponse.state, issue.sla.resolution.state]).toEqual(['stopped', 'met']);
  });

  it('4. first-response SLA: overview: the first-response and resolution met rates leave stopped clocks out', async () => {
    const oct1 = period('2026-10-01', '2026-10-02');
    const opened = '2026-10-01T00:00:00.000Z';
    // rp-ov-1 normal: response at 1 h (met), resolved at 2 h (met).
    await open('rp-ov-1', 'rp-ov-c1', opened);
    await agentContact('rp-ov-1', '2026-10-01T01:00:00.000Z');
    await resolve('rp-ov-1', '2026-10-01T02:00:00.000Z');
    // rp-ov-2 normal: resolved at 20 h without a response: first response breached (ended after 8 h), resolution met.
    await open('rp-ov-2', 'rp-ov-c2', opened);
    await resolve('rp-ov-2', '2026-10-01T20:00:00.000Z');
    // rp-ov-3 low: resolved at 6 h without a response: first response stopped, resolution met.
    await open('rp-ov-3', 'rp-ov-c3', opened, { priority: 'low' });
    await resolve('rp-ov-3', '2026-10-01T06:00:00.000Z');
    // rp-ov-4 normal: response at 1 h (met), withdrawn at 5 h: resolution stopped.
    await open('rp-ov-4', 'rp-ov-c4', opened);
    await agentContact('rp-ov-4', '2026-10-01T01:00:00.000Z');
    await close('rp-ov-4', '2026-10-01T05:00:00.000Z');

    const asOf = 'asOf=2026-11-01T00:00:00Z';
    expect(await group(`sla?${asOf}&${oct1}`)).toEqual({
      key: {},
      issues: 4,
      firstResponse: clockFigures({ met: 2, breached: 1, stopped: 1 }),
      resolution: clockFigures({ met: 3, stopped: 1 }),
    });
    expect((await group(`overview?${asOf}&${oct1}`)).sla).toEqual({
      firstResponseMetRate: 2 / 3,
      resolutionMetRate: 1,
    });
  });

  it('5. withdrawn issue SLA: stops the resolution clock: neither at risk nor, later, breached', async () => {
    const aug1 = period('2026-08-01', '2026-08-02');
    await open('rp-wd', 'rp-wd-c', '2026-08-01T00:00:00.000Z', { category: 'duplicate_charge' });
    await agentContact('rp-wd', '2026-08-01T01:00:00.000Z');
    await close('rp-wd', '2026-08-01T05:00:00.000Z');

    const expected = {
      key: {},
      issues: 1,
      firstResponse: clockFigures({ met: 1 }),
      resolution: clockFigures({ stopped: 1 }),
    };
    // 70 h into the 72 h resolution target.
    expect(await group(`sla?asOf=2026-08-03T22:00:00Z&${aug1}`)).toEqual(expected);
    expect(await group(`sla?asOf=2026-09-01T00:00:00Z&${aug1}`)).toEqual(expected);
    expect(await group(`backlog?asOf=2026-08-03T22:00:00Z&${aug1}`)).toMatchObject({
      issues: 1,
      open: 0,
      byAge: { under_1d: 0, '1d_to_3d': 0, '3d_to_7d': 0, '7d_to_30d': 0, over_30d: 0 },
    });
  });

  it('5. withdrawn issue SLA: GET /issues/:id shows the resolution clock of a withdrawn issue as stopped', async () => {
    await open('rp-sum-wd', 'rp-sum-wd-c', '2026-09-12T00:00:00.000Z');
    await agentContact('rp-sum-wd', '2026-09-12T01:00:00.000Z');
    await close('rp-sum-wd', '2026-09-12T05:00:00.000Z');
    const issue = await issueSummary('rp-sum-wd');
    expect([issue.sla.firstResponse.state, issue.sla.resolution.state]).toEqual(['met', 'stopped']);
  });

  it('5. withdrawn issue SLA: a clock that ends without its event is breached if it ended after its target, else stopped', async () => {
    const sep20 = period('2026-09-20', '2026-09-21');
    const opened = '2026-09-20T00:00:00.000Z';
    // rp-end-1 normal, withdrawn at 10 h without a response: first response breached (8 h), resolution stopped.
    await open('rp-end-1', 'rp-end-c1', opened);
    await close('rp-end-1', '2026-09-20T10:00:00.000Z');
    // rp-end-2 normal, withdrawn at 2 h without a response: both stopped.
    await open('rp-end-2', 'rp-end-c2', opened);
    await close('rp-end-2', '2026-09-20T02:00:00.000Z');
    // rp-end-3 normal, response at 1 h, withdrawn at 96 h: first response met, resolution breached (72 h).
    await open('rp-end-3', 'rp-end-c3', opened);
    await agentContact('rp-end-3', '2026-09-20T01:00:00.000Z');
    await close('rp-end-3', '2026-09-24T00:00:00.000Z');

    expect(await group(`sla?asOf=2026-10-20T00:00:00Z&${sep20}`)).toEqual({
      key: {},
      issues: 3,
      firstResponse: clockFigures({ met: 1, breached: 1, stopped: 1 }),
      resolution: clockFigures({ breached: 1, stopped: 2 }),
    });
  });

  it('5. withdrawn issue SLA: churn groupBy=sla: an anchor issue withdrawn within its resolution target is `stopped`', async () => {
    const sep1 = period('2026-09-01', '2026-09-02');
    // rp-ch-1 withdrawn at 5 h (stopped), churned 2 days later; rp-ch-2 resolved at 2 h (met), retained.
    await open('rp-ch-1', 'rp-ch-c1', '2026-09-01T00:00:00.000Z');
    await agentContact('rp-ch-1', '2026-09-01T01:00:00.000Z');
    await close('rp-ch-1', '2026-09-01T05:00:00.000Z');
    await send('service', '/customers/rp-ch-c1/churn', { kind: 'voluntary' }, '2026-09-03T00:00:00.000Z');
    await open('rp-ch-2', 'rp-ch-c2', '2026-09-01T00:00:00.000Z');
    await resolve('rp-ch-2', '2026-09-01T02:00:00.000Z');

    const body = await metric(`churn?window=7&groupBy=sla&asOf=2026-10-01T00:00:00Z&${sep1}`);
    const bySla = Object.fromEntries(
      body.groups.map((g: { key: { sla: string }; customers: number; churned: number; pending: number }) => [
        g.key.sla,
        { customers: g.customers, churned: g.churned, pending: g.pending },
      ]),
    );
    expect(bySla).toEqual({
      stopped: { customers: 1, churned: 1, pending: 0 },
      met: { customers: 1, churned: 0, pending: 0 },
    });
  });

  it('6. SLA at risk: is on track at exactly 80% and at risk 1 ms later', async () => {
    const aug10 = period('2026-08-10', '2026-08-11');
    await open('rp-80', 'rp-80-c', '2026-08-10T00:00:00.000Z', { category: 'unauthorized_charge' });

    // 6 h 24 min is exactly 80% of the 8 h first-response target.
    expect(await group(`sla?asOf=2026-08-10T06:24:00Z&${aug10}`)).toEqual({
      key: {},
      issues: 1,
      firstResponse: clockFigures({ onTrack: 1 }),
      resolution: clockFigures({ onTrack: 1 }),
    });
    expect(await group(`sla?asOf=2026-08-10T06:24:00.001Z&${aug10}`)).toEqual({
      key: {},
      issues: 1,
      firstResponse: clockFigures({ atRisk: 1 }),
      resolution: clockFigures({ onTrack: 1 }),
    });
  });
});
