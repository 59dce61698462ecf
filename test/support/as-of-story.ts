import type { LedgerHarness } from './ledger-harness';
import { expectCreated, post, uniqueIds, type Ids } from './http';

/** An instant strictly between the command answered before and the one sent after. */
export async function instantBetween(): Promise<string> {
  const at = new Date().toISOString();
  while (Date.now() <= Date.parse(at)) await new Promise((resolve) => setImmediate(resolve));
  return at;
}

export interface AsOfStory {
  ids: Ids;
  chargeB: string;
  /** Before anything was recorded. */
  t0: string;
  /** After the issue was opened (with charge A linked). */
  t1: string;
  /** After charge B and a refund on A were recorded, before B was linked. */
  t2: string;
  position: string;
}

/**
 * Recorded:  ChargeSucceeded A (occurred 01-10) · IssueOpened with A (01-11) · t1 · ChargeSucceeded B (01-05)
 *            · RefundRequested on A (01-12) · t2 · ChargeLinked B (01-20) · NoteAdded (01-15, back-dated).
 */
export async function tellAsOfStory(h: LedgerHarness): Promise<AsOfStory> {
  const ids = uniqueIds();
  const chargeB = `${ids.charge}b`;
  const charge = (chargeId: string, occurredAt: string) =>
    post(h, 'service', '/charges', {
      chargeId,
      customerId: ids.customer,
      amount: 5000,
      currency: 'EUR',
      outcome: 'succeeded',
      occurredAt,
    }).then(expectCreated);
  const t0 = await instantBetween();
  await charge(ids.charge, '2026-01-10T00:00:00Z');
  await post(h, 'agent', '/issues', {
    issueId: ids.issue,
    customerId: ids.customer,
    category: 'delayed_refund',
    channel: 'email',
    chargeIds: [ids.charge],
    occurredAt: '2026-01-11T00:00:00Z',
  }).then(expectCreated);
  const t1 = await instantBetween();
  await charge(chargeB, '2026-01-05T00:00:00Z');
  await post(h, 'service', `/charges/${ids.charge}/refunds`, {
    refundId: ids.refund,
    amount: 1000,
    reason: 'requested_by_customer',
    occurredAt: '2026-01-12T00:00:00Z',
  }).then(expectCreated);
  const t2 = await instantBetween();
  await post(h, 'agent', `/issues/${ids.issue}/charges`, {
    chargeId: chargeB,
    occurredAt: '2026-01-20T00:00:00Z',
  }).then(expectCreated);
  const last = await post(h, 'agent', `/issues/${ids.issue}/notes`, {
    text: 'called the bank',
    occurredAt: '2026-01-15T00:00:00Z',
  }).then(expectCreated);
  return { ids, chargeB, t0, t1, t2, position: last.body.position as string };
}
