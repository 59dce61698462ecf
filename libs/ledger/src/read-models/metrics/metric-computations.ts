import { CHANNELS, ESCALATION_TARGETS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import type { SlaTargets } from '../sla/sla';
import {
  groupItems,
  type GroupedRows,
  layOutGroups,
  slaState,
  DAY_MS,
  type GroupDimension,
  type ItemFrame,
  scratchInt32,
  seconds,
} from './metric-groups';
import { REFUND_SUCCEEDED, REFUND_TERMINAL, type MetricsSnapshot } from './metrics-snapshot';
import { describeDurations, describeSortedDurations } from './statistics/descriptive';
import {
  kaplanMeierOfSorted,
  kaplanMeierQuantilesOfSorted,
  type SortedObservations,
} from './statistics/kaplan-meier';
import { issueStates, OPEN, openAges, resolutionObservations, responseObservations } from './sorted-times';

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
  /** issueStates of those groups' rows at asOf. */
  issueStates?: Int32Array;
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

/** What holds at asOf for each row of the answer's groups, computed once per answer. */
function statesOf(context: Context, grouped: GroupedRows): Int32Array {
  const { snapshot, asOf } = context;
  context.issueStates ??= issueStates(snapshot, grouped, asOf);
  return context.issueStates;
}

function resolutionTime(context: Context, grouped: GroupedRows): Figures[] {
  const observations = resolutionObservations(
    context.snapshot,
    grouped,
    statesOf(context, grouped),
    context.asOf,
  );
  return grouped.groups.map(({ items }, g) => {
    const resolved = observations[g].eventTimes.length;
    const { km, observed } = survival(context, observations[g]);
    return { issues: items.length, resolved, open: items.length - resolved, km, resolvedOnly: observed };
  });
}

function firstResponse(context: Context, grouped: GroupedRows): Figures[] {
  const observations = responseObservations(
    context.snapshot,
    grouped,
    statesOf(context, grouped),
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

/**
 * The issue metrics count for every group in one pass over the rows in row order, so that the columns are
 * read front to back (a pass per group would jump across them): `width` counters per group, group g's from
 * g * width. The loops stay in each metric: a shared loop calling back per row measured slower.
 */
const countersFor = (grouped: GroupedRows, width: number) => new Float64Array(grouped.groups.length * width);

function slaFigures(context: Context, grouped: GroupedRows): Figures[] {
  const { f, i } = context.snapshot.issues;
  const { asOf } = context;
  const { openedAt, firstContactAt, firstResolvedAt } = f;
  const priority = i.priority;
  const responseTarget = PRIORITIES.map((name) => context.targets[name].firstResponseMinutes);
  const resolutionTarget = PRIORITIES.map((name) => context.targets[name].resolutionMinutes);
  // Counters 0-3: first response met / breached / at risk / on track; 4-7: the same for resolution.
  const counts = countersFor(grouped, 8);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const base = groupOfItem[k] * 8;
    const opened = openedAt[row];
    counts[base + slaState(opened, firstContactAt[row], responseTarget[priority[row]], asOf)]++;
    counts[base + 4 + slaState(opened, firstResolvedAt[row], resolutionTarget[priority[row]], asOf)]++;
  }
  const clock = (g: number, from: number) => {
    const [met, breached, atRisk, onTrack] = [0, 1, 2, 3].map((state) => counts[g * 8 + from + state]);
    return { met, breached, atRisk, onTrack, metRate: rate(met, met + breached) };
  };
  return grouped.groups.map(({ items }, g) => ({
    issues: items.length,
    firstResponse: clock(g, 0),
    resolution: clock(g, 4),
  }));
}

function reopens(context: Context, grouped: GroupedRows): Figures[] {
  const { firstResolvedAt, firstReopenedAt } = context.snapshot.issues.f;
  const { asOf } = context;
  const counts = countersFor(grouped, 2);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const base = groupOfItem[k] * 2;
    if (firstResolvedAt[row] <= asOf) counts[base]++;
    if (firstReopenedAt[row] <= asOf) counts[base + 1]++;
  }
  return grouped.groups.map(({ items }, g) => {
    const [resolved, reopened] = [counts[g * 2], counts[g * 2 + 1]];
    return { issues: items.length, resolved, reopened, reopenRate: rate(reopened, resolved) };
  });
}

function escalations(context: Context, grouped: GroupedRows): Figures[] {
  const { f } = context.snapshot.issues;
  const { asOf } = context;
  const columns = ESCALATION_TARGETS.map((to) => f[`escalated_${to}`]);
  const destinations = columns.length;
  const width = 1 + destinations;
  // Counter 0: escalated anywhere; 1 + d: to destination d.
  const counts = countersFor(grouped, width);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const base = groupOfItem[k] * width;
    let any = false;
    for (let d = 0; d < destinations; d++) {
      if (columns[d][row] <= asOf) {
        counts[base + 1 + d]++;
        any = true;
      }
    }
    if (any) counts[base]++;
  }
  const counter = (g: number, c: number) => counts[g * width + c];
  return grouped.groups.map(({ items }, g) => ({
    issues: items.length,
    escalated: counter(g, 0),
    escalationRate: rate(counter(g, 0), items.length),
    byDestination: Object.fromEntries(
      ESCALATION_TARGETS.map((to, d) => [
        to,
        { issues: counter(g, 1 + d), rate: rate(counter(g, 1 + d), items.length) },
      ]),
    ),
  }));
}

function csat(context: Context, grouped: GroupedRows): Figures[] {
  const { f, i } = context.snapshot.issues;
  const { asOf } = context;
  const { feedbackAt } = f;
  const scores = i.csat;
  // Counters 0-4: scores 1-5; 5: their sum.
  const counts = countersFor(grouped, 6);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const score = scores[row];
    if (score < 1 || !(feedbackAt[row] <= asOf)) continue;
    const base = groupOfItem[k] * 6;
    counts[base + score - 1]++;
    counts[base + 5] += score;
  }
  return grouped.groups.map(({ items }, g) => {
    const distribution = [0, 1, 2, 3, 4].map((d) => counts[g * 6 + d]);
    const responses = distribution.reduce((sum, count) => sum + count, 0);
    const satisfied = distribution[3] + distribution[4];
    return {
      issues: items.length,
      responses,
      average: responses === 0 ? null : counts[g * 6 + 5] / responses,
      distribution: Object.fromEntries(distribution.map((count, d) => [String(d + 1), count])),
      satisfied,
      satisfiedShare: rate(satisfied, responses),
    };
  });
}

function firstContactResolution(context: Context, grouped: GroupedRows): Figures[] {
  const { firstResolvedAt, firstContactAt, secondContactAt, firstReopenedAt } = context.snapshot.issues.f;
  const { asOf } = context;
  // Counters: resolved, one touch (exactly one contact by asOf), first contact resolved (and not reopened).
  const counts = countersFor(grouped, 3);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if (!(firstResolvedAt[row] <= asOf)) continue;
    const base = groupOfItem[k] * 3;
    counts[base]++;
    if (!(firstContactAt[row] <= asOf) || secondContactAt[row] <= asOf) continue;
    counts[base + 1]++;
    if (!(firstReopenedAt[row] <= asOf)) counts[base + 2]++;
  }
  return grouped.groups.map(({ items }, g) => {
    const [resolved, oneTouch, fcr] = [0, 1, 2].map((c) => counts[g * 3 + c]);
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

export const BACKLOG_BUCKETS = ['under_1d', '1d_to_3d', '3d_to_7d', '7d_to_30d', 'over_30d'] as const;
const BACKLOG_LIMITS = [1, 3, 7, 30].map((days) => days * DAY_MS);

function backlog(context: Context, grouped: GroupedRows): Figures[] {
  const { snapshot, asOf } = context;
  const { openedAt } = snapshot.issues.f;
  const states = statesOf(context, grouped);
  const width = BACKLOG_BUCKETS.length;
  const buckets = countersFor(grouped, width);
  const { rows, groupOfItem } = grouped;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if ((states[row] & OPEN) === 0) continue;
    const age = asOf - openedAt[row];
    let bucket = 0;
    while (bucket < BACKLOG_LIMITS.length && age >= BACKLOG_LIMITS[bucket]) bucket++;
    buckets[groupOfItem[k] * width + bucket]++;
  }
  const ages = openAges(snapshot, grouped, states, asOf);
  return grouped.groups.map(({ items }, g) => {
    const age = describeSortedDurations(ages[g]);
    return {
      issues: items.length,
      open: ages[g].length,
      byAge: Object.fromEntries(BACKLOG_BUCKETS.map((name, b) => [name, buckets[g * width + b]])),
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
  const issueOf = (row: number) => snapshot.issueOf(i.charge[row]);
  const { items, issueRows } = chargeItems(context, size, f.requestedAt, (row) => issueOf(row), 'refunds');
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
  const issueOf = (row: number) => snapshot.issueOf(i.charge[row]);
  const { items, issueRows } = chargeItems(context, size, f.openedAt, (row) => issueOf(row), 'disputes');
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
      if (f.firstLateEvidenceAt[row] <= asOf) evidenceLate++;
      const due = f.dueBy[row];
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
  const anchorOf = new Int32Array(snapshot.customers.values.length).fill(-1);
  const population = issuePopulation(context, 'churn');
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
  const anchors = anchorOf.filter((row) => row >= 0);
  const windowMs = params.window * DAY_MS;
  return groupItems(anchors, params.groupBy, issueFrame(snapshot), context, 'churn').map(
    ({ key, items: rows }) => {
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
    },
  );
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
    ['issues', resolution, { issues: 'issues', resolved: 'resolved', open: 'open' }],
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
    const byKey = new Map(groups.map((group) => [idOf(group.key), group]));
    for (const [id, target] of merged) {
      const source = byKey.get(id);
      if (name === 'issues') {
        for (const [field, path] of paths) target[field] = pick(source, path) ?? 0;
      } else {
        const figures: Figures = {};
        for (const [field, path] of paths) figures[field] = pick(source, path);
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
    ...(metric === 'churn' || metric === 'overview' ? { window: params.window } : {}),
    groups,
  };
}
