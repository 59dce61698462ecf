import { createHash } from 'node:crypto';
import { join } from 'node:path';
import request from 'supertest';
import { openSqlite } from '@app/event-store';
import { canonicalize, verifyStreamChain } from '@app/ledger';
import { startLedger, type LedgerHarness } from '../support/ledger-harness';
import { given, post, uniqueIds } from '../support/http';

const PROBLEM = /^application\/problem\+json/;

describe('command errors', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await startLedger();
  });
  afterAll(() => h.close(true));

  async function expectNothingAppended<T>(action: () => Promise<T>): Promise<T> {
    const before = await h.eventStore.headPosition();
    const result = await action();
    expect(await h.domainEventsAfter(before)).toEqual([]);
    return result;
  }

  it('is 503 with Retry-After, appending nothing, while another writer holds the storage past the wait', async () => {
    const charge = () => ({
      chargeId: ids.charge,
      customerId: 'cu_1',
      amount: 100,
      currency: 'EUR',
      outcome: 'succeeded',
    });
    const ids = uniqueIds();
    // Another process's long transaction (a rebuild's commit, say) on the same file.
    const holder = openSqlite(join(h.dataDir, 'ledger.db'));
    const before = await h.eventStore.headPosition();
    holder.exec('BEGIN IMMEDIATE');
    try {
      const res = await post(h, 'service', '/charges', charge());
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toEqual(expect.objectContaining({ type: '/errors/service-unavailable', status: 503 }));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(await h.domainEventsAfter(before)).toEqual([]);
    // The same request, sent again once the lock is free, is recorded.
    expect((await post(h, 'service', '/charges', charge())).status).toBe(201);
  }, 30_000);

  describe('invalid input is 400 with field errors and appends nothing', () => {
    const valid = () => ({
      chargeId: uniqueIds().charge,
      customerId: 'cu_1',
      amount: 100,
      currency: 'EUR',
      outcome: 'succeeded',
    });
    it.each([
      ['missing field', () => ({ ...valid(), amount: undefined }), 'amount'],
      ['unknown field', () => ({ ...valid(), color: 'blue' }), 'color'],
      ['wrong type', () => ({ ...valid(), amount: '100' }), 'amount'],
      ['bad id', () => ({ ...valid(), chargeId: 'has space' }), 'chargeId'],
      ['negative amount', () => ({ ...valid(), amount: -5 }), 'amount'],
      ['fractional amount', () => ({ ...valid(), amount: 10.5 }), 'amount'],
      ['unknown enum value', () => ({ ...valid(), outcome: 'maybe' }), 'outcome'],
      ['unknown currency', () => ({ ...valid(), currency: 'EURO' }), 'currency'],
      ['occurredAt in the future', () => ({ ...valid(), occurredAt: '2999-01-01T00:00:00Z' }), 'occurredAt'],
      ['occurredAt not a date', () => ({ ...valid(), occurredAt: 'yesterday' }), 'occurredAt'],
      // ISO-8601 forms that name no calendar instant: once answered 500.
      ['occurredAt a week date', () => ({ ...valid(), occurredAt: '2026-W10' }), 'occurredAt'],
      ['occurredAt an ordinal date', () => ({ ...valid(), occurredAt: '2026-060' }), 'occurredAt'],
    ])('%s', async (_name, body, field) => {
      const res = await expectNothingAppended(() => post(h, 'service', '/charges', body()));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toEqual(
        expect.objectContaining({
          type: '/errors/validation-failed',
          status: 400,
          title: expect.any(String),
          detail: expect.any(String),
        }),
      );
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('malformed JSON', async () => {
      const res = await expectNothingAppended(() =>
        request(h.server)
          .post('/charges')
          .set(h.auth('service'))
          .set('content-type', 'application/json')
          .send('{"chargeId": '),
      );
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('/errors/malformed-json');
    });

    it('deadlines that name no calendar instant', async () => {
      for (const [path, body, field] of [
        [
          '/charges/ch_x/refunds',
          { refundId: 'r1', amount: 1, reason: 'duplicate', dueBy: '2026-W10' },
          'dueBy',
        ],
        [
          '/charges/ch_x/disputes',
          { disputeId: 'd1', amount: 1, reason: 'fraudulent', evidenceDueBy: '2026-060' },
          'evidenceDueBy',
        ],
      ] as const) {
        const res = await expectNothingAppended(() => post(h, 'service', path, body));
        expect(res.status).toBe(400);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
      }
    });

    it('bad id in the path', async () => {
      const res = await expectNothingAppended(() =>
        post(h, 'agent', '/charges/bad%20id/refunds', { refundId: 'r1', amount: 1, reason: 'duplicate' }),
      );
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'chargeId' })]);
    });

    it('oversized body is 413', async () => {
      const res = await expectNothingAppended(() =>
        post(h, 'agent', '/issues', {
          customerId: 'c',
          category: 'other',
          channel: 'email',
          summary: 'x'.repeat(70_000),
        }),
      );
      expect(res.status).toBe(413);
      expect(res.body.type).toBe('/errors/payload-too-large');
    });

    it('a non-JSON body is 415', async () => {
      const res = await expectNothingAppended(() =>
        request(h.server)
          .post('/charges')
          .set(h.auth('service'))
          .set('content-type', 'text/plain')
          .send('hello'),
      );
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('card data is 422 and nothing is stored', () => {
    it.each([
      ['a string field', { summary: 'my card is 4111 1111 1111 1111' }],
      ['a nested unknown field', { extra: { deep: ['5555-5555-5555-4444'] } }],
      ['a key', { '4242424242424242': 1 }],
      ['a number', { amount: 4242424242424242 }],
      ['a card-named field', { cvv: '123' }],
      ['a string, beside more digits', { summary: 'card 4111111111111111 123' }],
      ['a string, grouped and beside its expiry', { summary: 'card 4111 1111 1111 1111 12/28' }],
    ])('in %s', async (_name, extra) => {
      const res = await expectNothingAppended(() =>
        post(h, 'agent', '/issues', { customerId: 'c1', category: 'other', channel: 'email', ...extra }),
      );
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('/errors/card-data-refused');
      expect(JSON.stringify(res.body)).not.toMatch(/4111|5555|4242/);
    });

    it('in a query value and in the Idempotency-Key', async () => {
      const q = await request(h.server).get('/charges/ch_1?note=4111111111111111').set(h.auth('service'));
      expect(q.status).toBe(422);
      const k = await expectNothingAppended(() =>
        post(
          h,
          'agent',
          '/issues',
          { customerId: 'c1', category: 'other', channel: 'email' },
          { 'Idempotency-Key': '4111111111111111' },
        ),
      );
      expect(k.status).toBe(422);
    });

    it('in a path id: no stream, no event and no idempotency record holds it', async () => {
      const churn = await expectNothingAppended(() =>
        post(h, 'service', '/customers/4111111111111111/churn', { kind: 'voluntary' }),
      );
      expect(churn.status).toBe(422);
      expect(churn.body.type).toBe('/errors/card-data-refused');
      const refund = await expectNothingAppended(() =>
        post(
          h,
          'service',
          '/charges/4111-1111-1111-1111/refunds',
          { refundId: 're_1', amount: 1, reason: 'duplicate' },
          { 'Idempotency-Key': 'pan-in-path' },
        ),
      );
      expect(refund.status).toBe(422);
      expect(JSON.stringify([churn.body, refund.body])).not.toMatch(/4111/);
      const db = openSqlite(join(h.dataDir, 'ledger.db'), { readonly: true });
      try {
        const answers = db.prepare('SELECT body FROM idempotency').all() as Array<{ body: string }>;
        expect(answers.filter((row) => row.body.includes('4111'))).toEqual([]);
        expect(db.prepare("SELECT stream FROM streams WHERE stream LIKE '%4111%'").all()).toEqual([]);
      } finally {
        db.close();
      }
    });

    it.each(['X-Agent-Id', 'X-Correlation-Id', 'X-Causation-Id'])(
      'in the %s header, which events would keep',
      async (header) => {
        const res = await expectNothingAppended(() =>
          post(
            h,
            'service',
            '/charges',
            {
              chargeId: uniqueIds().charge,
              customerId: 'cu_1',
              amount: 100,
              currency: 'EUR',
              outcome: 'succeeded',
            },
            { [header]: '4111111111111111' },
          ),
        );
        expect(res.status).toBe(422);
        expect(res.body).toEqual(
          expect.objectContaining({ type: '/errors/card-data-refused', at: `header/${header}` }),
        );
      },
    );
  });

  describe('what no DTO can check is 400 problem+json and appends nothing', () => {
    const issueBody = { customerId: 'c1', category: 'other', channel: 'email' };
    const raw = (text: string) =>
      expectNothingAppended(() =>
        request(h.server)
          .post('/issues')
          .set(h.auth('agent'))
          .set('content-type', 'application/json')
          .send(text),
      );
    const expectFieldError = (res: request.Response, field: string, message: RegExp) => {
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toBe('/errors/validation-failed');
      expect(res.body.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    };

    it('a lone surrogate in a value or a key (not I-JSON, so it could not be hashed)', async () => {
      // The JSON escapes as sent: \ud800 alone, \udc00 alone.
      for (const text of ['x\\ud800', 'x\\udc00y']) {
        const res = await raw(`{"customerId":"c1","category":"other","channel":"email","summary":"${text}"}`);
        expectFieldError(res, 'summary', /lone surrogate/);
      }
      const inKey = await raw('{"customerId":"c1","category":"other","channel":"email","a\\ud800":1}');
      expect(inKey.status).toBe(400);
      expect(inKey.body.errors[0].message).toMatch(/lone surrogate/);
      // A well-formed pair is fine.
      const pair = await post(h, 'agent', '/issues', { ...issueBody, summary: 'smile \ud83d\ude00' });
      expect(pair.status).toBe(201);
    });

    it('a body nested thousands deep', async () => {
      const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
      expect((await raw(deep(3000))).status).toBe(400);
      const res = await raw(`{"customerId":"c1","category":"other","channel":"email","x":${deep(5000)}}`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.errors[0].message).toMatch(/nested deeper than 32/);
      expect((await raw(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`)).status).toBe(400);
    });

    it('a card number is refused first (422), under an inherited name or in a body too deep to walk', async () => {
      const underProto = await raw(
        '{"customerId":"c1","category":"other","channel":"email","__proto__":{"x":"4111111111111111"}}',
      );
      expect(underProto.status).toBe(422);
      expect(underProto.body.type).toBe('/errors/card-data-refused');
      const deep = await raw(`${'['.repeat(3000)}"4111 1111 1111 1111"${']'.repeat(3000)}`);
      expect(deep.status).toBe(422);
    });

    it.each(['constructor', '__proto__', 'hasOwnProperty', 'toString', 'prototype'])(
      'a field named %s, which the whitelist cannot see, is an unknown field',
      async (name) => {
        const res = await raw(`{"customerId":"c1","category":"other","channel":"email","${name}":{"a":[1]}}`);
        expectFieldError(res, name, /^unknown field$/);
      },
    );

    it.each(['9007199254740993', '1e21'])('an amount of %s, beyond exact integers', async (amount) => {
      const chargeId = uniqueIds().charge;
      const res = await expectNothingAppended(() =>
        request(h.server)
          .post('/charges')
          .set(h.auth('service'))
          .set('content-type', 'application/json')
          .send(
            `{"chargeId":"${chargeId}","customerId":"cu_1","amount":${amount},"currency":"EUR","outcome":"succeeded"}`,
          ),
      );
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['amount']);
    });
  });

  describe('authentication and roles', () => {
    it('missing key is 401', async () => {
      const res = await request(h.server).post('/charges').send({});
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });
    it('unknown key is 401', async () => {
      const res = await request(h.server)
        .post('/charges')
        .set('Authorization', 'Bearer pil_nope_nope')
        .send({});
      expect(res.status).toBe(401);
    });
    it('wrong role is 403 and appends nothing', async () => {
      const ids = uniqueIds();
      const res = await expectNothingAppended(() =>
        post(h, 'analyst', '/charges', {
          chargeId: ids.charge,
          customerId: 'c',
          amount: 1,
          currency: 'EUR',
          outcome: 'succeeded',
        }),
      );
      expect(res.status).toBe(403);
      expect(res.body.type).toBe('/errors/forbidden');
      expect(res.body.detail).toBe('This route needs one of the roles: admin, service');
      // An admin-only route names admin once.
      const admin = await post(h, 'analyst', '/admin/projections/issue-summary/retry', {});
      expect(admin.status).toBe(403);
      expect(admin.body.detail).toBe('This route needs one of the roles: admin');
    });
  });

  describe('domain answers', () => {
    it('a broken rule is 409 with a stable type', async () => {
      const ids = uniqueIds();
      await given.charge(h, ids);
      const res = await expectNothingAppended(() =>
        post(h, 'agent', `/charges/${ids.charge}/refunds`, {
          refundId: ids.refund,
          amount: 10001,
          reason: 'duplicate',
        }),
      );
      expect(res.status).toBe(409);
      expect(res.body.type).toBe('/errors/refund-exceeds-refundable');
    });

    it('a rule whose details name the aggregate status keeps the HTTP status 409 (status is not overwritten)', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const reopen = await post(h, 'agent', `/issues/${ids.issue}/reopen`, { reason: 'not resolved yet' });
      expect(reopen.status).toBe(409);
      expect(reopen.body).toMatchObject({
        type: '/errors/issue-not-resolved',
        status: 409,
        currentStatus: 'open',
      });
      await given.charge(h, ids);
      await given.dispute(h, ids);
      await post(h, 'service', `/charges/${ids.charge}/disputes/${ids.dispute}/close`, { outcome: 'lost' });
      const evidence = await post(h, 'agent', `/charges/${ids.charge}/disputes/${ids.dispute}/evidence`, {
        summary: 'too late',
      });
      expect(evidence.status).toBe(409);
      expect(evidence.body.type).toBe('/errors/dispute-closed');
    });

    it('resolving a closed issue is 409', async () => {
      const ids = uniqueIds();
      await given.closedIssue(h, ids);
      const res = await post(h, 'agent', `/issues/${ids.issue}/resolve`, { resolution: 'explained' });
      expect(res.status).toBe(409);
      expect(res.body.type).toBe('/errors/issue-closed');
    });

    it.each([
      [
        'charge',
        (ids: ReturnType<typeof uniqueIds>) => `/charges/${ids.charge}/refunds`,
        { refundId: 'r1', amount: 1, reason: 'duplicate' },
        'charge-not-found',
      ],
      [
        'issue',
        (ids: ReturnType<typeof uniqueIds>) => `/issues/${ids.issue}/notes`,
        { text: 'hi' },
        'issue-not-found',
      ],
    ])('an unknown %s is 404', async (_kind, path, body, type) => {
      const res = await expectNothingAppended(() => post(h, 'agent', path(uniqueIds()), body));
      expect(res.status).toBe(404);
      expect(res.body.type).toBe(`/errors/${type}`);
    });

    it('an unknown refund is 404', async () => {
      const ids = uniqueIds();
      await given.charge(h, ids);
      const res = await post(h, 'service', `/charges/${ids.charge}/refunds/nope/succeed`, {});
      expect(res.status).toBe(404);
      expect(res.body.type).toBe('/errors/refund-not-found');
    });

    it('linking an unknown charge is 404', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const res = await post(h, 'agent', `/issues/${ids.issue}/charges`, { chargeId: 'ch_missing' });
      expect(res.status).toBe(404);
      expect(res.body.type).toBe('/errors/charge-not-found');
    });

    it('a repeated provider fact is 200 with changed: false; other content under the same id is 409', async () => {
      const ids = uniqueIds();
      const first = await given.charge(h, ids);
      const again = await expectNothingAppended(() =>
        post(h, 'service', '/charges', {
          chargeId: ids.charge,
          customerId: ids.customer,
          amount: 10000,
          currency: 'EUR',
          outcome: 'succeeded',
        }),
      );
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, changed: false });
      const other = await post(h, 'service', '/charges', {
        chargeId: ids.charge,
        customerId: ids.customer,
        amount: 999,
        currency: 'EUR',
        outcome: 'succeeded',
      });
      expect(other.status).toBe(409);
    });
  });

  describe('optimistic concurrency', () => {
    it('a stale If-Match is 412 with the current revision; a matching one succeeds', async () => {
      const ids = uniqueIds();
      const opened = await given.issue(h, ids);
      const stale = await expectNothingAppended(() =>
        post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'x' }, { 'If-Match': '"5"' }),
      );
      expect(stale.status).toBe(412);
      expect(stale.body).toEqual(
        expect.objectContaining({ type: '/errors/precondition-failed', currentRevision: 0 }),
      );
      // The ETag comes from the read model: read-your-writes with the command's position.
      const current = await request(h.server)
        .get(`/issues/${ids.issue}?minPosition=${opened.body.position}`)
        .set(h.auth('agent'));
      expect(current.headers.etag).toBe('"0"');
      const ok = await post(
        h,
        'agent',
        `/issues/${ids.issue}/notes`,
        { text: 'x' },
        { 'If-Match': current.headers.etag },
      );
      expect(ok.status).toBe(201);
      expect(ok.body.revision).toBe(1);
    });

    it('If-Match "-1" creates a customer stream only when it does not exist', async () => {
      const ids = uniqueIds();
      const res = await post(h, 'service', `/customers/${ids.customer}/churn`, {}, { 'If-Match': '"-1"' });
      expect(res.status).toBe(201);
      const again = await post(
        h,
        'service',
        `/customers/${ids.customer}/reactivate`,
        {},
        { 'If-Match': '"-1"' },
      );
      expect(again.status).toBe(412);
    });

    it('If-Match is a quoted revision (weak or not, or bare); unbalanced quotes and leading zeros are 400', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const note = (ifMatch: string) =>
        post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'x' }, { 'If-Match': ifMatch });
      for (const malformed of ['"0', '0"', '"00"', '01', 'W/"0', '"1 "']) {
        const res = await expectNothingAppended(() => note(malformed));
        expect({ malformed, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
          malformed,
          status: 400,
          field: 'If-Match',
        });
      }
      expect((await note('"0"')).status).toBe(201);
      expect((await note('W/"1"')).status).toBe(201);
      expect((await note('2')).status).toBe(201);
    });
  });

  describe('idempotency', () => {
    it('a retry with the same key and body returns the first response byte for byte and appends nothing', async () => {
      const ids = uniqueIds();
      const body = { customerId: ids.customer, category: 'payment_failed', channel: 'web_form' };
      const first = await post(h, 'agent', '/issues', body, { 'Idempotency-Key': `k-${ids.issue}` });
      expect(first.status).toBe(201);
      expect(first.body.issueId).toEqual(expect.any(String));
      const retry = await expectNothingAppended(() =>
        post(h, 'agent', '/issues', body, { 'Idempotency-Key': `k-${ids.issue}` }),
      );
      expect(retry.status).toBe(201);
      expect(retry.text).toBe(first.text);
    });

    it('the same key with another body is 422', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const key = { 'Idempotency-Key': `note-${ids.issue}` };
      expect((await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key)).status).toBe(201);
      const res = await expectNothingAppended(() =>
        post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'b' }, key),
      );
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('/errors/idempotency-key-reused');
    });

    it("the same key and body on another resource of the route is 422, not the first one's answer", async () => {
      const a = uniqueIds();
      const b = uniqueIds();
      await given.charge(h, a);
      await given.charge(h, b);
      const key = { 'Idempotency-Key': `refund-${a.charge}` };
      const body = { refundId: a.refund, amount: 100, reason: 'duplicate' };
      const first = await post(h, 'service', `/charges/${a.charge}/refunds`, body, key);
      expect(first.status).toBe(201);
      const other = await expectNothingAppended(() =>
        post(h, 'service', `/charges/${b.charge}/refunds`, body, key),
      );
      expect(other.status).toBe(422);
      expect(other.body.type).toBe('/errors/idempotency-key-reused');
      // The first resource still replays.
      const retry = await post(h, 'service', `/charges/${a.charge}/refunds`, body, key);
      expect(retry.text).toBe(first.text);
    });

    it('a record written before path ids were compared (body hash only) still replays', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const key = { 'Idempotency-Key': `legacy-${ids.issue}` };
      const first = await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key);
      expect(first.status).toBe(201);
      const db = openSqlite(join(h.dataDir, 'ledger.db'));
      try {
        const bodyHash = createHash('sha256')
          .update(canonicalize({ text: 'a' }))
          .digest('hex');
        const update = db.prepare(
          "UPDATE idempotency SET request_hash = ? WHERE json_extract(answer, '$.stream') = ?",
        );
        expect(update.run(bodyHash, `issue-${ids.issue}`).changes).toBe(1);
      } finally {
        db.close();
      }
      const retry = await expectNothingAppended(() =>
        post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key),
      );
      expect(retry.status).toBe(201);
      expect(retry.text).toBe(first.text);
    });

    it('a record kept as its body text (written before answers were kept as data) still replays', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const key = { 'Idempotency-Key': `text-${ids.issue}` };
      const first = await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key);
      expect(first.status).toBe(201);
      const db = openSqlite(join(h.dataDir, 'ledger.db'));
      try {
        const toText = db.prepare(
          "UPDATE idempotency SET body = ?, answer = NULL WHERE json_extract(answer, '$.stream') = ?",
        );
        expect(toText.run(first.text, `issue-${ids.issue}`).changes).toBe(1);
      } finally {
        db.close();
      }
      const retry = await expectNothingAppended(() =>
        post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key),
      );
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replay']).toBe('true');
      expect(retry.text).toBe(first.text);
    });

    it('a replay is rendered from the stored answer, with the first answer’s member order whatever the storage kept', async () => {
      const ids = uniqueIds();
      const key = { 'Idempotency-Key': `order-${ids.issue}` };
      const body = { customerId: ids.customer, category: 'payment_failed', channel: 'web_form' };
      const first = await post(h, 'agent', '/issues', body, key);
      expect(first.status).toBe(201);
      expect(Object.keys(first.body)).toEqual(['stream', 'revision', 'position', 'issueId']);
      const db = openSqlite(join(h.dataDir, 'ledger.db'));
      try {
        // A store that keeps documents with sorted members (MongoDB may) must not change the bytes replayed.
        const sorted = db.prepare(
          "UPDATE idempotency SET answer = json(?) WHERE json_extract(answer, '$.stream') = ?",
        );
        const stored = db
          .prepare<[string], { answer: string }>(
            "SELECT answer FROM idempotency WHERE json_extract(answer, '$.stream') = ?",
          )
          .get(`issue-${first.body.issueId}`)!;
        expect(
          sorted.run(canonicalize(JSON.parse(stored.answer)), `issue-${first.body.issueId}`).changes,
        ).toBe(1);
      } finally {
        db.close();
      }
      const retry = await expectNothingAppended(() => post(h, 'agent', '/issues', body, key));
      expect(retry.text).toBe(first.text);
    });

    it('a key held by a request in flight in another process is 409 idempotency-key-in-use; a claim left by a crash lapses', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const key = `held-${ids.issue}`;
      const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
      // Another ledger process on the same file, half-way through a request with this key.
      const other = openSqlite(join(h.dataDir, 'ledger.db'));
      try {
        const { id } = other
          .prepare<[string], { id: string }>('SELECT id FROM api_keys WHERE secret_hash = ?')
          .get(sha256(h.keys.agent))!;
        const scope = sha256(canonicalize([id, 'POST', '/issues/:issueId/notes', key]));
        other
          .prepare('INSERT INTO idempotency_claims (scope, holder, expires_at) VALUES (?, ?, ?)')
          .run(scope, 'another-process', '2999-01-01T00:00:00.000Z');
        const held = await expectNothingAppended(() =>
          post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, { 'Idempotency-Key': key }),
        );
        expect(held.status).toBe(409);
        expect(held.body.type).toBe('/errors/idempotency-key-in-use');
        // That process crashed: its claim expires and a retry runs the command once.
        other
          .prepare('UPDATE idempotency_claims SET expires_at = ? WHERE scope = ?')
          .run('2000-01-01T00:00:00.000Z', scope);
        const retried = await post(
          h,
          'agent',
          `/issues/${ids.issue}/notes`,
          { text: 'a' },
          { 'Idempotency-Key': key },
        );
        expect(retried.status).toBe(201);
        expect(other.prepare('SELECT * FROM idempotency_claims WHERE scope = ?').get(scope)).toBeUndefined();
      } finally {
        other.close();
      }
    });

    describe('when the record was never written (lost between the append and its write)', () => {
      const forgetRecordsOf = (stream: string) => {
        const db = openSqlite(join(h.dataDir, 'ledger.db'));
        try {
          return db.prepare("DELETE FROM idempotency WHERE json_extract(answer, '$.stream') = ?").run(stream)
            .changes;
        } finally {
          db.close();
        }
      };

      it('a retry is answered from the events the command appended, byte for byte, and the record is rebuilt', async () => {
        const ids = uniqueIds();
        const key = { 'Idempotency-Key': `lost-${ids.issue}` };
        const body = {
          customerId: ids.customer,
          category: 'payment_failed',
          channel: 'web_form',
          summary: 'Zoë',
        };
        const first = await post(h, 'agent', '/issues', body, key);
        expect(first.status).toBe(201);
        expect(forgetRecordsOf(`issue-${first.body.issueId}`)).toBe(1);
        const retry = await expectNothingAppended(() => post(h, 'agent', '/issues', body, key));
        expect(retry.status).toBe(201);
        expect(retry.headers['idempotent-replay']).toBe('true');
        expect(retry.text).toBe(first.text);
        // Rebuilt: the next retry is answered from the record.
        expect(forgetRecordsOf(`issue-${first.body.issueId}`)).toBe(1);
      });

      it('the same key with another request is 422, decided on the events', async () => {
        const ids = uniqueIds();
        await given.issue(h, ids);
        const key = { 'Idempotency-Key': `lost-note-${ids.issue}` };
        const first = await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key);
        expect(first.status).toBe(201);
        expect(forgetRecordsOf(`issue-${ids.issue}`)).toBe(1);
        const reused = await expectNothingAppended(() =>
          post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'b' }, key),
        );
        expect(reused.status).toBe(422);
        expect(reused.body.type).toBe('/errors/idempotency-key-reused');
        // A retry after a later command on the stream (and with an If-Match now stale) still finds it.
        expect((await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'later' })).status).toBe(201);
        const retry = await expectNothingAppended(() =>
          post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, { ...key, 'If-Match': '"0"' }),
        );
        expect(retry.status).toBe(201);
        expect(retry.text).toBe(first.text);
      });

      it('the events carry the scope and an HMAC fingerprint of the request, not a plain hash of its text', async () => {
        const ids = uniqueIds();
        await given.issue(h, ids);
        const key = { 'Idempotency-Key': `meta-${ids.issue}` };
        expect((await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'Zoë' }, key)).status).toBe(201);
        const [note] = await h.eventStore.readStream(`issue-${ids.issue}`, { fromRevision: 1 });
        expect(note.metadata).toMatchObject({
          idempotencyKey: `meta-${ids.issue}`,
          idempotencyScope: expect.stringMatching(/^[0-9a-f]{64}$/),
          requestFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        const plain = (text: string) => createHash('sha256').update(text).digest('hex');
        const request = { body: { text: 'Zoë' }, params: { issueId: ids.issue } };
        expect(note.metadata.requestFingerprint).not.toBe(plain(canonicalize(request)));
        expect(note.metadata.requestFingerprint).not.toBe(plain(canonicalize(request.body)));
        expect(verifyStreamChain(await h.eventStore.readStream(`issue-${ids.issue}`)).ok).toBe(true);
      });
    });

    it('a domain answer is replayed; a validation failure is not stored', async () => {
      const ids = uniqueIds();
      const key = { 'Idempotency-Key': `miss-${ids.issue}` };
      const first = await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key);
      expect(first.status).toBe(404);
      await given.issue(h, ids);
      const replay = await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'a' }, key);
      expect(replay.status).toBe(404);
      expect(replay.text).toBe(first.text);

      const key2 = { 'Idempotency-Key': `fix-${ids.issue}` };
      expect((await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: '' }, key2)).status).toBe(400);
      expect((await post(h, 'agent', `/issues/${ids.issue}/notes`, { text: 'fixed' }, key2)).status).toBe(
        201,
      );
    });

    it('keys are scoped per API key', async () => {
      const ids = uniqueIds();
      await given.issue(h, ids);
      const key = { 'Idempotency-Key': `scope-${ids.issue}` };
      expect((await post(h, 'agent', `/issues/${ids.issue}/close`, {}, key)).status).toBe(201);
      const other = await post(h, 'service', `/issues/${ids.issue}/close`, {}, key);
      expect(other.status).toBe(200);
      expect(other.body.changed).toBe(false);
    });
  });
});
