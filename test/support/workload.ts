import type { Role } from '@app/ledger';
import { mulberry32 } from '@app/testing';

/** A small seeded PRNG (the demo's mulberry32), so a failing randomised run can be replayed from its seed. */
export const prng = mulberry32;

export interface WorkloadCommand {
  role: Role;
  path: string;
  body: Record<string, unknown>;
}

const CATEGORIES = [
  'payment_failed',
  'declined',
  'delayed_refund',
  'duplicate_charge',
  'billing_error',
  'other',
];
const CHANNELS = ['phone', 'email', 'chat', 'web_form'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const RESOLUTIONS = ['refunded', 'charge_corrected', 'payment_retried', 'explained', 'no_action'];

/**
 * A random but plausible stream of commands over a growing set of customers, charges and issues: charges
 * and their refunds and disputes, issues with the whole support lifecycle, links, churn and reactivation.
 * Some commands break rules on purpose (a refund too large, a reopen of an open issue): the ledger answers
 * 409 and appends nothing, which the read models must reflect too.
 */
export function* randomWorkload(seed: number, count: number, prefix: string): Generator<WorkloadCommand> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const charges: string[] = [];
  const refunds: Array<{ chargeId: string; refundId: string }> = [];
  const disputes: Array<{ chargeId: string; disputeId: string }> = [];
  const issues: string[] = [];
  const customers = Array.from({ length: Math.max(5, Math.floor(count / 40)) }, (_, i) => `${prefix}cu${i}`);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const roll = random();
    const id = `${prefix}${(n++).toString(36)}`;
    if (roll < 0.12 || charges.length === 0) {
      const outcome = random() < 0.85 ? 'succeeded' : pick(['declined', 'failed']);
      charges.push(id);
      yield {
        role: 'service',
        path: '/charges',
        body: {
          chargeId: id,
          customerId: pick(customers),
          amount: 500 + Math.floor(random() * 20000),
          currency: pick(['EUR', 'USD', 'GBP']),
          outcome,
          ...(outcome === 'declined'
            ? { declineCode: 'insufficient_funds', failureCategory: 'insufficient_funds' }
            : {}),
          ...(outcome === 'failed' ? { failureCategory: 'processor_error' } : {}),
        },
      };
    } else if (roll < 0.2) {
      const chargeId = pick(charges);
      refunds.push({ chargeId, refundId: id });
      yield {
        role: 'service',
        path: `/charges/${chargeId}/refunds`,
        body: { refundId: id, amount: 100 + Math.floor(random() * 8000), reason: 'requested_by_customer' },
      };
    } else if (roll < 0.27 && refunds.length > 0) {
      const { chargeId, refundId } = pick(refunds);
      const step = pick(['approve', 'succeed', 'succeed', 'fail', 'cancel', 'reject']);
      const body =
        step === 'fail'
          ? { failureReason: 'expired_or_canceled_card' }
          : step === 'reject'
            ? { reason: 'outside policy' }
            : {};
      yield { role: 'service', path: `/charges/${chargeId}/refunds/${refundId}/${step}`, body };
    } else if (roll < 0.3) {
      const chargeId = pick(charges);
      disputes.push({ chargeId, disputeId: id });
      yield {
        role: 'service',
        path: `/charges/${chargeId}/disputes`,
        body: {
          disputeId: id,
          amount: 500 + Math.floor(random() * 5000),
          reason: 'fraudulent',
          kind: pick(['inquiry', 'chargeback']),
        },
      };
    } else if (roll < 0.33 && disputes.length > 0) {
      const { chargeId, disputeId } = pick(disputes);
      const step = pick(['evidence', 'evidence', 'close', 'escalate']);
      yield {
        role: step === 'evidence' ? 'agent' : 'service',
        path: `/charges/${chargeId}/disputes/${disputeId}/${step}`,
        body:
          step === 'evidence'
            ? { summary: 'Delivery confirmation' }
            : step === 'close'
              ? { outcome: pick(['won', 'lost', 'accepted']) }
              : {},
      };
    } else if (roll < 0.45 || issues.length === 0) {
      issues.push(id);
      yield {
        role: 'agent',
        path: '/issues',
        body: {
          issueId: id,
          customerId: pick(customers),
          category: pick(CATEGORIES),
          channel: pick(CHANNELS),
          priority: pick(PRIORITIES),
          ...(random() < 0.3 ? { chargeIds: [pick(charges)] } : {}),
        },
      };
    } else if (roll < 0.93) {
      const issueId = pick(issues);
      const step = pick([
        'assign',
        'contacts',
        'contacts',
        'notes',
        'charges',
        'escalate',
        'resolve',
        'resolve',
        'reopen',
        'close',
        'feedback',
        'follow-up',
      ]);
      const bodies: Record<string, Record<string, unknown>> = {
        assign: { agentId: `a-${Math.floor(random() * 12)}` },
        contacts: {
          direction: pick(['inbound', 'outbound']),
          channel: pick(CHANNELS),
          ...(random() < 0.7 ? { agentId: `a-${Math.floor(random() * 12)}` } : {}),
        },
        notes: { text: `note ${id}` },
        charges: { chargeId: pick(charges) },
        escalate: {
          to: pick(['payment_provider', 'finance', 'product', 'fraud', 'tier2']),
          reference: `REF-${id}`,
        },
        resolve: { resolution: pick(RESOLUTIONS) },
        reopen: { reason: 'customer came back' },
        close: {},
        feedback: { csat: 1 + Math.floor(random() * 5) },
        'follow-up': { channel: pick(CHANNELS) },
      };
      const role: Role = step === 'feedback' ? 'service' : 'agent';
      yield { role, path: `/issues/${issueId}/${step}`, body: bodies[step] };
    } else {
      const customerId = pick(customers);
      yield random() < 0.6
        ? {
            role: 'service',
            path: `/customers/${customerId}/churn`,
            body: { kind: pick(['voluntary', 'involuntary']) },
          }
        : { role: 'service', path: `/customers/${customerId}/reactivate`, body: {} };
    }
  }
}
