import request from 'supertest';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, post, uniqueIds } from '../support/http';

const PROBLEM = /application\/problem\+json/;

/** Sends a command and returns its position, the consistency token for minPosition. */
async function command(h: LedgerHarness, role: Parameters<typeof post>[1], path: string, body: object = {}) {
  const res = await post(h, role, path, body).then(expectCreated);
  return res.body.position as string;
}

describe('queries over the read models (read-your-writes with minPosition)', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await startLedger();
  });
  afterAll(() => h.close(true));

  it('answers a charge summary with amounts, refunds, disputes and the stream revision as ETag', async () => {
    const ids = uniqueIds();
    await command(h, 'service', '/charges', {
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 10000,
      currency: 'EUR',
      outcome: 'succeeded',
    });
    await command(h, 'service', `/charges/${ids.charge}/refunds`, {
      refundId: ids.refund,
      amount: 2500,
      reason: 'requested_by_customer',
      dueBy: '2020-01-01T00:00:00.000Z',
    });
    const position = await command(h, 'service', `/charges/${ids.charge}/disputes`, {
      disputeId: ids.dispute,
      amount: 4000,
      reason: 'fraudulent',
      kind: 'inquiry',
    });
    const res = await get(h, 'agent', `/charges/${ids.charge}?minPosition=${position}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body).toMatchObject({
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 10000,
      outcome: 'succeeded',
      refundedAmount: 0,
      pendingRefundAmount: 2500,
      refundableAmount: 7500,
      revision: 2,
    });
    expect(res.body.refunds).toEqual([
      expect.objectContaining({ refundId: ids.refund, amount: 2500, status: 'requested', overdue: true }),
    ]);
    expect(res.body.disputes).toEqual([
      expect.objectContaining({ disputeId: ids.dispute, amount: 4000, kind: 'inquiry', status: 'open' }),
    ]);
    expect(res.body).not.toHaveProperty('lastPosition');

    const missing = await get(h, 'agent', `/charges/ch_never_${ids.charge}`);
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('/errors/charge-not-found');
  });

  it('answers an issue summary and a timeline that includes a charge linked after the fact', async () => {
    const ids = uniqueIds();
    // The charge and its refund request come before the issue exists.
    await command(h, 'service', '/charges', {
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 5000,
      currency: 'EUR',
      outcome: 'succeeded',
    });
    await command(h, 'service', `/charges/${ids.charge}/refunds`, {
      refundId: ids.refund,
      amount: 5000,
      reason: 'duplicate',
    });
    await command(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'delayed_refund',
      channel: 'chat',
      priority: 'high',
    });
    await command(h, 'agent', `/issues/${ids.issue}/assign`, { agentId: 'a-17' });
    await command(h, 'agent', `/issues/${ids.issue}/contacts`, {
      direction: 'outbound',
      channel: 'phone',
      agentId: 'a-17',
    });
    await command(h, 'agent', `/issues/${ids.issue}/charges`, { chargeId: ids.charge });
    await command(h, 'agent', `/issues/${ids.issue}/escalate`, {
      to: 'payment_provider',
      reference: 'PSP-123',
    });
    await command(h, 'service', `/charges/${ids.charge}/refunds/${ids.refund}/succeed`);
    await command(h, 'agent', `/issues/${ids.issue}/resolve`, { resolution: 'refunded' });
    await command(h, 'agent', `/issues/${ids.issue}/reopen`, { reason: 'customer still sees the charge' });
    await command(h, 'agent', `/issues/${ids.issue}/resolve`, { resolution: 'refunded' });
    const position = await command(h, 'service', `/issues/${ids.issue}/feedback`, { csat: 4 });

    const res = await get(h, 'analyst', `/issues/${ids.issue}?minPosition=${position}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"8"');
    expect(res.body).toMatchObject({
      issueId: ids.issue,
      status: 'resolved',
      category: 'delayed_refund',
      channel: 'chat',
      priority: 'high',
      customerId: ids.customer,
      assigneeId: 'a-17',
      chargeIds: [ids.charge],
      reopenCount: 1,
      csat: 4,
      revision: 8,
    });
    expect(res.body.escalations).toEqual([
      expect.objectContaining({ to: 'payment_provider', reference: 'PSP-123' }),
    ]);
    expect(res.body.firstResponseAt).toEqual(expect.any(String));
    expect(res.body.sla.firstResponse).toEqual(expect.objectContaining({ targetMinutes: 120, state: 'met' }));

    const timeline = await get(
      h,
      'analyst',
      `/issues/${ids.issue}/timeline?minPosition=${position}&limit=500`,
    );
    expect(timeline.status).toBe(200);
    const types = timeline.body.items.map((entry: { type: string }) => entry.type);
    expect(types).toEqual([
      'ChargeSucceeded',
      'RefundRequested',
      'IssueOpened',
      'IssueAssigned',
      'CustomerContacted',
      'ChargeLinked',
      'IssueEscalated',
      'RefundSucceeded',
      'IssueResolved',
      'IssueReopened',
      'IssueResolved',
      'FeedbackReceived',
    ]);
    const positions = timeline.body.items.map((entry: { position: number }) => entry.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    for (const entry of timeline.body.items) {
      expect(entry).toEqual(
        expect.objectContaining({
          stream: expect.stringMatching(/^(issue|charge)-/),
          recordedAt: expect.any(String),
          occurredAt: expect.any(String),
          actor: expect.objectContaining({ kind: expect.any(String) }),
          description: expect.any(String),
          data: expect.any(Object),
        }),
      );
    }
    const escalation = timeline.body.items.find((entry: { type: string }) => entry.type === 'IssueEscalated');
    expect(escalation.description).toMatch(/PSP-123/);
  });

  it('lists issues with every filter, pages without repeats, and exports every row as CSV', async () => {
    const ids = uniqueIds();
    const customerId = ids.customer;
    let position = '0';
    for (let i = 0; i < 5; i++) {
      position = await command(h, 'agent', '/issues', {
        issueId: `${ids.issue}_${i}`,
        customerId,
        category: i < 3 ? 'duplicate_charge' : 'other',
        channel: 'email',
        priority: i === 0 ? 'urgent' : 'normal',
        summary: i === 4 ? '=HYPERLINK("http://evil")' : `issue ${i}`,
        occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      });
    }
    position = await command(h, 'agent', `/issues/${ids.issue}_1/assign`, { agentId: 'a-2' });
    const list = (query: string) =>
      get(h, 'analyst', `/issues?customerId=${customerId}&minPosition=${position}${query}`);

    const all = await list('');
    expect(all.status).toBe(200);
    // Newest first (openedAt descending).
    expect(all.body.items.map((i: { issueId: string }) => i.issueId)).toEqual(
      [4, 3, 2, 1, 0].map((i) => `${ids.issue}_${i}`),
    );
    expect((await list('&category=duplicate_charge')).body.items).toHaveLength(3);
    expect((await list('&priority=urgent')).body.items.map((i: { issueId: string }) => i.issueId)).toEqual([
      `${ids.issue}_0`,
    ]);
    expect((await list('&assigneeId=a-2')).body.items).toHaveLength(1);
    expect((await list('&status=open&channel=email')).body.items).toHaveLength(5);
    expect((await list('&status=resolved')).body.items).toHaveLength(0);
    const window = await list('&openedFrom=2026-01-02T00:00:00.000Z&openedTo=2026-01-04T00:00:00.000Z');
    expect(window.body.items.map((i: { issueId: string }) => i.issueId)).toEqual([
      `${ids.issue}_2`,
      `${ids.issue}_1`,
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await list(`&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i: { issueId: string }) => i.issueId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((i: { issueId: string }) => i.issueId));

    const csv = await list('').set('Accept', 'text/csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0].split(',').slice(0, 3)).toEqual(['issueId', 'status', 'category']);
    expect(lines).toHaveLength(6); // every row: CSV has no default page size
    // An explicit limit is honoured (it was once ignored: 700 rows for limit=3 on the demo data).
    const first = await list('&limit=1').set('Accept', 'text/csv');
    expect(first.text.trimEnd().split('\r\n')).toEqual(lines.slice(0, 2));
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });

  it('answers a customer with churn history and issues; an unknown customer is active with ETag "-1"', async () => {
    const ids = uniqueIds();
    await command(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'billing_error',
      channel: 'phone',
    });
    const position = await command(h, 'service', `/customers/${ids.customer}/churn`, {
      kind: 'voluntary',
      reason: 'too expensive',
    });
    const res = await get(h, 'agent', `/customers/${ids.customer}?minPosition=${position}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"0"');
    expect(res.body).toMatchObject({
      customerId: ids.customer,
      status: 'churned',
      churnCount: 1,
      issueCount: 1,
    });
    expect(res.body.issues.map((i: { issueId: string }) => i.issueId)).toEqual([ids.issue]);

    const unknown = await get(h, 'agent', `/customers/cu_unknown_${ids.customer}`);
    expect(unknown.status).toBe(200);
    expect(unknown.headers.etag).toBe('"-1"');
    expect(unknown.body).toMatchObject({ status: 'active', churnCount: 0, issues: [] });
  });

  it('refuses bad query parameters with 400 and field errors', async () => {
    for (const query of [
      '/issues?limit=0',
      '/issues?limit=501',
      '/issues?status=pending',
      '/issues?colour=red',
      '/issues?minPosition=-1',
      '/issues?openedFrom=yesterday',
      // ISO-8601 forms that name no calendar instant: once answered 500.
      '/issues?openedFrom=2026-W10',
      '/issues?openedTo=2026-060',
      '/issues?cursor=%25%25',
      '/issues?cursor=bm90LWEtY3Vyc29y',
    ]) {
      const res = await get(h, 'analyst', query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(PROBLEM);
    }
  });

  it('answers 503 with Retry-After when the read models do not reach minPosition in time', async () => {
    const res = await get(h, 'analyst', '/issues?minPosition=999999999');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.type).toBe('/errors/service-unavailable');
  }, 15_000);

  it('reports every projection live in /health and /admin/projections', async () => {
    const ids = uniqueIds();
    const position = await command(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'other',
      channel: 'email',
    });
    // One read per projection with minPosition: each waits until its projections have applied the command.
    await get(h, 'analyst', `/issues/${ids.issue}/timeline?minPosition=${position}`).expect(200);
    await get(h, 'analyst', `/customers/${ids.customer}?minPosition=${position}`).expect(200);
    await get(h, 'analyst', `/charges/ch_none?minPosition=${position}`).expect(404);
    await get(h, 'analyst', `/metrics/overview?minPosition=${position}`).expect(200);
    const health = await request(h.server).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const names = health.body.projections.map((p: { name: string }) => p.name).sort();
    expect(names).toEqual([
      'charge-summary',
      'customer-summary',
      'issue-summary',
      'issue-timeline',
      'metrics',
    ]);
    const admin = await get(h, 'admin', '/admin/projections');
    expect(admin.status).toBe(200);
    for (const projection of admin.body.projections) {
      expect(BigInt(projection.position)).toBeGreaterThanOrEqual(BigInt(position));
    }
    expect((await get(h, 'agent', '/admin/projections')).status).toBe(403);
    const unknown = await post(h, 'admin', '/admin/projections/no-such/rebuild');
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/errors/projection-not-found');
  });

  it('rebuilds a projection through the admin API while it keeps serving, and compares equal', async () => {
    const ids = uniqueIds();
    const position = await command(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'declined',
      channel: 'chat',
    });
    const lastRebuild = async (name: string) => {
      for (let i = 0; i < 250; i++) {
        const admin = await get(h, 'admin', '/admin/projections');
        const entry = admin.body.projections.find((p: { name: string }) => p.name === name);
        if (entry.lastRebuild) return entry.lastRebuild;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no rebuild report for ${name}`);
    };
    const started = await post(h, 'admin', '/admin/projections/issue-summary/rebuild');
    expect(started.status).toBe(202);
    expect(await lastRebuild('issue-summary')).toMatchObject({ projection: 'issue-summary', promoted: true });
    // Still serving, from the promoted generation, and following new commands.
    await get(h, 'analyst', `/issues/${ids.issue}?minPosition=${position}`).expect(200);
    const next = await command(h, 'agent', `/issues/${ids.issue}/assign`, { agentId: 'a-9' });
    const after = await get(h, 'analyst', `/issues/${ids.issue}?minPosition=${next}`);
    expect(after.body.assigneeId).toBe('a-9');

    expect((await post(h, 'admin', '/admin/projections/issue-timeline/rebuild?compare=true')).status).toBe(
      202,
    );
    const compared = await lastRebuild('issue-timeline');
    expect(compared).toMatchObject({ promoted: false, comparison: { differenceCount: 0, differences: [] } });
    expect(compared.comparison.documents).toBeGreaterThan(10);
    expect((await post(h, 'admin', '/admin/projections/issue-summary/rebuild?compare=maybe')).status).toBe(
      400,
    );
  });
});
