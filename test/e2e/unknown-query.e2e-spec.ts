import request from 'supertest';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { given, post, uniqueIds } from '../support/http';
import { concretePath, enumerateRoutes } from '../support/routes';

const UNKNOWN_FOO = { field: 'foo', message: 'unknown field' };

/** A body each command route accepts, so that only the query can be what is refused. */
const VALID_BODIES: Record<string, object> = {
  'POST /charges': { chargeId: 'x1', customerId: 'x1', amount: 100, currency: 'EUR', outcome: 'succeeded' },
  'POST /charges/:chargeId/refunds': { refundId: 'x1', amount: 100, reason: 'requested_by_customer' },
  'POST /charges/:chargeId/refunds/:refundId/reject': { reason: 'duplicate request' },
  'POST /charges/:chargeId/refunds/:refundId/fail': { failureReason: 'declined' },
  'POST /charges/:chargeId/disputes': { disputeId: 'x1', amount: 100, reason: 'fraudulent' },
  'POST /charges/:chargeId/disputes/:disputeId/evidence': { summary: 'receipt' },
  'POST /charges/:chargeId/disputes/:disputeId/close': { outcome: 'won' },
  'POST /issues': { customerId: 'x1', category: 'delayed_refund', channel: 'email' },
  'POST /issues/:issueId/assign': { agentId: 'x1' },
  'POST /issues/:issueId/contacts': { direction: 'inbound', channel: 'email' },
  'POST /issues/:issueId/notes': { text: 'a note' },
  'POST /issues/:issueId/charges': { chargeId: 'x1' },
  'POST /issues/:issueId/escalate': { to: 'finance' },
  'POST /issues/:issueId/resolve': { resolution: 'refunded' },
  'POST /issues/:issueId/reopen': { reason: 'came back' },
  'POST /issues/:issueId/feedback': { csat: 5 },
};

describe('unknown query parameters', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await startLedger();
  });
  afterAll(() => h.close(true));

  it('are refused with 400 validation-failed naming the parameter, on every route, appending nothing', async () => {
    const routes = enumerateRoutes(h);
    expect(routes.length).toBeGreaterThanOrEqual(41);
    const head = await h.eventStore.headPosition();
    const failures: string[] = [];
    for (const route of routes) {
      const path = `${concretePath(route.path)}?foo=bar`;
      const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
      const req = request(h.server)[method](path);
      if (method !== 'get') req.send(VALID_BODIES[`${route.method} ${route.path}`] ?? {});
      const res = await req.set(h.auth('admin'));
      const named =
        Array.isArray(res.body?.errors) &&
        (res.body.errors as { field?: unknown }[]).some((error) => error.field === 'foo');
      if (
        res.status !== 400 ||
        !String(res.headers['content-type']).startsWith('application/problem+json') ||
        res.body.type !== '/errors/validation-failed' ||
        !named
      ) {
        failures.push(
          `${route.method} ${route.path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`,
        );
      }
    }
    expect(failures).toEqual([]);
    expect(await h.domainEventsAfter(head)).toEqual([]);
  });

  it('refuse a command that would otherwise be recorded, and it is recorded once corrected', async () => {
    const ids = uniqueIds();
    const body = {
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 4990,
      currency: 'EUR',
      outcome: 'succeeded',
    };
    const head = await h.eventStore.headPosition();
    const refused = await post(h, 'service', '/charges?foo=bar', body, {
      'Idempotency-Key': `k-${ids.charge}`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ type: '/errors/validation-failed', errors: [UNKNOWN_FOO] });
    expect(await h.domainEventsAfter(head)).toEqual([]);
    // A refused request is not stored under its key: the corrected retry runs.
    const corrected = await post(h, 'service', '/charges', body, { 'Idempotency-Key': `k-${ids.charge}` });
    expect(corrected.status).toBe(201);
  });

  it('on the routes that ignored them: audit events and digest, health, admin projections', async () => {
    const ids = uniqueIds();
    await given.issue(h, ids);
    for (const path of [
      `/audit/streams/issue-${ids.issue}/events?foo=bar`,
      `/audit/streams/issue-${ids.issue}/events?fromRevision=0&foo=bar`,
      '/audit/digest?foo=bar',
      '/health?foo=bar',
      '/admin/projections?foo=bar',
    ]) {
      const res = await request(h.server).get(path).set(h.auth('admin'));
      expect({ path, status: res.status, body: res.body }).toMatchObject({
        path,
        status: 400,
        body: { type: '/errors/validation-failed', status: 400, errors: [UNKNOWN_FOO] },
      });
    }
    // Without a key, the public health route refuses it too; a private route still answers 401 first.
    expect((await request(h.server).get('/health?foo=bar')).status).toBe(400);
    expect((await request(h.server).get('/admin/projections?foo=bar')).status).toBe(401);
  });

  it('a card number in an unknown parameter is still refused as card data (422), before validation', async () => {
    const res = await request(h.server).get('/health?foo=4111111111111111');
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('/errors/card-data-refused');
  });
});
