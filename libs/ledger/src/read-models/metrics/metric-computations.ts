import { CHANNELS, ESCALATION_TARGETS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import type { SlaTargets } from '../sla/sla';
import {
  groupItems,
  type Group,
  slaState,
  DAY_MS,
  type GroupDimension,
  type ItemFrame,
  scratchFloat64,
  scratchInt32,
  scratchUint8,
} from './metric-groups';
import { REFUND_SUCCEEDED, REFUND_TERMINAL, type MetricsSnapshot } from './metrics-snapshot';
import { describeDurations } from './statistics/descriptive';
import { kaplanMeier, kaplanMeierQuantiles } from './statistics/kaplan-meier';

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

/** Durations are whole seconds (business times carry milliseconds nobody reports on). */
const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

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
  issueGroups?: Group[];
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

function survival(context: Context, times: Float64Array, events: Uint8Array, observed: Float64Array) {
  if (context.quantilesOnly) {
    const [median, p75, p90] = kaplanMeierQuantiles(times, events, SUMMARY_PS).map((value) => ({
      value,
      lower: null,
      upper: null,
    }));
    return { km: { median, p75, p90, curve: [] }, observed: null };
  }
  const km = kaplanMeier(times, events, context.curvePoints);
  return {
    km: { median: km.median, p75: km.p75, p90: km.p90, curve: km.curve },
    observed: context.observedFigures ? describeDurations(observed) : null,
  };
}

function resolutionTime(context: Context, rows: Int32Array): Figures {
  const { f } = context.snapshot.issues;
  const { asOf } = context.params;
  const times = scratchFloat64('km:times', rows.length);
  const events = scratchUint8('km:events', rows.length);
  const resolvedTimes = scratchFloat64('km:observed', rows.length);
  let resolved = 0;
  const { firstResolvedAt, openedAt } = f;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const at = firstResolvedAt[row];
    const done = at <= asOf;
    times[k] = seconds((done ? at : asOf) - openedAt[row]);
    events[k] = done ? 1 : 0;
    if (done) resolvedTimes[resolved++] = times[k];
  }
  const { km, observed } = survival(context, times, events, resolvedTimes.subarray(0, resolved));
  return {
    issues: rows.length,
    resolved,
    open: rows.length - resolved,
    km,
    resolvedOnly: observed,
  };
}

function firstResponse(context: Context, rows: Int32Array): Figures {
  const { f } = context.snapshot.issues;
  const { asOf } = context.params;
  const times = scratchFloat64('km:times', rows.length);
  const events = scratchUint8('km:events', rows.length);
  const respondedTimes = scratchFloat64('km:observed', rows.length);
  let responded = 0;
  const { firstContactAt, firstResolvedAt, openedAt } = f;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const contact = firstContactAt[row];
    const resolved = firstResolvedAt[row];
    const resolvedFirst = resolved <= asOf && resolved < contact;
    const answered = contact <= asOf && !resolvedFirst;
    // Censored at asOf while open, at the resolution when resolved without a response.
    const end = answered ? contact : resolved <= asOf ? resolved : asOf;
    times[k] = seconds(end - openedAt[row]);
    events[k] = answered ? 1 : 0;
    if (answered) respondedTimes[responded++] = times[k];
  }
  const { km, observed } = survival(context, times, events, respondedTimes.subarray(0, responded));
  return {
    issues: rows.length,
    responded,
    censored: rows.length - responded,
    km,
    respondedOnly: observed,
  };
}

function slaFigures(context: Context, rows: Int32Array): Figures {
  const { f, i } = context.snapshot.issues;
  const { asOf } = context.params;
  const counts = { firstResponse: [0, 0, 0, 0], resolution: [0, 0, 0, 0] };
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const target = context.targets[PRIORITIES[i.priority[row]]];
    const opened = f.openedAt[row];
    counts.firstResponse[slaState(opened, f.firstContactAt[row], target.firstResponseMinutes, asOf)]++;
    counts.resolution[slaState(opened, f.firstResolvedAt[row], target.resolutionMinutes, asOf)]++;
  }
  const clock = (c: number[]) => ({
    met: c[0],
    breached: c[1],
    atRisk: c[2],
    onTrack: c[3],
    metRate: rate(c[0], c[0] + c[1]),
  });
  return {
    issues: rows.length,
    firstResponse: clock(counts.firstResponse),
    resolution: clock(counts.resolution),
  };
}

function reopens(context: Context, rows: Int32Array): Figures {
  const { f } = context.snapshot.issues;
  const { asOf } = context.params;
  let resolved = 0;
  let reopened = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if (f.firstResolvedAt[row] <= asOf) resolved++;
    if (f.firstReopenedAt[row] <= asOf) reopened++;
  }
  return { issues: rows.length, resolved, reopened, reopenRate: rate(reopened, resolved) };
}

function escalations(context: Context, rows: Int32Array): Figures {
  const { f } = context.snapshot.issues;
  const { asOf } = context.params;
  const columns = ESCALATION_TARGETS.map((to) => f[`escalated_${to}`]);
  const perTarget = ESCALATION_TARGETS.map(() => 0);
  let escalated = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    let any = false;
    for (let d = 0; d < columns.length; d++) {
      if (columns[d][row] <= asOf) {
        perTarget[d]++;
        any = true;
      }
    }
    if (any) escalated++;
  }
  return {
    issues: rows.length,
    escalated,
    escalationRate: rate(escalated, rows.length),
    byDestination: Object.fromEntries(
      ESCALATION_TARGETS.map((to, d) => [
        to,
        { issues: perTarget[d], rate: rate(perTarget[d], rows.length) },
      ]),
    ),
  };
}

function csat(context: Context, rows: Int32Array): Figures {
  const { f, i } = context.snapshot.issues;
  const { asOf } = context.params;
  const distribution = [0, 0, 0, 0, 0];
  let sum = 0;
  let responses = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const score = i.csat[row];
    if (score < 1 || !(f.feedbackAt[row] <= asOf)) continue;
    distribution[score - 1]++;
    sum += score;
    responses++;
  }
  const satisfied = distribution[3] + distribution[4];
  return {
    issues: rows.length,
    responses,
    average: responses === 0 ? null : sum / responses,
    distribution: Object.fromEntries(distribution.map((count, d) => [String(d + 1), count])),
    satisfied,
    satisfiedShare: rate(satisfied, responses),
  };
}

function firstContactResolution(context: Context, rows: Int32Array): Figures {
  const { f } = context.snapshot.issues;
  const { asOf } = context.params;
  let resolved = 0;
  let oneTouch = 0;
  let fcr = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if (!(f.firstResolvedAt[row] <= asOf)) continue;
    resolved++;
    const exactlyOne = f.firstContactAt[row] <= asOf && !(f.secondContactAt[row] <= asOf);
    if (!exactlyOne) continue;
    oneTouch++;
    if (!(f.firstReopenedAt[row] <= asOf)) fcr++;
  }
  return {
    issues: rows.length,
    resolved,
    firstContactResolved: fcr,
    firstContactResolutionRate: rate(fcr, resolved),
    oneTouch,
    oneTouchRate: rate(oneTouch, resolved),
  };
}

export const BACKLOG_BUCKETS = ['under_1d', '1d_to_3d', '3d_to_7d', '7d_to_30d', 'over_30d'] as const;
const BACKLOG_LIMITS = [1, 3, 7, 30].map((days) => days * DAY_MS);

/** Whether an issue row is open at asOf: never settled by then, or reopened last. */
function isOpenAt(snapshot: MetricsSnapshot, row: number, asOf: number): boolean {
  const { f } = snapshot.issues;
  // Never reopened (NaN): open until it first settled. Only reopened issues replay their transitions.
  if (!(f.firstReopenedAt[row] <= asOf)) return !(f.settledAt[row] <= asOf);
  const transitions = snapshot.reopenedTransitions.get(row) ?? [];
  let latest: { to: number; at: number } | null = null;
  for (const transition of transitions) {
    // Ledger order breaks ties of business time: the later recorded wins.
    if (transition.at <= asOf && (latest === null || transition.at >= latest.at)) latest = transition;
  }
  return latest === null || latest.to === 0;
}

function backlog(context: Context, rows: Int32Array): Figures {
  const { snapshot } = context;
  const { asOf } = context.params;
  const buckets = BACKLOG_BUCKETS.map(() => 0);
  const ages = scratchFloat64('backlog:ages', rows.length);
  let open = 0;
  const { openedAt } = snapshot.issues.f;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if (!isOpenAt(snapshot, row, asOf)) continue;
    const age = asOf - openedAt[row];
    let bucket = 0;
    while (bucket < BACKLOG_LIMITS.length && age >= BACKLOG_LIMITS[bucket]) bucket++;
    buckets[bucket]++;
    ages[open++] = seconds(age);
  }
  const openAges = ages.subarray(0, open);
  let oldest: number | null = null;
  for (let k = 0; k < open; k++) if (oldest === null || openAges[k] > oldest) oldest = openAges[k];
  const age = describeDurations(openAges);
  return {
    issues: rows.length,
    open,
    byAge: Object.fromEntries(BACKLOG_BUCKETS.map((name, b) => [name, buckets[b]])),
    ageSeconds: {
      mean: age.mean,
      median: age.median,
      p90: age.p90,
      max: oldest,
    },
  };
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
        const churn = facts?.churns
          .filter((c) => c.at >= opened && c.at <= opened + windowMs)
          .sort((a, b) => a.at - b.at)[0];
        if (churn === undefined || facts === undefined) continue;
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

type IssueMetric = (context: Context, rows: Int32Array) => Figures;
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
  context.issueGroups ??= groupItems(
    issuePopulation(context, 'issues'),
    context.params.groupBy,
    issueFrame(context.snapshot),
    context,
    'issues',
  );
  const groups = context.issueGroups;
  context.curvePoints =
    context.params.curvePoints ??
    Math.max(MIN_CURVE_POINTS, Math.min(MAX_CURVE_POINTS, Math.floor(CURVE_POINT_BUDGET / groups.length)));
  return groups.map(({ key, items }) => ({ key, ...metric(context, items) }));
}

const pick = (figures: Figures | undefined, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((value, field) => (value as Record<string, unknown> | undefined)?.[field], figures) ??
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
  const merged = new Map<string, MetricGroup>();
  for (const [, groups] of parts) {
    for (const group of groups) {
      const id = JSON.stringify(group.key);
      if (!merged.has(id)) merged.set(id, { key: group.key });
    }
  }
  for (const [name, groups, fields] of parts) {
    const byKey = new Map(groups.map((group) => [JSON.stringify(group.key), group]));
    for (const [id, target] of merged) {
      const source = byKey.get(id);
      if (name === 'issues') {
        for (const [field, path] of Object.entries(fields)) target[field] = pick(source, path) ?? 0;
      } else {
        target[name] = Object.fromEntries(
          Object.entries(fields).map(([field, path]) => [field, pick(source, path)]),
        );
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
