import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '@app/ledger';
import { mulberry32 as prng } from '@app/testing';

const CATEGORIES = [
  'payment_failed',
  'declined',
  'delayed_refund',
  'duplicate_charge',
  'billing_error',
  'other',
];
const CHANNELS = ['phone', 'email', 'chat', 'web_form'];
const PRIORITIES = ['low', 'normal', 'normal', 'high', 'urgent'];

interface StreamHistory {
  stream: string;
  events: Array<{ type: string; data: Record<string, unknown>; at: number }>;
}

/**
 * A realistic ledger history, aggregate by aggregate: charges (most succeed; refunds, disputes), issues
 * through their lifecycle (assignment, contacts, notes, linked charges, escalations, resolution, reopen,
 * feedback, close) and some churn. Times advance over a year of business time.
 */
export function* ledgerHistory(
  seed: number,
  targetEvents: number,
  /** Share of new aggregates that are charges (the rest issues, and a little churn). */
  chargeShare = 0.45,
): Generator<StreamHistory> {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const start = Date.UTC(2025, 0, 1);
  let produced = 0;
  let n = 0;
  const customers = Math.max(100, Math.floor(targetEvents / 40));
  const recentCharges: string[] = [];
  while (produced < targetEvents) {
    const id = (n++).toString(36);
    let at = start + Math.floor(random() * 360 * 86_400_000);
    const next = (minutes: number) => (at += Math.floor(random() * minutes * 60_000) + 1000);
    const customerId = `cu${Math.floor(random() * customers)}`;
    const roll = random();
    if (roll < chargeShare) {
      const chargeId = `ch${id}`;
      const amount = 500 + Math.floor(random() * 20_000);
      const succeeded = random() < 0.85;
      const events: StreamHistory['events'] = [
        succeeded
          ? {
              type: 'ChargeSucceeded',
              data: { chargeId, customerId, amount, currency: 'EUR', method: 'card', provider: 'stripe' },
              at,
            }
          : {
              type: 'ChargeDeclined',
              data: {
                chargeId,
                customerId,
                amount,
                currency: 'EUR',
                declineCode: 'insufficient_funds',
                failureCategory: 'insufficient_funds',
              },
              at,
            },
      ];
      if (succeeded && random() < 0.3) {
        const refundId = `re${id}`;
        const refund = Math.min(amount, 100 + Math.floor(random() * amount));
        events.push({
          type: 'RefundRequested',
          data: { chargeId, refundId, amount: refund, reason: 'requested_by_customer' },
          at: next(600),
        });
        events.push({ type: 'RefundApproved', data: { chargeId, refundId }, at: next(600) });
        events.push(
          random() < 0.9
            ? { type: 'RefundSucceeded', data: { chargeId, refundId }, at: next(4000) }
            : {
                type: 'RefundFailed',
                data: { chargeId, refundId, failureReason: 'declined' },
                at: next(4000),
              },
        );
      }
      if (succeeded && random() < 0.05) {
        const disputeId = `dp${id}`;
        events.push({
          type: 'DisputeOpened',
          data: {
            chargeId,
            disputeId,
            amount,
            reason: 'fraudulent',
            kind: 'chargeback',
            networkReasonCode: '10.4',
          },
          at: next(20_000),
        });
        events.push({
          type: 'DisputeEvidenceSubmitted',
          data: { chargeId, disputeId, summary: 'Proof of delivery' },
          at: next(3000),
        });
        events.push({
          type: random() < 0.6 ? 'DisputeWon' : 'DisputeLost',
          data: { chargeId, disputeId },
          at: next(30_000),
        });
      }
      recentCharges.push(chargeId);
      if (recentCharges.length > 1000) recentCharges.shift();
      produced += events.length;
      yield { stream: `charge-${chargeId}`, events };
    } else if (roll < 0.97) {
      const issueId = `is${id}`;
      const agent = `a-${Math.floor(random() * 60)}`;
      const events: StreamHistory['events'] = [
        {
          type: 'IssueOpened',
          data: {
            issueId,
            customerId,
            category: pick(CATEGORIES),
            channel: pick(CHANNELS),
            priority: pick(PRIORITIES),
            chargeIds: [],
            summary: 'Customer reports a problem with a payment',
          },
          at,
        },
        { type: 'IssueAssigned', data: { issueId, agentId: agent }, at: next(120) },
        {
          type: 'CustomerContacted',
          data: { issueId, direction: 'outbound', channel: pick(CHANNELS), agentId: agent },
          at: next(600),
        },
      ];
      if (recentCharges.length > 0 && random() < 0.5) {
        events.push({ type: 'ChargeLinked', data: { issueId, chargeId: pick(recentCharges) }, at: next(60) });
      }
      if (random() < 0.5)
        events.push({
          type: 'NoteAdded',
          data: { issueId, text: 'Checked with the provider' },
          at: next(60),
        });
      if (random() < 0.15) {
        events.push({
          type: 'IssueEscalated',
          data: { issueId, to: 'payment_provider', reference: `PSP-${id}` },
          at: next(600),
        });
      }
      if (random() < 0.8) {
        events.push({ type: 'IssueResolved', data: { issueId, resolution: 'refunded' }, at: next(3000) });
        if (random() < 0.1) {
          events.push({ type: 'IssueReopened', data: { issueId, reason: 'still charged' }, at: next(3000) });
          events.push({
            type: 'IssueResolved',
            data: { issueId, resolution: 'charge_corrected' },
            at: next(3000),
          });
        }
        if (random() < 0.4)
          events.push({
            type: 'FeedbackReceived',
            data: { issueId, csat: 1 + Math.floor(random() * 5) },
            at: next(3000),
          });
        if (random() < 0.7) events.push({ type: 'IssueClosed', data: { issueId }, at: next(6000) });
      }
      produced += events.length;
      yield { stream: `issue-${issueId}`, events };
    } else {
      const churned = {
        type: 'CustomerChurned',
        data: { customerId, kind: random() < 0.7 ? 'voluntary' : 'involuntary' },
        at,
      };
      produced += 1;
      yield { stream: `customer-${customerId}`, events: [churned] };
    }
  }
}

function toNewEvents(history: StreamHistory): NewEvent[] {
  return history.events.map(({ type, data, at }) => {
    const occurredAt = new Date(at).toISOString();
    return {
      type,
      schemaVersion: 1,
      data,
      metadata: {
        eventId: randomUUID(),
        occurredAt,
        recordedAt: occurredAt,
        actor: { kind: 'service', id: 'bench' },
        correlationId: randomUUID(),
        causationId: null,
        schemaVersion: 1,
      },
    };
  });
}

/**
 * Appends about `targetEvents` events, `concurrency` streams at a time (group-committed). A customer
 * appearing twice is appended with expected revision `any` (their churn history grows).
 */
export async function appendLedgerHistory(
  store: EventStore,
  seed: number,
  targetEvents: number,
  /** After each group of appends; a promise it returns is awaited (a paced load). */
  onProgress?: (appended: number) => void | Promise<void>,
  options: { concurrency?: number; chargeShare?: number } = {},
): Promise<number> {
  const concurrency = options.concurrency ?? 200;
  let appended = 0;
  let pending: Promise<unknown>[] = [];
  const churnedCustomers = new Set<string>();
  for (const history of ledgerHistory(seed, targetEvents, options.chargeShare)) {
    // One churn per customer: a second one would break the decider's rule (it needs a reactivation).
    if (history.stream.startsWith('customer-')) {
      if (churnedCustomers.has(history.stream)) continue;
      churnedCustomers.add(history.stream);
    }
    pending.push(store.append(history.stream, toNewEvents(history), 'any'));
    appended += history.events.length;
    if (pending.length >= concurrency) {
      await Promise.all(pending);
      pending = [];
      await onProgress?.(appended);
    }
  }
  await Promise.all(pending);
  await onProgress?.(appended);
  return appended;
}
