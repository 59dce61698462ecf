import request from 'supertest';
import { revokeApiKey, type Role } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, post } from '../support/http';

const PROBLEM = /application\/problem\+json/;
const AS_OF = '2026-06-01T00:00:00.000Z';
const day = (n: number, hhmm = '09:00') => new Date(Date.UTC(2026, 3, n) + hm(hhmm)).toISOString();
function hm(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return (hours * 60 + minutes) * 60_000;
}

/**
 * Answers that each, on the demo data, could be read wrong (issue 20, item 3): every test here failed
 * before the change it covers.
 */
describe('answers that cannot mislead', () => {
  let h: LedgerHarness;
  let last = '0';
  const send = async (role: Role, path: string, body: Record<string, unknown>, occurredAt?: string) => {
    const res = await post(h, role, path, { ...body, ...(occurredAt ? { occurredAt } : {}) }).then(
      expectCreated,
    );
    last = res.body.position as string;
    return res;
  };
  const openIssue = (issueId: string, customerId: string, category: string, when: string) =>
    send('agent', '/issues', { issueId, customerId, category, channel: 'email', priority: 'normal' }, when);

  beforeAll(async () => {
    h = await startLedger();
    // Backlog: R resolved; O open; X resolved then reopened (open again); W withdrawn (closed unresolved)
    // twice. Open at AS_OF: O and X; without a first resolution by then: O, W1, W2.
    await openIssue('R', 'cu_r', 'billing_error', day(1));
    await send('agent', '/issues/R/resolve', { resolution: 'explained' }, day(2));
    await openIssue('O', 'cu_o', 'billing_error', day(1));
    await openIssue('X', 'cu_x', 'billing_error', day(1));
    await send('agent', '/issues/X/resolve', { resolution: 'explained' }, day(1, '12:00'));
    await send('agent', '/issues/X/reopen', { reason: 'still charged' }, day(3));
    for (const id of ['W1', 'W2']) {
      await openIssue(id, `cu_${id}`, 'billing_error', day(1));
      await send('agent', `/issues/${id}/close`, {}, day(2));
    }
    // Churn: cu_c's first issue is a billing error (day 1), a declined payment follows (day 5), and the
    // customer churns on day 34: 33 days after the first issue, 29 after the declined one.
    await openIssue('C1', 'cu_c', 'billing_error', day(1, '10:00'));
    await openIssue('C2', 'cu_c', 'declined', day(5));
    await send('service', '/customers/cu_c/churn', { kind: 'voluntary' }, day(34));
  });
  afterAll(() => h.close(true));

  const metric = (path: string) =>
    get(h, 'analyst', `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}`);

  describe('the overview', () => {
    it('counts open issues once, as the backlog does, and names the unresolved apart', async () => {
      const res = await metric(`/metrics/overview?asOf=${AS_OF}&category=billing_error`);
      expect(res.status).toBe(200);
      const [group] = res.body.groups;
      // R, O, X, W1, W2 and C1.
      expect(group).toMatchObject({ issues: 6, resolved: 2, open: 3, unresolved: 4 });
      expect(group.open).toBe(group.backlog.open);
      const resolution = await metric(`/metrics/resolution-time?asOf=${AS_OF}&category=billing_error`);
      expect(resolution.body.groups[0]).toMatchObject({ issues: 6, resolved: 2, open: 3, unresolved: 4 });
    });

    it('gives every duration a humanized reading beside its seconds', async () => {
      const res = await metric(`/metrics/overview?asOf=${AS_OF}&category=billing_error`);
      const [group] = res.body.groups;
      // R took 1 day; X 3 hours; the rest are censored, so the median is not reached.
      expect(group.resolutionTime).toEqual({
        median: null,
        p90: null,
        humanized: { median: null, p90: null },
      });
      expect(group.backlog.humanized).toEqual({
        medianAgeSeconds: expect.stringMatching(/^\d+d \d\d:\d\d:\d\d$/),
      });
      const all = await metric(`/metrics/overview?asOf=${AS_OF}&category=declined`);
      expect(all.body.groups[0].backlog).toEqual({
        open: 1,
        // C2, opened on 5 April 09:00, at 1 June 00:00.
        medianAgeSeconds: 56 * 86_400 + 15 * 3600,
        humanized: { medianAgeSeconds: '56d 15:00:00' },
      });
    });
  });

  describe('relative periods', () => {
    it('reads from=-P30D as 30 days back from asOf, the same answer as the instant', async () => {
      const relative = await metric(`/metrics/backlog?asOf=${AS_OF}&from=-P60D&to=-P0D`);
      expect(relative.status).toBe(200);
      const absolute = await metric(
        `/metrics/backlog?asOf=${AS_OF}&from=2026-04-02T00:00:00.000Z&to=${AS_OF}`,
      );
      expect(relative.body.from).toBe('2026-04-02T00:00:00.000Z');
      expect(relative.body.to).toBe(AS_OF);
      expect(relative.body.groups).toEqual(absolute.body.groups);
      // Months are calendar months, clamped to the month's end: 31 May − 3 months = 28 February.
      const months = await metric(`/metrics/backlog?asOf=2026-05-31T12:00:00Z&from=-P3M`);
      expect(months.body.from).toBe('2026-02-28T12:00:00.000Z');
      const mixed = await metric(`/metrics/churn?asOf=${AS_OF}&from=-P1W2DT3H`);
      expect(mixed.body.from).toBe('2026-05-22T21:00:00.000Z');
    });

    it.each(['P30D', '-P30X', '-P', '-PT', '-P1.5D', '-30D', '-P9999999D'])(
      'refuses from=%s with a 400 problem that says what is expected',
      async (from) => {
        const res = await metric(`/metrics/overview?asOf=${AS_OF}&from=${encodeURIComponent(from)}`);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.errors).toEqual([{ field: 'from', message: expect.stringContaining('-P30D') }]);
      },
    );

    it('refuses a relative period that reaches past the dates the ledger can represent', async () => {
      const res = await metric(`/metrics/overview?asOf=${AS_OF}&from=-P300000Y`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors[0].field).toBe('from');
    });
  });

  describe('churn after a declined payment', () => {
    it('names the anchor in the filtered and in the grouped answer, which count different customers', async () => {
      const filtered = await metric(`/metrics/churn?asOf=${AS_OF}&category=declined`);
      expect(filtered.status).toBe(200);
      expect(filtered.body.churnAnchor).toEqual({
        rule: 'first-issue-in-period',
        matching: { category: 'declined', channel: null, priority: null },
        description: expect.stringContaining('matches category=declined'),
      });
      expect(filtered.body.groups[0]).toMatchObject({ customers: 1, churned: 1 });

      const grouped = await metric(`/metrics/churn?asOf=${AS_OF}&groupBy=category`);
      expect(grouped.body.churnAnchor).toEqual({
        rule: 'first-issue-in-period',
        matching: { category: null, channel: null, priority: null },
        description: expect.stringContaining('of any kind'),
      });
      // cu_c counts under its first issue's category, where it did not churn within 30 days.
      const declined = grouped.body.groups.find(
        (group: { key: { category: string } }) => group.key.category === 'declined',
      );
      expect(declined).toBeUndefined();
      const billing = grouped.body.groups.find(
        (group: { key: { category: string } }) => group.key.category === 'billing_error',
      );
      expect(billing).toMatchObject({ customers: 6, churned: 0 });
      const overview = await metric(`/metrics/overview?asOf=${AS_OF}&category=declined`);
      expect(overview.body.churnAnchor).toEqual(filtered.body.churnAnchor);
    });
  });

  describe('shapes', () => {
    it('gives the timeline positions as strings, like every other route', async () => {
      const res = await get(h, 'agent', `/issues/X/timeline?minPosition=${last}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0);
      for (const item of res.body.items) expect(item.position).toMatch(/^[1-9]\d*$/);
      const events = await get(h, 'auditor', '/audit/streams/issue-X/events');
      expect(res.body.items.map((item: { position: string }) => item.position)).toEqual(
        events.body.items.map((event: { position: string }) => event.position),
      );
    });

    it('calls the amount lost to disputes lostDisputeAmount in the replay, as GET /charges/:id does', async () => {
      await send('service', '/charges', {
        chargeId: 'ch_lost',
        customerId: 'cu_lost',
        amount: 10000,
        currency: 'EUR',
        outcome: 'succeeded',
      });
      await send('service', '/charges/ch_lost/disputes', {
        disputeId: 'dp_1',
        amount: 4000,
        reason: 'fraudulent',
      });
      await send('service', '/charges/ch_lost/disputes/dp_1/close', { outcome: 'lost' });
      const charge = await get(h, 'agent', `/charges/ch_lost?minPosition=${last}`);
      expect(charge.body.lostDisputeAmount).toBe(4000);
      const replay = await get(h, 'auditor', '/audit/streams/charge-ch_lost/state');
      expect(replay.status).toBe(200);
      expect(replay.body.state.lostDisputeAmount).toBe(4000);
      // The decider's own name stays (answers gain fields, never lose them).
      expect(replay.body.state.disputeLossAmount).toBe(4000);
    });

    it('names the actor from its API key, revoked keys too, and never stores the name', async () => {
      const service = await post(h, 'service', '/charges', {
        chargeId: 'ch_named',
        customerId: 'cu_named',
        amount: 500,
        currency: 'EUR',
        outcome: 'succeeded',
      }).then(expectCreated);
      await send('agent', '/issues', {
        issueId: 'N',
        customerId: 'cu_named',
        category: 'billing_error',
        channel: 'email',
        chargeIds: ['ch_named'],
      });
      expect(await revokeApiKey(h.ledger.adapters.apiKeys, h.keyIds.service)).toBe(true);

      const timeline = await get(h, 'agent', `/issues/N/timeline?minPosition=${last}`);
      expect(
        timeline.body.items.map((item: { type: string; actorName: string }) => [item.type, item.actorName]),
      ).toEqual([
        ['ChargeSucceeded', 'test-service'],
        ['IssueOpened', 'test-agent'],
      ]);
      const events = await get(h, 'auditor', '/audit/streams/charge-ch_named/events');
      expect(events.body.items[0]).toMatchObject({
        position: service.body.position,
        actorName: 'test-service',
        metadata: { actor: { id: h.keyIds.service } },
      });
      expect(events.body.items[0].metadata).not.toHaveProperty('actorName');
      const stored = (await h.allEvents()).filter((event) => event.stream === 'charge-ch_named');
      expect(JSON.stringify(stored.map((event) => event.metadata))).not.toContain('test-service');
    });
  });

  describe('issues as CSV', () => {
    const csv = (path: string) =>
      request(h.server).get(path).set(h.auth('analyst')).set('accept', 'text/csv');
    const lines = (text: string) => text.trimEnd().split('\r\n');

    it('honours an explicit limit, has no default cap, and answers format=csv the same', async () => {
      for (let n = 0; n < 52; n++) {
        await openIssue(`L${n}`, `cu_l${n}`, 'delayed_refund', day(6));
      }
      const all = await csv(`/issues?category=delayed_refund&minPosition=${last}`);
      expect(all.status).toBe(200);
      expect(all.headers['content-type']).toMatch(/^text\/csv/);
      expect(lines(all.text)).toHaveLength(1 + 52);
      const three = await csv('/issues?category=delayed_refund&limit=3');
      expect(lines(three.text)).toHaveLength(1 + 3);
      expect(lines(three.text)).toEqual(lines(all.text).slice(0, 4));
      const viaFormat = await get(h, 'analyst', '/issues?category=delayed_refund&limit=3&format=csv');
      expect(viaFormat.headers['content-type']).toMatch(/^text\/csv/);
      expect(viaFormat.text).toBe(three.text);
      const json = await get(h, 'analyst', '/issues?category=delayed_refund&limit=3&format=json');
      expect(json.body.items).toHaveLength(3);
      const bad = await get(h, 'analyst', '/issues?format=xml');
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toMatch(PROBLEM);
    });
  });
});
