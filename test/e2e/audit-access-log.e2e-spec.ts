import request from 'supertest';
import { ALL_PROJECTIONS } from '@app/ledger';
import { AccessLogRecorder } from '../../libs/ledger/src/audit/access-log/access-log';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { expectCreated, get, given, post, uniqueIds, type Ids } from '../support/http';

const CARD = '4111111111111111';

describe('access log', () => {
  let h: LedgerHarness;
  let ids: Ids;
  let since: string;
  const flush = () => h.app.get(AccessLogRecorder).flush();

  beforeAll(async () => {
    h = await startLedger();
    ids = uniqueIds();
    await given.charge(h, ids);
    const opened = await given.issue(h, ids);
    await post(h, 'agent', `/issues/${ids.issue}/charges`, { chargeId: ids.charge }).then(expectCreated);
    await flush();
    since = new Date().toISOString();
    await get(h, 'agent', `/issues/${ids.issue}?minPosition=${opened.body.position}`).expect(200);
    await get(h, 'analyst', `/issues/${ids.issue}/timeline?minPosition=${opened.body.position}`).expect(200);
    await get(h, 'service', `/customers/${ids.customer}`).expect(200);
    await get(h, 'auditor', `/audit/streams/issue-${ids.issue}/events`).expect(200);
    await get(h, 'auditor', `/audit/verify?stream=charge-${ids.charge}`).expect(200);
    await get(h, 'analyst', `/charges/${ids.charge}`).expect(200); // not a read the log covers
    await get(h, 'analyst', '/issues').expect(200); // nor a list
    await request(h.server).get(`/issues/${ids.issue}`).expect(401);
    // A failed authentication whose bearer holds a card number: logged, without the bearer.
    await request(h.server)
      .get(`/issues/${ids.issue}`)
      .set('Authorization', `Bearer pil_nope_${CARD}`)
      .expect(401);
    await request(h.server)
      .get(`/issues/${CARD}`)
      .set('Authorization', `Bearer pil_nope_${CARD}`)
      .expect(422);
    await get(h, 'analyst', '/audit/verify').expect(403);
    // Path ids holding a card number are refused like query values, before authentication; the log
    // records the refusals without the ids.
    await get(h, 'auditor', `/audit/streams/issue-${CARD}/events`).expect(422);
    await get(h, 'auditor', `/audit/verify?stream=issue-${CARD}`).expect(422);
    await post(h, 'analyst', '/charges', {}).expect(403);
    await flush();
  });
  afterAll(() => h.close(true));

  const page = (query: string) => get(h, 'auditor', `/audit/access-log?from=${since}&${query}`);

  it('records covered reads and failed authentications, who, roles, route, ids, status, ip', async () => {
    const res = await page('limit=500');
    expect(res.status).toBe(200);
    const items = res.body.items as Array<Record<string, unknown>>;
    const summary = items.map((i) => `${i.method} ${i.route} ${i.status} ${i.actor}`);
    expect(summary).toEqual([
      `GET /issues/:issueId 200 ${h.keyIds.agent}`,
      `GET /issues/:issueId/timeline 200 ${h.keyIds.analyst}`,
      `GET /customers/:customerId 200 ${h.keyIds.service}`,
      `GET /audit/streams/:stream/events 200 ${h.keyIds.auditor}`,
      `GET /audit/verify 200 ${h.keyIds.auditor}`,
      'GET /issues/:issueId 401 anonymous',
      'GET /issues/:issueId 401 anonymous',
      'GET /issues/:issueId 422 anonymous',
      `GET /audit/verify 403 ${h.keyIds.analyst}`,
      'GET /audit/streams/:stream/events 422 anonymous',
      // The card-data guard answers before authentication: no key was looked at.
      'GET /audit/verify 422 anonymous',
      `POST /charges 403 ${h.keyIds.analyst}`,
    ]);
    expect(items[0]).toMatchObject({
      roles: ['agent'],
      ids: { issueId: ids.issue },
      streams: [`issue-${ids.issue}`],
      ip: expect.stringMatching(/127\.0\.0\.1|::1/),
      logStream: `accesslog-${since.slice(0, 10)}`,
      at: expect.any(String),
    });
    expect(items[3]).toMatchObject({
      streams: [`issue-${ids.issue}`],
      ids: { stream: `issue-${ids.issue}` },
    });
    expect(items[4]).toMatchObject({ streams: [`charge-${ids.charge}`] });
    expect(items[6]).toMatchObject({ ids: { issueId: ids.issue }, roles: [], status: 401 });
    expect(items[7]).toMatchObject({ ids: { issueId: '[card number]' }, streams: [], roles: [] });
    expect(items[9]).toMatchObject({ ids: { stream: '[card number]' }, streams: [] });
    expect(items[10]).toMatchObject({ status: 422, ids: {}, streams: [] });
    for (const item of items) {
      expect(Date.parse(item.at as string)).toBeGreaterThanOrEqual(Date.parse(since));
    }
  });

  it('never stores a key or a card number', async () => {
    const logged = (await h.allEvents()).filter((event) => event.stream.startsWith('accesslog-'));
    expect(logged.length).toBeGreaterThanOrEqual(9);
    const text = logged.map((event) => event.canonical).join('\n');
    // pil_<12-char id>_<secret>: the id is the actor, the secret must never appear.
    for (const key of Object.values(h.keys)) expect(text).not.toContain(key.slice(17));
    expect(text).not.toContain(CARD);
    expect(
      logged.every((event) => event.type === 'AccessRecorded' && event.metadata.actor.kind === 'system'),
    ).toBe(true);
  });

  it('filters by actor, route and stream, and pages with a cursor', async () => {
    const byActor = await page(`actor=${h.keyIds.auditor}`);
    expect(byActor.body.items.map((i: { route: string }) => i.route)).toEqual([
      '/audit/streams/:stream/events',
      '/audit/verify',
      // the filter request itself is logged only once it has answered
    ]);
    const anonymous = await page('actor=anonymous');
    expect(anonymous.body.items).toHaveLength(5);
    const byRoute = await page('route=/issues/:issueId');
    expect(byRoute.body.items.map((i: { status: number }) => i.status)).toEqual([200, 401, 401, 422]);
    const byStream = await page(`stream=issue-${ids.issue}`);
    expect(byStream.body.items.map((i: { route: string }) => i.route)).toEqual([
      '/issues/:issueId',
      '/issues/:issueId/timeline',
      '/audit/streams/:stream/events',
      '/issues/:issueId',
      '/issues/:issueId',
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(`route=/issues/:issueId&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { eventId: string }) => i.eventId));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(byRoute.body.items.map((i: { eventId: string }) => i.eventId));
    expect(pages).toBe(2);
  });

  it('reads of the access log are themselves logged, as a chained stream that verifies', async () => {
    await flush();
    const own = await page(`route=/audit/access-log&actor=${h.keyIds.auditor}`);
    expect(own.body.items.length).toBeGreaterThanOrEqual(5);
    const verified = await get(h, 'auditor', '/audit/verify').expect(200);
    expect(verified.body).toMatchObject({ ok: true, breakCount: 0 });
    const day = `accesslog-${since.slice(0, 10)}`;
    const one = await get(h, 'auditor', `/audit/verify?stream=${day}`).expect(200);
    expect(one.body.checked).toBeGreaterThanOrEqual(9);
  });

  it('refuses bad filters with 400 and other roles with 403', async () => {
    for (const query of [
      'from=yesterday',
      'to=2026-13-01T00:00:00Z',
      'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'limit=0',
      'limit=501',
      'actor=has space',
      'stream=nope',
      'cursor=abc',
      'cursor=!!',
      'color=blue',
    ]) {
      const res = await get(h, 'auditor', `/audit/access-log?${query}`);
      expect({ query, status: res.status, type: res.body.type }).toEqual({
        query,
        status: 400,
        type: '/errors/validation-failed',
      });
    }
    const foreign = Buffer.from(JSON.stringify(['2020-01-01', 0])).toString('base64url');
    expect((await page(`cursor=${foreign}`)).status).toBe(400);
    expect((await get(h, 'analyst', '/audit/access-log')).status).toBe(403);
    expect((await get(h, 'auditor', '/audit/access-log')).status).toBe(200);
    // CLI exports record actor cli:<user> and route "ledger export" (apps/ledger-cli/src/commands/export.ts).
    expect((await page('actor=cli:someone')).body).toMatchObject({ items: [], nextCursor: null });
    expect((await page('route=ledger%20export')).status).toBe(200);
    expect((await page('route=ledger%20export;drop')).status).toBe(400);
  });

  it('leaves the projections alone: every read model still equals its rebuild', async () => {
    await flush();
    for (const { name } of ALL_PROJECTIONS) {
      const report = await h.ledger.projections.rebuild(name, { compare: true });
      expect({ name, differences: report.comparison?.differenceCount }).toEqual({ name, differences: 0 });
    }
  });
});
