/**
 * The demo ledger's workload: customers with payment problems, as the commands the services and agents would
 * send. Pure and deterministic: everything follows from (seed, until, customer index), so a re-run sends
 * byte-identical bodies under the same Idempotency-Keys, and a larger --issues only adds customers.
 */

export interface DemoCommand {
  url: string;
  body: Record<string, unknown>;
  idempotencyKey: string;
}

export interface DemoCustomer {
  customerId: string;
  issues: number;
  commands: DemoCommand[];
}

/** mulberry32: small, fast, and good enough for synthetic data. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One PRNG stream per customer, so customer c is the same whatever --issues says. */
function customerSeed(seed: number, customer: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(customer + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

type Weighted<T extends string> = readonly (readonly [T, number])[];

const CATEGORIES: Weighted<string> = [
  ['payment_failed', 22],
  ['declined', 18],
  ['delayed_refund', 15],
  ['billing_error', 14],
  ['duplicate_charge', 11],
  ['unauthorized_charge', 8],
  ['other', 12],
];
const CHANNELS: Weighted<string> = [
  ['email', 30],
  ['chat', 25],
  ['phone', 18],
  ['web_form', 10],
  ['chatbot', 8],
  ['social', 5],
  ['self_service', 4],
];
const PRIORITIES: Weighted<string> = [
  ['low', 18],
  ['normal', 52],
  ['high', 22],
  ['urgent', 8],
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Median resolution time per category: long-tailed around it (log-normal). */
const RESOLUTION_MEDIAN_MS: Record<string, number> = {
  declined: 3 * HOUR,
  payment_failed: 8 * HOUR,
  duplicate_charge: 1.2 * DAY,
  billing_error: 2 * DAY,
  delayed_refund: 3 * DAY,
  unauthorized_charge: 4 * DAY,
  other: 1 * DAY,
};
/** Median first-response delay per channel: live channels answer in minutes, written ones in hours. */
const FIRST_RESPONSE_MEDIAN_MS: Record<string, number> = {
  phone: 3 * 60_000,
  chat: 6 * 60_000,
  chatbot: 20 * 60_000,
  social: 2 * HOUR,
  email: 5 * HOUR,
  web_form: 7 * HOUR,
  self_service: 10 * HOUR,
};
const PRIORITY_SPEEDUP: Record<string, number> = { urgent: 0.35, high: 0.6, normal: 1, low: 1.5 };
const RESOLUTIONS: Record<string, readonly string[]> = {
  declined: ['explained', 'payment_retried'],
  payment_failed: ['payment_retried', 'explained', 'charge_corrected'],
  duplicate_charge: ['refunded', 'duplicate'],
  billing_error: ['charge_corrected', 'refunded'],
  delayed_refund: ['refunded', 'explained'],
  unauthorized_charge: ['fraud_confirmed', 'refunded', 'explained'],
  other: ['explained', 'no_action', 'other'],
};
const ESCALATION_TARGET: Record<string, string> = {
  payment_failed: 'payment_provider',
  declined: 'payment_provider',
  unauthorized_charge: 'fraud',
  billing_error: 'finance',
  delayed_refund: 'finance',
  duplicate_charge: 'finance',
  other: 'tier2',
};

/** Agents differ in speed: a factor on every delay they control. */
export const DEMO_AGENTS = [0.45, 0.6, 0.75, 0.85, 0.9, 1, 1, 1.1, 1.25, 1.4, 1.7, 2.2].map((speed, i) => ({
  agentId: `agent-${String(i + 1).padStart(2, '0')}`,
  speed,
}));

/** How far back issues are opened, before --until. */
export const DEMO_HISTORY_DAYS = 180;

export interface DemoOptions {
  seed: number;
  /** Every occurredAt is at or before this instant (ms since epoch). */
  until: number;
}

class CustomerPlan {
  random: () => number;
  readonly commands: DemoCommand[] = [];
  private scope = '';
  private sequence = 0;

  constructor(
    readonly customerId: string,
    seed: number,
    readonly until: number,
  ) {
    this.random = mulberry32(seed);
  }

  pick<T extends string>(weighted: Weighted<T>): T {
    const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random() * total;
    for (const [value, weight] of weighted) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return weighted[weighted.length - 1][0];
  }

  oneOf<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  /** Log-normal around a median (sigma on the log scale): the long tail of support work. */
  logNormal(median: number, sigma: number): number {
    const u = Math.max(this.random(), 1e-12);
    const v = this.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * normal);
  }

  /**
   * Idempotency-Keys are numbered within a scope (one issue, or the churn), never across the customer, so a
   * customer cut short by --issues keeps the keys and bodies of what it did send.
   */
  inScope(scope: string, random: () => number = this.random): this {
    this.scope = scope;
    this.sequence = 0;
    this.random = random;
    return this;
  }

  /** Sends the command only if its time has come by --until; returns whether it did. */
  send(url: string, at: number, body: Record<string, unknown>): boolean {
    if (at > this.until) return false;
    this.commands.push({
      url,
      body: { ...body, occurredAt: new Date(Math.round(at)).toISOString() },
      idempotencyKey: `${this.customerId}-${this.scope}-${this.sequence++}`,
    });
    return true;
  }
}

interface IssueOutcome {
  openedAt: number;
  resolvedAt: number | null;
  csat: number | null;
  category: string;
}

function planIssue(plan: CustomerPlan, index: number, openedAt: number): IssueOutcome {
  plan.inScope(`is${index}`);
  const issueId = `${plan.customerId}-is${index}`;
  const chargeId = `${plan.customerId}-ch${index}`;
  const category = plan.pick(CATEGORIES);
  const channel = plan.pick(CHANNELS);
  const priority = category === 'unauthorized_charge' && plan.chance(0.6) ? 'high' : plan.pick(PRIORITIES);
  const agent = plan.oneOf(DEMO_AGENTS);
  const amount = 500 + Math.floor(plan.logNormal(4000, 0.9));
  const currency = plan.pick([
    ['EUR', 60],
    ['USD', 30],
    ['GBP', 10],
  ] as const);

  const chargedAt = openedAt - plan.random() * 3 * DAY;
  const outcome =
    category === 'declined' ? 'declined' : category === 'payment_failed' ? 'failed' : 'succeeded';
  plan.send('/charges', chargedAt, {
    chargeId,
    customerId: plan.customerId,
    amount,
    currency,
    outcome,
    method: plan.oneOf(['card', 'card', 'card', 'sepa_debit', 'wallet']),
    provider: plan.oneOf(['stripe', 'adyen', 'braintree']),
    ...(outcome === 'declined'
      ? { declineCode: plan.oneOf(['insufficient_funds', 'do_not_honor', 'expired_card']) }
      : {}),
    ...(outcome === 'failed'
      ? {
          failureCategory: plan.oneOf([
            'insufficient_funds',
            'processor_error',
            'invalid_details',
            'limit_exceeded',
          ]),
        }
      : {}),
  });

  plan.send('/issues', openedAt, {
    issueId,
    customerId: plan.customerId,
    category,
    channel,
    priority,
    chargeIds: [chargeId],
    summary: `Demo: ${category.replaceAll('_', ' ')} reported by ${channel}`,
  });
  const speed = agent.speed * PRIORITY_SPEEDUP[priority];
  let at = openedAt + plan.logNormal(4 * 60_000, 1) * speed;
  plan.send(`/issues/${issueId}/assign`, at, { agentId: agent.agentId });

  const live = channel === 'phone' || channel === 'chat' || channel === 'chatbot';
  if (live) {
    plan.send(`/issues/${issueId}/contacts`, openedAt + 1000, { direction: 'inbound', channel });
  }
  const firstResponseAt = openedAt + plan.logNormal(FIRST_RESPONSE_MEDIAN_MS[channel], 1.1) * speed;
  const resolutionSpan = plan.logNormal(RESOLUTION_MEDIAN_MS[category], 1.25) * speed;
  const resolvedAt = Math.max(firstResponseAt + 60_000, openedAt + resolutionSpan);
  // Slower, harder cases need more back and forth; one outbound contact is first-contact resolution.
  const extraContacts = Math.min(4, Math.floor(plan.logNormal(resolutionSpan / DAY + 0.3, 0.8)));
  // Some self-service and chatbot cases are solved without an agent ever writing back.
  const silent = (channel === 'self_service' || channel === 'chatbot') && plan.chance(0.3);
  const responseSent =
    !silent &&
    plan.send(`/issues/${issueId}/contacts`, firstResponseAt, {
      direction: 'outbound',
      channel: live ? channel : 'email',
      agentId: agent.agentId,
    });
  at = firstResponseAt;
  for (let k = 0; responseSent && k < extraContacts; k++) {
    at += (resolvedAt - firstResponseAt) / (extraContacts + 1);
    if (plan.chance(0.5))
      plan.send(`/issues/${issueId}/contacts`, at - 60_000, { direction: 'inbound', channel });
    plan.send(`/issues/${issueId}/contacts`, at, {
      direction: 'outbound',
      channel: 'email',
      agentId: agent.agentId,
    });
  }
  if (plan.chance(0.3)) {
    plan.send(`/issues/${issueId}/notes`, firstResponseAt + 30_000, { text: 'Checked the payment logs.' });
  }
  const escalationChance = category === 'unauthorized_charge' ? 0.5 : resolutionSpan > 2 * DAY ? 0.25 : 0.06;
  if (plan.chance(escalationChance)) {
    plan.send(`/issues/${issueId}/escalate`, firstResponseAt + (resolvedAt - firstResponseAt) * 0.3, {
      to: plan.chance(0.8) ? ESCALATION_TARGET[category] : plan.oneOf(['tier2', 'product']),
      reference: `ESC-${plan.customerId}-${index}`,
      reason: 'Needs a specialist',
    });
  }

  if (outcome === 'succeeded') planMoney(plan, chargeId, category, amount, openedAt);

  const resolution = plan.oneOf(RESOLUTIONS[category]);
  // A few issues are forgotten and stay open however long ago they were opened.
  const forgotten = plan.chance(0.03);
  if (
    forgotten ||
    !plan.send(`/issues/${issueId}/resolve`, resolvedAt, { resolution, summary: 'Resolved (demo).' })
  ) {
    return { openedAt, resolvedAt: null, csat: null, category };
  }
  let lastAt = resolvedAt;
  if (plan.chance(resolutionSpan < 2 * HOUR ? 0.12 : 0.06)) {
    const reopenedAt = resolvedAt + plan.logNormal(2 * DAY, 0.7);
    if (plan.send(`/issues/${issueId}/reopen`, reopenedAt, { reason: 'The problem came back.' })) {
      lastAt = reopenedAt + 31 * 60_000 + plan.logNormal(RESOLUTION_MEDIAN_MS[category], 1) * speed;
      plan.send(`/issues/${issueId}/contacts`, reopenedAt + 30 * 60_000, {
        direction: 'outbound',
        channel: 'email',
        agentId: agent.agentId,
      });
      if (!plan.send(`/issues/${issueId}/resolve`, lastAt, { resolution, summary: 'Resolved again.' })) {
        return { openedAt, resolvedAt, csat: null, category };
      }
    }
  }
  // CSAT follows speed relative to what the category usually takes.
  const slowness = (resolvedAt - openedAt) / RESOLUTION_MEDIAN_MS[category];
  let csat: number | null = null;
  if (plan.chance(0.55)) {
    const mean = slowness < 0.5 ? 4.6 : slowness < 1 ? 4.1 : slowness < 3 ? 3.2 : 2.1;
    csat = Math.min(5, Math.max(1, Math.round(mean + (plan.random() - 0.5) * 2.2)));
    plan.send(`/issues/${issueId}/feedback`, lastAt + plan.logNormal(6 * HOUR, 1), {
      csat,
      comment: csat >= 4 ? 'Thanks, quick help.' : 'Took far too long.',
    });
  }
  plan.send(`/issues/${issueId}/close`, lastAt + 3 * DAY + plan.random() * DAY, {});
  return { openedAt, resolvedAt, csat, category };
}

/** Refunds (deadline met or missed) and disputes (evidence on time or late; won, lost, accepted). */
function planMoney(plan: CustomerPlan, chargeId: string, category: string, amount: number, openedAt: number) {
  const refundChance: Record<string, number> = {
    duplicate_charge: 0.85,
    billing_error: 0.5,
    delayed_refund: 0.9,
    unauthorized_charge: 0.35,
  };
  if (plan.chance(refundChance[category] ?? 0.04)) {
    const refundId = `${chargeId}-rf`;
    const requestedAt = openedAt + plan.logNormal(6 * HOUR, 0.8);
    const dueBy = requestedAt + (plan.chance(0.5) ? 5 : 10) * DAY;
    const base = `/charges/${chargeId}/refunds`;
    const refundAmount = category === 'billing_error' ? Math.max(1, Math.round(amount * 0.3)) : amount;
    if (
      plan.send(base, requestedAt, {
        refundId,
        amount: refundAmount,
        reason:
          category === 'duplicate_charge'
            ? 'duplicate'
            : category === 'unauthorized_charge'
              ? 'fraudulent'
              : 'requested_by_customer',
        dueBy: new Date(Math.round(dueBy)).toISOString(),
      })
    ) {
      const approvedAt = requestedAt + plan.logNormal(8 * HOUR, 1);
      if (plan.chance(0.06)) {
        plan.send(`${base}/${refundId}/reject`, approvedAt, { reason: 'Not eligible.' });
      } else if (plan.send(`${base}/${refundId}/approve`, approvedAt, {})) {
        // Settlement takes days with a long tail: some miss dueBy.
        const settledAt = approvedAt + plan.logNormal(3 * DAY, 0.7);
        if (plan.chance(0.05)) {
          plan.send(`${base}/${refundId}/fail`, settledAt, {
            failureReason: plan.oneOf(['expired_or_canceled_card', 'lost_or_stolen_card', 'declined']),
          });
        } else {
          plan.send(`${base}/${refundId}/succeed`, settledAt, {});
        }
      }
    }
    return;
  }
  if (plan.chance(category === 'unauthorized_charge' ? 0.5 : 0.03)) {
    const disputeId = `${chargeId}-dp`;
    const base = `/charges/${chargeId}/disputes`;
    const openedDisputeAt = openedAt + plan.logNormal(2 * DAY, 0.6);
    const evidenceDueBy = openedDisputeAt + 7 * DAY;
    if (
      !plan.send(base, openedDisputeAt, {
        disputeId,
        amount,
        reason:
          category === 'unauthorized_charge'
            ? 'fraudulent'
            : plan.oneOf(['duplicate', 'general', 'product_not_received']),
        kind: 'chargeback',
        evidenceDueBy: new Date(Math.round(evidenceDueBy)).toISOString(),
      })
    ) {
      return;
    }
    if (plan.chance(0.15)) {
      plan.send(`${base}/${disputeId}/close`, openedDisputeAt + plan.logNormal(2 * DAY, 0.5), {
        outcome: 'accepted',
      });
      return;
    }
    const evidenceAt = openedDisputeAt + plan.logNormal(4 * DAY, 0.6);
    if (!plan.send(`${base}/${disputeId}/evidence`, evidenceAt, { summary: 'Delivery proof and logs.' }))
      return;
    const late = evidenceAt > evidenceDueBy;
    plan.send(`${base}/${disputeId}/close`, evidenceAt + plan.logNormal(25 * DAY, 0.4), {
      outcome: plan.chance(late ? 0.25 : 0.6) ? 'won' : 'lost',
    });
  }
}

/** Churn is driven by the customer's first issue: slow or unresolved, and bad feedback, make leaving likely. */
function planChurn(plan: CustomerPlan, first: IssueOutcome, seed: number) {
  // Its own random stream: the draws of a customer's later issues (cut by --issues or not) do not move it.
  plan.inScope('churn', mulberry32(seed ^ 0x5bd1e995));
  const hours = first.resolvedAt === null ? Infinity : (first.resolvedAt - first.openedAt) / HOUR;
  let p = hours < 1 ? 0.03 : hours < 24 ? 0.06 : hours < 72 ? 0.12 : hours < 168 ? 0.22 : 0.35;
  if (first.csat !== null && first.csat <= 2) p += 0.15;
  if (!plan.chance(p)) return;
  const involuntary = first.category === 'payment_failed' || first.category === 'declined' ? 0.6 : 0.15;
  const churnedAt = first.openedAt + plan.logNormal(15 * DAY, 0.9);
  const url = `/customers/${plan.customerId}`;
  const kind = plan.chance(involuntary) ? 'involuntary' : 'voluntary';
  if (
    !plan.send(`${url}/churn`, churnedAt, {
      kind,
      reason: kind === 'voluntary' ? 'Unhappy with support' : 'Payment method failed',
    })
  ) {
    return;
  }
  if (plan.chance(0.15)) plan.send(`${url}/reactivate`, churnedAt + plan.logNormal(25 * DAY, 0.6), {});
}

/**
 * Customers in order until `issues` issues exist: most have one issue, some two or three. Issue opening times
 * spread over DEMO_HISTORY_DAYS before `until`, busier on weekdays; commands whose time would fall after
 * `until` are not sent, which leaves the recent issues open, refunds pending and disputes undecided.
 */
export function* demoCustomers(options: DemoOptions, issues: number): Generator<DemoCustomer> {
  const prefix = `demo${options.seed}`;
  let made = 0;
  for (let c = 0; made < issues; c++) {
    const customerId = `${prefix}-cu${c}`;
    const plan = new CustomerPlan(customerId, customerSeed(options.seed, c), options.until);
    const wanted = plan.chance(0.75) ? 1 : plan.chance(0.7) ? 2 : 3;
    const count = Math.min(wanted, issues - made);
    let openedAt = options.until - plan.random() * DEMO_HISTORY_DAYS * DAY;
    const weekday = new Date(openedAt).getUTCDay();
    if ((weekday === 0 || weekday === 6) && plan.chance(0.5)) openedAt -= 2 * DAY;
    // Business hours, roughly: 07:00 to 21:00 UTC.
    const dayStart = openedAt - (openedAt % DAY);
    openedAt = dayStart + 7 * HOUR + plan.random() * 14 * HOUR;
    if (openedAt > options.until) openedAt -= DAY;
    let first: IssueOutcome | undefined;
    for (let j = 0; j < count; j++) {
      const outcome = planIssue(plan, j, openedAt);
      first ??= outcome;
      openedAt += plan.logNormal(20 * DAY, 0.8);
      if (openedAt > options.until) openedAt = options.until - plan.random() * DAY;
    }
    if (first) planChurn(plan, first, customerSeed(options.seed, c));
    made += count;
    // In time order, which is also a valid order within every stream (a charge before its refunds, an issue's
    // resolution after its contacts, feedback after the resolution).
    const commands = plan.commands
      .map((command, index) => ({ command, index, at: Date.parse(command.body.occurredAt as string) }))
      .sort((a, b) => a.at - b.at || a.index - b.index)
      .map(({ command }) => command);
    yield { customerId, issues: count, commands };
  }
}
