import { CHANNELS, ESCALATION_TARGETS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import { SLA_STATES, slaState, type SlaTargets } from '../sla/sla';
import {
  groupItems,
  type GroupedRows,
  layOutGroups,
  DAY_MS,
  type GroupDimension,
  type ItemFrame,
  scratchInt32,
  seconds,
} from './metric-groups';
import { REFUND_SUCCEEDED, REFUND_TERMINAL, type MetricsSnapshot } from './metrics-snapshot';
import { describeDurations, describeSortedDurations } from './statistics/descriptive';
import { humanizedDuration } from './humanized-duration';
import {
  kaplanMeierOfSorted,
  kaplanMeierQuantilesOfSorted,
  type SortedObservations,
} from './statistics/kaplan-meier';
import {
  ANSWERED,
  OPEN,
  openAges,
  RESOLVED,
  resolutionObservations,
  responseObservations,
  SETTLED,
  STATE_BITS,
} from './sorted-times';

export const METRIC_NAMES = [
  'resolution-time',
  'first-response',
  'sla',
  'reopens',
  'escalations',
  'csat',
  'first-contact-resolution',
  'backlog',
  'refunds',
  'disputes',
  'churn',
  'overview',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricParams {
  /** Epoch ms: facts after it have not happened yet; open clocks are censored there. */
  asOf: number;
  /** Epoch ms, inclusive / exclusive, on the issue's opened time (refunds: requested; disputes: opened). */
  from?: number;
  to?: number;
  category?: string;
  channel?: string;
  priority?: string;
  groupBy: readonly GroupDimension[];
  /** Churn window in days. */
  window: number;
  /** Survival curve points per group; default MAX_CURVE_POINTS shared out of CURVE_POINT_BUDGET. */
  curvePoints?: number;
}

export type Figures = Record<string, unknown>;
export interface MetricGroup extends Figures {
  key: Record<string, string | null>;
}
export interface MetricAnswer {
  metric: MetricName;
  asOf: string;
  from: string | null;
  to: string | null;
  filters: { category: string | null; channel: string | null; priority: string | null };
  groupBy: GroupDimension[];
  window?: number;
  /** churn and overview: the issue each customer's churn window starts from. */
  churnAnchor?: ChurnAnchor;
  groups: MetricGroup[];
}

/** Curve points of an ungrouped answer, and at most per group. */
export const MAX_CURVE_POINTS = 100;
/** Curve points shared by all groups of a grouped answer (a year by day would otherwise be megabytes). */
export const CURVE_POINT_BUDGET = 2000;
/** The fewest points a group's curve keeps: its first and last. */
const MIN_CURVE_POINTS = 2;
/** Reactivated customers listed per churn group. */
export const MAX_LISTED_CUSTOMERS = 100;

const rate = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

interface Context {
  snapshot: MetricsSnapshot;
  params: MetricParams;
  targets: SlaTargets;
  /** params.asOf, for the grouping. */
  asOf: number;
  /** Points per survival curve in this answer. */
  curvePoints: number;
  /** The resolved-only (responded-only) figures; the overview shows none. */
  observedFigures: boolean;
  /** Kaplan–Meier quantile values only, no bands or curve: all the overview shows of them. */
  quantilesOnly?: boolean;
  /** The issue population split into groups, computed once per answer (the overview reuses it). */
  issueGroups?: GroupedRows;
  /** countIssues of those groups, made once per answer. */
  issueCounts?: IssueCounts;
}

const issueFrame = (snapshot: MetricsSnapshot): ItemFrame => ({
  issueRows: null,
  time: snapshot.issues.f.openedAt,
});

/** Issue rows opened by asOf, in [from, to), matching the filters. */
function issuePopulation({ snapshot, params }: Context, slot: string): Int32Array {
  const { f, i, size } = snapshot.issues;
  const { asOf } = params;
  const from = params.from ?? -Infinity;
  const to = params.to ?? Infinity;
  const category = params.category === undefined ? -1 : ISSUE_CATEGORIES.indexOf(params.category as never);
  const channel = params.channel === undefined ? -1 : CHANNELS.indexOf(params.channel as never);
  const priority = params.priority === undefined ? -1 : PRIORITIES.indexOf(params.priority as never);
  const opened = f.openedAt;
  const rows = scratchInt32(`${slot}:population`, size);
  let count = 0;
  for (let row = 0; row < size; row++) {
    const at = opened[row];
    if (!(at <= asOf && at >= from && at < to)) continue;
    if (category >= 0 && i.category[row] !== category) continue;
    if (channel >= 0 && i.channel[row] !== channel) continue;
    if (priority >= 0 && i.priority[row] !== priority) continue;
    rows[count++] = row;
  }
  return rows.subarray(0, count);
}

/** Whether an issue row passes the category/channel/priority filters (refunds and disputes). */
function issueMatches({ snapshot, params }: Context, row: number): boolean {
  if (params.category === undefined && params.channel === undefined && params.priority === undefined) {
    return true;
  }
  if (row < 0) return false;
  const { i } = snapshot.issues;
  return (
    (params.category === undefined || ISSUE_CATEGORIES[i.category[row]] === params.category) &&
    (params.channel === undefined || CHANNELS[i.channel[row]] === params.channel) &&
    (params.priority === undefined || PRIORITIES[i.priority[row]] === params.priority)
  );
}

const SUMMARY_PS = [0.5, 0.75, 0.9];

function survival(context: Context, observations: SortedObservations) {
  if (context.quantilesOnly) {
    const [median, p75, p90] = kaplanMeierQuantilesOfSorted(observations, SUMMARY_PS).map((value) => ({
      value,
      lower: null,
      upper: null,
    }));
    return { km: { median, p75, p90, curve: [] }, observed: null };
  }
  const km = kaplanMeierOfSorted(observations, context.curvePoints);
  return {
    km: { median: km.median, p75: km.p75, p90: km.p90, curve: km.curve },
    // The observed ends alone are the event times, sorted already.
    observed: context.observedFigures ? describeSortedDurations(observations.eventTimes) : null,
  };
}

/**
 * Every counter of the counting metrics, per group, and each row's cell for the sorted walks (sorted-times.ts:
 * its group and what holds at asOf), from ONE pass over the grouped rows in row order, made once per answer:
 * the overview needs them all, and each column is then read once, front to back. Counter layout per group
 * (COUNTERS wide) in COUNTER.
 */
const DESTINATIONS = ESCALATION_TARGETS.length;
const STATES = SLA_STATES.length;
const COUNTER = {
  /** First response by SLA_STATES (met, breached, at risk, on track, stopped), then resolution. */
  sla: 0,
  resolved: 2 * STATES,
  reopened: 2 * STATES + 1,
  escalated: 2 * STATES + 2,
  /** One per destination, ESCALATION_TARGETS order. */
  escalatedTo: 2 * STATES + 3,
  /** Scores 1 to 5, then their sum. */
  csat: 2 * STATES + 3 + DESTINATIONS,
  csatSum: 2 * STATES + 8 + DESTINATIONS,
  /** Resolved with exactly one agent contact by asOf; of those, never reopened. */
  oneTouch: 2 * STATES + 9 + DESTINATIONS,
  firstContactResolved: 2 * STATES + 10 + DESTINATIONS,
  /** Open issues by BACKLOG_BUCKETS. */
  backlog: 2 * STATES + 11 + DESTINATIONS,
} as const;
const COUNTERS = 2 * STATES + 16 + DESTINATIONS;

/** Half-open, the lower bound included: an issue open exactly 30 d is `over_30d` (30 d or more). */
export const BACKLOG_BUCKETS = ['under_1d', '1d_to_3d', '3d_to_7d', '7d_to_30d', 'over_30d'] as const;
const BACKLOG_LIMITS = [1, 3, 7, 30].map((days) => days * DAY_MS);

interface IssueCounts {
  /** counter(g, COUNTER.x + i) */
  counter(group: number, index: number): number;
  /** Per table row: group << 3 | RESOLVED | ANSWERED | OPEN, -1 outside the groups. */
  cells: Int32Array;
}

function countIssues(context: Context, grouped: GroupedRows): IssueCounts {
  if (context.issueCounts !== undefined) return context.issueCounts;
  const { snapshot, asOf, targets } = context;
  const { f, i } = snapshot.issues;
  const { openedAt, firstContactAt, secondContactAt, firstResolvedAt, firstReopenedAt, settledAt } = f;
  const { priority } = i;
  const escalatedAt = ESCALATION_TARGETS.map((to) => f[`escalated_${to}`]);
  const responseTarget = PRIORITIES.map((name) => targets[name].firstResponseMinutes);
  const resolutionTarget = PRIORITIES.map((name) => targets[name].resolutionMinutes);
  const counts = new Float64Array(grouped.groups.length * COUNTERS);
  const cells = scratchInt32('issues:cells', snapshot.issues.size).fill(-1);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const g = groupOfItem[k];
    const base = g * COUNTERS;
    const opened = openedAt[row];
    const contact = firstContactAt[row];
    const resolvedAt = firstResolvedAt[row];
    const settled = settledAt[row];
    const resolved = resolvedAt <= asOf;
    const reopened = firstReopenedAt[row] <= asOf;
    const target = priority[row];
    counts[base + COUNTER.sla + slaState(opened, contact, settled, responseTarget[target], asOf)]++;
    counts[
      base + COUNTER.sla + STATES + slaState(opened, resolvedAt, settled, resolutionTarget[target], asOf)
    ]++;
    if (resolved) counts[base + COUNTER.resolved]++;
    if (reopened) counts[base + COUNTER.reopened]++;
    let escalated = false;
    for (let d = 0; d < DESTINATIONS; d++) {
      if (escalatedAt[d][row] <= asOf) {
        counts[base + COUNTER.escalatedTo + d]++;
        escalated = true;
      }
    }
    if (escalated) counts[base + COUNTER.escalated]++;
    const score = snapshot.csatAt(row, asOf);
    if (score >= 1) {
      counts[base + COUNTER.csat + score - 1]++;
      counts[base + COUNTER.csatSum] += score;
    }
    if (resolved && contact <= asOf && !(secondContactAt[row] <= asOf)) {
      counts[base + COUNTER.oneTouch]++;
      if (!reopened) counts[base + COUNTER.firstContactResolved]++;
    }
    const open = snapshot.isOpenAt(row, asOf);
    if (open) {
      const age = asOf - opened;
      let bucket = 0;
      while (bucket < BACKLOG_LIMITS.length && age >= BACKLOG_LIMITS[bucket]) bucket++;
      counts[base + COUNTER.backlog + bucket]++;
    }
    // A contact by asOf is the response unless the issue settled (resolved or withdrawn) before it: the
    // same event and censoring as the first-response SLA clock (slaState).
    cells[row] =
      (g << STATE_BITS) |
      (resolved ? RESOLVED : 0) |
      (contact <= asOf && !(settled < contact) ? ANSWERED : 0) |
      (open ? OPEN : 0) |
      (settled <= asOf ? SETTLED : 0);
  }
  context.issueCounts = { counter: (group, index) => counts[group * COUNTERS + index], cells };
  return context.issueCounts;
}

function resolutionTime(context: Context, grouped: GroupedRows): Figures[] {
  const observations = resolutionObservations(
    context.snapshot,
    grouped,
    countIssues(context, grouped).cells,
    context.asOf,
  );
  const { counter } = countIssues(context, grouped);
  return grouped.groups.map(({ items }, g) => {
    const resolved = observations[g].eventTimes.length;
    const { km, observed } = survival(context, observations[g]);
    // `open` is the backlog's (open at asOf), on every route; `unresolved` is what Kaplan–Meier censors
    // (no first resolution by asOf), which differs by the reopened (open, resolved before) and the
    // withdrawn (closed unresolved).
    let open = 0;
    for (let b = 0; b < BACKLOG_BUCKETS.length; b++) open += counter(g, COUNTER.backlog + b);
    return {
      issues: items.length,
      resolved,
      open,
      km,
      resolvedOnly: observed,
      // Last, so the CSV columns that were there before keep their places.
      unresolved: items.length - resolved,
    };
  });
}

function firstResponse(context: Context, grouped: GroupedRows): Figures[] {
  const observations = responseObservations(
    context.snapshot,
    grouped,
    countIssues(context, grouped).cells,
    context.asOf,
  );
  return grouped.groups.map(({ items }, g) => {
    const responded = observations[g].eventTimes.length;
    const { km, observed } = survival(context, observations[g]);
    return {
      issues: items.length,
      responded,
      censored: items.length - responded,
      km,
      respondedOnly: observed,
    };
  });
}

function slaFigures(context: Context, grouped: GroupedRows): Figures[] {
  const { counter } = countIssues(context, grouped);
  const clock = (g: number, from: number) => {
    const [met, breached, atRisk, onTrack, stopped] = SLA_STATES.map((_, state) => counter(g, from + state));
    return { met, breached, atRisk, onTrack, stopped, metRate: rate(met, met + breached) };
  };
  return grouped.groups.map(({ items }, g) => ({
    issues: items.length,
    firstResponse: clock(g, COUNTER.sla),
    resolution: clock(g, COUNTER.sla + STATES),
  }));
}

function reopens(context: Context, grouped: GroupedRows): Figures[] {
  const { counter } = countIssues(context, grouped);
  return grouped.groups.map(({ items }, g) => {
    const [resolved, reopened] = [counter(g, COUNTER.resolved), counter(g, COUNTER.reopened)];
    return { issues: items.length, resolved, reopened, reopenRate: rate(reopened, resolved) };
  });
}

function escalations(context: Context, grouped: GroupedRows): Figures[] {
  const { counter } = countIssues(context, grouped);
  return grouped.groups.map(({ items }, g) => ({
    issues: items.length,
    escalated: counter(g, COUNTER.escalated),
    escalationRate: rate(counter(g, COUNTER.escalated), items.length),
    byDestination: Object.fromEntries(
      ESCALATION_TARGETS.map((to, d) => {
        const issues = counter(g, COUNTER.escalatedTo + d);
        return [to, { issues, rate: rate(issues, items.length) }];
      }),
    ),
  }));
}

function csat(context: Context, grouped: GroupedRows): Figures[] {
  const { counter } = countIssues(context, grouped);
  return grouped.groups.map(({ items }, g) => {
    const distribution = [0, 1, 2, 3, 4].map((d) => counter(g, COUNTER.csat + d));
    const responses = distribution.reduce((sum, count) => sum + count, 0);
    const satisfied = distribution[3] + distribution[4];
    return {
      issues: items.length,
      responses,
      average: responses === 0 ? null : counter(g, COUNTER.csatSum) / responses,
      distribution: Object.fromEntries(distribution.map((count, d) => [String(d + 1), count])),
      satisfied,
      satisfiedShare: rate(satisfied, responses),
    };
  });
}

function firstContactResolution(context: Context, grouped: GroupedRows): Figures[] {
  const { counter } = countIssues(context, grouped);
  return grouped.groups.map(({ items }, g) => {
    const resolved = counter(g, COUNTER.resolved);
    const oneTouch = counter(g, COUNTER.oneTouch);
    const fcr = counter(g, COUNTER.firstContactResolved);
    return {
      issues: items.length,
      resolved,
      firstContactResolved: fcr,
      firstContactResolutionRate: rate(fcr, resolved),
      oneTouch,
      oneTouchRate: rate(oneTouch, resolved),
    };
  });
}

function backlog(context: Context, grouped: GroupedRows): Figures[] {
  const { snapshot, asOf } = context;
  const { counter, cells } = countIssues(context, grouped);
  const ages = openAges(snapshot, grouped, cells, asOf);
  return grouped.groups.map(({ items }, g) => {
    const age = describeSortedDurations(ages[g]);
    return {
      issues: items.length,
      open: ages[g].length,
      byAge: Object.fromEntries(BACKLOG_BUCKETS.map((name, b) => [name, counter(g, COUNTER.backlog + b)])),
      ageSeconds: {
        mean: age.mean,
        median: age.median,
        p90: age.p90,
        max: ages[g].length === 0 ? null : ages[g][ages[g].length - 1],
      },
    };
  });
}

function inPeriod(params: MetricParams, at: number): boolean {
  return at <= params.asOf && at >= (params.from ?? -Infinity) && at < (params.to ?? Infinity);
}

/** Refund or dispute rows in the period whose linked issue passes the filters, with those issue rows. */
function chargeItems(
  context: Context,
  size: number,
  time: Float64Array,
  issueOf: (row: number) => number,
  slot: string,
): { items: Int32Array; issueRows: Int32Array } {
  const items = scratchInt32(`${slot}:population`, size);
  const issueRows = scratchInt32(`${slot}:issueRows`, size);
  let count = 0;
  for (let row = 0; row < size; row++) {
    const issue = issueOf(row);
    if (!inPeriod(context.params, time[row]) || !issueMatches(context, issue)) continue;
    issueRows[count] = issue;
    items[count++] = row;
  }
  return { items: items.subarray(0, count), issueRows: issueRows.subarray(0, count) };
}

function refundsAnswer(context: Context): MetricGroup[] {
  const { snapshot, params } = context;
  const { f, i, size } = snapshot.refunds;
  const issueOf = (row: number) => snapshot.issueOf(i.charge[row], params.asOf);
  const { items, issueRows } = chargeItems(context, size, f.requestedAt, issueOf, 'refunds');
  const frame: ItemFrame = { issueRows, time: f.requestedAt };
  const { asOf } = params;
  return groupItems(items, params.groupBy, frame, context, 'refunds').map(({ key, items: rows }) => {
    let succeeded = 0;
    let pending = 0;
    let dueMet = 0;
    let dueBreached = 0;
    let withDueBy = 0;
    const turnaround: number[] = [];
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const ended = f.terminalAt[row] <= asOf && REFUND_TERMINAL.has(i.status[row]);
      const success = ended && i.status[row] === REFUND_SUCCEEDED;
      if (success) {
        succeeded++;
        turnaround.push(seconds(f.terminalAt[row] - f.requestedAt[row]));
      }
      if (!ended) pending++;
      const due = f.dueBy[row];
      if (Number.isNaN(due)) continue;
      withDueBy++;
      if (success) {
        if (f.terminalAt[row] <= due) dueMet++;
        else dueBreached++;
      } else if (!ended && asOf > due) dueBreached++;
    }
    return {
      key,
      requested: rows.length,
      succeeded,
      pending,
      unsuccessful: rows.length - succeeded - pending,
      turnaroundSucceededOnly: describeDurations(turnaround),
      withDueBy,
      dueMet,
      dueBreached,
      dueBreachRate: rate(dueBreached, dueMet + dueBreached),
    };
  });
}

function disputesAnswer(context: Context): MetricGroup[] {
  const { snapshot, params } = context;
  const { f, i, size } = snapshot.disputes;
  const issueOf = (row: number) => snapshot.issueOf(i.charge[row], params.asOf);
  const { items, issueRows } = chargeItems(context, size, f.openedAt, issueOf, 'disputes');
  const frame: ItemFrame = { issueRows, time: f.openedAt };
  const { asOf } = params;
  return groupItems(items, params.groupBy, frame, context, 'disputes').map(({ key, items: rows }) => {
    const outcomes = [0, 0, 0, 0];
    let withEvidence = 0;
    let evidenceLate = 0;
    let evidenceMissed = 0;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      outcomes[f.closedAt[row] <= asOf ? i.outcome[row] : 0]++;
      if (f.firstEvidenceAt[row] <= asOf) withEvidence++;
      // The deadline in force at asOf: an escalation after it has not moved it yet.
      const { due, firstLateAt } = snapshot.disputeDeadlineAt(row, asOf);
      if (firstLateAt <= asOf) evidenceLate++;
      if (due < asOf && !(f.firstEvidenceAt[row] <= due)) evidenceMissed++;
    }
    const [open, won, lost, accepted] = outcomes;
    return {
      key,
      disputes: rows.length,
      open,
      won,
      lost,
      accepted,
      winRate: rate(won, won + lost),
      withEvidence,
      evidenceAfterDueDate: evidenceLate,
      noEvidenceByDueDate: evidenceMissed,
    };
  });
}

function churnAnswer(context: Context): MetricGroup[] {
  const { snapshot, params } = context;
  const { f, i } = snapshot.issues;
  const { asOf } = params;
  // The anchor: each customer's first issue opened in the period (and matching the filters).
  const anchorOf = scratchInt32('churn:anchorOf', snapshot.customers.values.length).fill(-1);
  // The overview has selected the same population for its issue metrics already.
  const population = context.issueGroups?.rows ?? issuePopulation(context, 'churn');
  for (let k = 0; k < population.length; k++) {
    const row = population[k];
    const customer = i.customer[row];
    const current = anchorOf[customer];
    if (
      current === -1 ||
      f.openedAt[row] < f.openedAt[current] ||
      (f.openedAt[row] === f.openedAt[current] && snapshot.issueIds[row] < snapshot.issueIds[current])
    ) {
      anchorOf[customer] = row;
    }
  }
  const anchors = scratchInt32('churn:anchors', anchorOf.length);
  let anchorCount = 0;
  for (let customer = 0; customer < anchorOf.length; customer++) {
    if (anchorOf[customer] >= 0) anchors[anchorCount++] = anchorOf[customer];
  }
  const windowMs = params.window * DAY_MS;
  return groupItems(
    anchors.subarray(0, anchorCount),
    params.groupBy,
    issueFrame(snapshot),
    context,
    'churn',
  ).map(({ key, items: rows }) => {
    let pending = 0;
    let churned = 0;
    let voluntary = 0;
    let reactivated = 0;
    const reactivatedCustomers: string[] = [];
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const opened = f.openedAt[row];
      if (opened + windowMs > asOf) {
        pending++;
        continue;
      }
      const facts = snapshot.churn.get(i.customer[row]);
      if (facts === undefined) continue;
      // The first churn within the window (the earliest recorded among equal times).
      let churn: (typeof facts.churns)[number] | undefined;
      for (const candidate of facts.churns) {
        if (candidate.at < opened || candidate.at > opened + windowMs) continue;
        if (churn === undefined || candidate.at < churn.at) churn = candidate;
      }
      if (churn === undefined) continue;
      churned++;
      if (churn.voluntary) voluntary++;
      if (facts.reactivations.some((at) => at >= churn.at && at <= asOf)) {
        reactivated++;
        if (reactivatedCustomers.length < MAX_LISTED_CUSTOMERS) {
          reactivatedCustomers.push(snapshot.customers.values[i.customer[row]]);
        }
      }
    }
    const eligible = rows.length - pending;
    return {
      key,
      customers: rows.length,
      pending,
      eligible,
      churned,
      retained: eligible - churned,
      churnRate: rate(churned, eligible),
      voluntary,
      involuntary: churned - voluntary,
      reactivated,
      reactivatedCustomers: reactivatedCustomers.sort(),
    };
  });
}

/**
 * Which issue each customer's churn window starts from, named in the answer: a filter (`category=declined`)
 * anchors at the customer's first issue that matches it, a `groupBy` at the first issue of any kind (the
 * customer then counts in that issue's group only). So the `declined` row of `groupBy=category` and
 * `?category=declined` count different customers, and each answer says which it counted.
 */
export interface ChurnAnchor {
  rule: 'first-issue-in-period';
  /** The filters the anchor issue had to match (null: any). */
  matching: { category: string | null; channel: string | null; priority: string | null };
  description: string;
}

function churnAnchorOf(params: MetricParams): ChurnAnchor {
  const matching = {
    category: params.category ?? null,
    channel: params.channel ?? null,
    priority: params.priority ?? null,
  };
  const filters = Object.entries(matching)
    .filter(([, value]) => value !== null)
    .map(([field, value]) => `${field}=${value}`);
  const period = params.from !== undefined || params.to !== undefined ? 'in the period' : 'by asOf';
  const description =
    filters.length > 0
      ? `Each customer's first issue opened ${period} that matches ${filters.join(', ')}; ` +
        'issues of other kinds before it are not the anchor.'
      : `Each customer's first issue opened ${period}, of any kind` +
        (params.groupBy.length > 0
          ? `; the customer counts in that issue's group only (${params.groupBy.join(', ')}), so a group ` +
            'is not the same as filtering by it (a filter anchors at the first issue that matches).'
          : '.');
  return { rule: 'first-issue-in-period', matching, description };
}

/** The figures of every group, in the groups' order. */
type IssueMetric = (context: Context, grouped: GroupedRows) => Figures[];
const ISSUE_METRICS: Partial<Record<MetricName, IssueMetric>> = {
  'resolution-time': resolutionTime,
  'first-response': firstResponse,
  sla: slaFigures,
  reopens,
  escalations,
  csat,
  'first-contact-resolution': firstContactResolution,
  backlog,
};

function issueGroups(context: Context, metric: IssueMetric): MetricGroup[] {
  if (context.issueGroups === undefined) {
    const population = issuePopulation(context, 'issues');
    const groups = groupItems(
      population,
      context.params.groupBy,
      issueFrame(context.snapshot),
      context,
      'issues',
    );
    context.issueGroups = layOutGroups(population, groups, context.snapshot.issues.size, 'issues');
  }
  const grouped = context.issueGroups;
  context.curvePoints =
    context.params.curvePoints ??
    Math.max(
      MIN_CURVE_POINTS,
      Math.min(MAX_CURVE_POINTS, Math.floor(CURVE_POINT_BUDGET / grouped.groups.length)),
    );
  const figures = metric(context, grouped);
  return grouped.groups.map(({ key }, g) => ({ key, ...figures[g] }));
}

/** The overview's durations (seconds), each also given `humanized` (`3d 04:12:05`): the dashboard's reading. */
const OVERVIEW_DURATIONS: Partial<Record<string, readonly string[]>> = {
  resolutionTime: ['median', 'p90'],
  firstResponse: ['median'],
  backlog: ['medianAgeSeconds'],
  refunds: ['medianTurnaround'],
};

const pick = (figures: Figures | undefined, path: readonly string[]): unknown =>
  path.reduce<unknown>((value, field) => (value as Record<string, unknown> | undefined)?.[field], figures) ??
  null;

/** The dashboard's headline numbers: a few figures of each metric, for the same groups. */
function overviewGroups(overviewContext: Context): MetricGroup[] {
  // Its figures need no curves.
  const context: Context = {
    ...overviewContext,
    observedFigures: false,
    quantilesOnly: true,
    params: { ...overviewContext.params, curvePoints: MIN_CURVE_POINTS },
  };
  const resolution = issueGroups(context, resolutionTime);
  const parts: [string, MetricGroup[], Record<string, string>][] = [
    [
      'issues',
      resolution,
      { issues: 'issues', resolved: 'resolved', open: 'open', unresolved: 'unresolved' },
    ],
    ['resolutionTime', resolution, { median: 'km.median.value', p90: 'km.p90.value' }],
    ['firstResponse', issueGroups(context, firstResponse), { median: 'km.median.value' }],
    [
      'sla',
      issueGroups(context, slaFigures),
      { firstResponseMetRate: 'firstResponse.metRate', resolutionMetRate: 'resolution.metRate' },
    ],
    ['reopens', issueGroups(context, reopens), { rate: 'reopenRate' }],
    ['escalations', issueGroups(context, escalations), { rate: 'escalationRate' }],
    [
      'firstContactResolution',
      issueGroups(context, firstContactResolution),
      { rate: 'firstContactResolutionRate', oneTouchRate: 'oneTouchRate' },
    ],
    [
      'csat',
      issueGroups(context, csat),
      { average: 'average', satisfiedShare: 'satisfiedShare', responses: 'responses' },
    ],
    ['backlog', issueGroups(context, backlog), { open: 'open', medianAgeSeconds: 'ageSeconds.median' }],
    [
      'refunds',
      refundsAnswer(context),
      {
        requested: 'requested',
        dueBreachRate: 'dueBreachRate',
        medianTurnaround: 'turnaroundSucceededOnly.median',
      },
    ],
    [
      'disputes',
      disputesAnswer(context),
      { disputes: 'disputes', winRate: 'winRate', evidenceAfterDueDate: 'evidenceAfterDueDate' },
    ],
    ['churn', churnAnswer(context), { customers: 'customers', churnRate: 'churnRate', pending: 'pending' }],
  ];
  // The issue metrics share their groups' key objects: each is serialised once.
  const ids = new Map<Record<string, string | null>, string>();
  const idOf = (key: Record<string, string | null>) => {
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = JSON.stringify(key)));
    return id;
  };
  const merged = new Map<string, MetricGroup>();
  for (const [, groups] of parts) {
    for (const group of groups) {
      const id = idOf(group.key);
      if (!merged.has(id)) merged.set(id, { key: group.key });
    }
  }
  for (const [name, groups, fields] of parts) {
    const paths = Object.entries(fields).map(([field, path]) => [field, path.split('.')] as const);
    const durations = OVERVIEW_DURATIONS[name];
    const byKey = new Map(groups.map((group) => [idOf(group.key), group]));
    for (const [id, target] of merged) {
      const source = byKey.get(id);
      if (name === 'issues') {
        for (const [field, path] of paths) target[field] = pick(source, path) ?? 0;
      } else {
        const figures: Figures = {};
        for (const [field, path] of paths) figures[field] = pick(source, path);
        if (durations !== undefined) {
          figures.humanized = Object.fromEntries(
            durations.map((field) => [field, humanizedDuration(figures[field] as number | null)]),
          );
        }
        target[name] = figures;
      }
    }
  }
  return [...merged.values()];
}

/** Computes one metric over the snapshot (pure: same snapshot and params, same answer). */
export function computeMetric(
  metric: MetricName,
  snapshot: MetricsSnapshot,
  params: MetricParams,
  targets: SlaTargets,
): MetricAnswer {
  const context: Context = {
    snapshot,
    params,
    targets,
    asOf: params.asOf,
    curvePoints: params.curvePoints ?? MAX_CURVE_POINTS,
    observedFigures: true,
  };
  const issueMetric = ISSUE_METRICS[metric];
  const groups =
    issueMetric !== undefined
      ? issueGroups(context, issueMetric)
      : metric === 'refunds'
        ? refundsAnswer(context)
        : metric === 'disputes'
          ? disputesAnswer(context)
          : metric === 'churn'
            ? churnAnswer(context)
            : overviewGroups(context);
  const iso = (at: number | undefined) => (at === undefined ? null : new Date(at).toISOString());
  return {
    metric,
    asOf: new Date(params.asOf).toISOString(),
    from: iso(params.from),
    to: iso(params.to),
    filters: {
      category: params.category ?? null,
      channel: params.channel ?? null,
      priority: params.priority ?? null,
    },
    groupBy: [...params.groupBy],
    ...(metric === 'churn' || metric === 'overview'
      ? { window: params.window, churnAnchor: churnAnchorOf(params) }
      : {}),
    groups,
  };
}
