import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Role } from '@app/ledger';
import type { OpenedLedger } from '@app/runtime';
import type { LedgerHarness as Harness } from './ledger-harness';

/** What these helpers use of a harness, whichever profile it runs. */
type LedgerHarness = Pick<Harness<OpenedLedger>, 'server' | 'auth'>;

export function uniqueIds() {
  const s = randomBytes(5).toString('hex');
  return {
    charge: `ch_${s}`,
    refund: `re_${s}`,
    dispute: `dp_${s}`,
    issue: `is_${s}`,
    customer: `cu_${s}`,
  };
}
export type Ids = ReturnType<typeof uniqueIds>;

export function post(
  h: LedgerHarness,
  role: Role,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const req = request(h.server).post(path).set(h.auth(role)).set(headers);
  return body === undefined ? req : req.send(body as object);
}

export function get(h: LedgerHarness, role: Role, path: string) {
  return request(h.server).get(path).set(h.auth(role));
}

export async function expectCreated(res: request.Response): Promise<request.Response> {
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

/** Prerequisite commands, each asserted to succeed. */
export const given = {
  charge: (h: LedgerHarness, ids: Ids, extra: Record<string, unknown> = {}) =>
    post(h, 'service', '/charges', {
      chargeId: ids.charge,
      customerId: ids.customer,
      amount: 10000,
      currency: 'EUR',
      outcome: 'succeeded',
      ...extra,
    }).then(expectCreated),
  refund: (h: LedgerHarness, ids: Ids, amount = 2500) =>
    post(h, 'service', `/charges/${ids.charge}/refunds`, {
      refundId: ids.refund,
      amount,
      reason: 'requested_by_customer',
    }).then(expectCreated),
  approvedRefund: async (h: LedgerHarness, ids: Ids) => {
    await given.refund(h, ids);
    await post(h, 'agent', `/charges/${ids.charge}/refunds/${ids.refund}/approve`, {}).then(expectCreated);
  },
  dispute: (h: LedgerHarness, ids: Ids, kind: 'inquiry' | 'chargeback' = 'chargeback') =>
    post(h, 'service', `/charges/${ids.charge}/disputes`, {
      disputeId: ids.dispute,
      amount: 10000,
      reason: 'fraudulent',
      kind,
    }).then(expectCreated),
  issue: (h: LedgerHarness, ids: Ids) =>
    post(h, 'agent', '/issues', {
      issueId: ids.issue,
      customerId: ids.customer,
      category: 'delayed_refund',
      channel: 'email',
    }).then(expectCreated),
  resolvedIssue: async (h: LedgerHarness, ids: Ids) => {
    await given.issue(h, ids);
    await post(h, 'agent', `/issues/${ids.issue}/resolve`, { resolution: 'refunded' }).then(expectCreated);
  },
  closedIssue: async (h: LedgerHarness, ids: Ids) => {
    await given.resolvedIssue(h, ids);
    await post(h, 'agent', `/issues/${ids.issue}/close`, {}).then(expectCreated);
  },
  churned: (h: LedgerHarness, ids: Ids) =>
    post(h, 'service', `/customers/${ids.customer}/churn`, { kind: 'voluntary' }).then(expectCreated),
};
