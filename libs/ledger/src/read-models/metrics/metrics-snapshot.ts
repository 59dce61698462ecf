import type { ProjectionsControl } from '../../application/ports/projections.port';
import type { ReadDocument, ReadModelStore } from '../../application/ports/read-model-store.port';
import { CHANNELS, ESCALATION_TARGETS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import {
  METRIC_CHARGES,
  METRIC_CUSTOMERS,
  METRIC_ISSUES,
  METRICS_PROJECTION,
  type MetricChargeDocument,
  type MetricCustomerDocument,
  type MetricIssueDocument,
  readDispute,
  readIssueDocument,
  type RefundTerminal,
} from './metrics.projection';

/** Missing times are NaN: every comparison with NaN is false, so "happened by asOf" needs no extra test. */
const NONE = Number.NaN;
const ms = (iso: string | null | undefined): number => (iso == null ? NONE : Date.parse(iso));

export const REFUND_STATUS = [
  'requested',
  'approved',
  'succeeded',
  'rejected',
  'failed',
  'canceled',
] as const;
export const DISPUTE_OUTCOME = [null, 'won', 'lost', 'accepted'] as const;
export const TRANSITION_TO = ['open', 'resolved', 'closed'] as const;
export type TransitionCode = 0 | 1 | 2;

const indexOf = <T>(list: readonly T[]) => new Map(list.map((value, index) => [value, index]));
const CATEGORY_CODE = indexOf<string>(ISSUE_CATEGORIES);
const CHANNEL_CODE = indexOf<string>(CHANNELS);
const PRIORITY_CODE = indexOf<string>(PRIORITIES);
const REFUND_STATUS_CODE = indexOf<string>(REFUND_STATUS);
const OUTCOME_CODE = indexOf<string | null>(DISPUTE_OUTCOME);
const TRANSITION_CODE = indexOf<string>(TRANSITION_TO);

/** Strings seen once, then referred to by a dense index (agents, customers, charges). */
export class Dictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  code(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.index.set(value, code);
    }
    return code;
  }

  find(value: string): number | undefined {
    return this.index.get(value);
  }
}

/** Typed columns that grow by doubling; rows are appended and updated in place. */
class Columns<F extends string, I extends string> {
  size = 0;
  private capacity = 0;
  readonly f = {} as Record<F, Float64Array>;
  readonly i = {} as Record<I, Int32Array>;

  constructor(
    private readonly floatNames: readonly F[],
    private readonly intNames: readonly I[],
  ) {
    this.grow(1024);
  }

  addRow(): number {
    if (this.size === this.capacity) this.grow(this.capacity * 2);
    return this.size++;
  }

  private grow(capacity: number): void {
    for (const name of this.floatNames) {
      const next = new Float64Array(capacity).fill(NONE);
      if (this.f[name]) next.set(this.f[name]);
      this.f[name] = next;
    }
    for (const name of this.intNames) {
      const next = new Int32Array(capacity).fill(-1);
      if (this.i[name]) next.set(this.i[name]);
      this.i[name] = next;
    }
    this.capacity = capacity;
  }
}

const ISSUE_TIMES = [
  'openedAt',
  'firstContactAt',
  'secondContactAt',
  'firstResolvedAt',
  'firstReopenedAt',
  /** First resolution or close, whichever came first: the end of the first open stretch. */
  'settledAt',
  /** When the latest feedback (csat) was given; the latest assignment (agent) made. */
  'feedbackAt',
  'assignedAt',
  ...ESCALATION_TARGETS.map((to) => `escalated_${to}` as const),
] as const;
const ISSUE_CODES = [
  'category',
  'channel',
  'priority',
  /** The latest score (feedbackAt), -1 none. */
  'csat',
  /** The latest assignee (assignedAt), -1 none (Dictionary `agents`). */
  'agent',
  'customer',
] as const;
export type IssueTime = (typeof ISSUE_TIMES)[number];

export type Transition = { to: TransitionCode; at: number };

/** Values of one row over business time, ascending (ties in ledger order): `values[k]` from `at[k]` on. */
interface Timeline {
  at: number[];
  values: number[];
}

/** The value in force at `instant`: the last set by then, or -1. */
function valueAt(timeline: Timeline, instant: number): number {
  for (let k = timeline.at.length - 1; k >= 0; k--) if (timeline.at[k] <= instant) return timeline.values[k];
  return -1;
}

/** Entries sorted by time, stably (equal times stay in ledger order: the later recorded wins). */
function timelineOf<T>(
  entries: readonly T[],
  at: (entry: T) => string,
  value: (entry: T) => number,
): Timeline {
  const sorted = entries
    .map((entry) => ({ at: ms(at(entry)), value: value(entry) }))
    .sort((a, b) => a.at - b.at);
  return { at: sorted.map((e) => e.at), values: sorted.map((e) => e.value) };
}

/** A dispute's deadlines as set over time, and its evidence submissions (ascending). */
interface DisputeTimeline {
  deadlines: Timeline;
  evidence: number[];
}

/**
 * The metrics facts of the read model, held in the API process as typed columns (docs/metrics.md): a
 * query filters and groups 100,000s of rows in milliseconds, where reading as many documents from the
 * store would take seconds. Refreshed incrementally: only documents whose indexed `lastPosition` moved
 * past the highest one already held are read again.
 */
export class MetricsSnapshot {
  readonly agents = new Dictionary();
  readonly customers = new Dictionary();
  readonly charges = new Dictionary();

  readonly issues = new Columns<IssueTime, (typeof ISSUE_CODES)[number]>(ISSUE_TIMES, ISSUE_CODES);
  readonly issueIds: string[] = [];
  private readonly issueRow = new Map<string, number>();
  /** Status changes of issues that were reopened, by row; the others settle once (settledAt). */
  readonly reopenedTransitions = new Map<number, Transition[]>();
  /**
   * Whole histories, only for the rows whose value changed over time (the latest is in the columns
   * `agent`/`assignedAt` and `csat`/`feedbackAt`): an instant before the latest change looks here.
   */
  private readonly assignmentHistory = new Map<number, Timeline>();
  private readonly feedbackHistory = new Map<number, Timeline>();
  /**
   * Per charge (Dictionary `charges`): of the issue rows that link it, the earliest opened, and since when
   * it links it (linkRow -1: none); charges linked by several issues also keep every link in `moreLinks`.
   */
  private linkRow = new Int32Array(1024).fill(-1);
  private linkAt = new Float64Array(1024).fill(NONE);
  private readonly moreLinks = new Map<number, { row: number; at: number }[]>();

  readonly refunds = new Columns(
    ['requestedAt', 'dueBy', 'terminalAt'] as const,
    ['status', 'charge'] as const,
  );
  private readonly refundRows = new Map<number, number[]>();
  readonly disputes = new Columns(
    /**
     * dueBy: the latest deadline, set at dueSetAt; firstLateEvidenceAt: the first submission after it.
     * An instant before dueSetAt looks at the dispute's timeline (disputeDeadlineAt).
     */
    ['openedAt', 'dueBy', 'dueSetAt', 'firstEvidenceAt', 'firstLateEvidenceAt', 'closedAt'] as const,
    ['outcome', 'charge'] as const,
  );
  private readonly disputeRows = new Map<number, number[]>();
  private readonly disputeTimelines = new Map<number, DisputeTimeline>();

  /** By customer (Dictionary `customers`): churn times and kinds, reactivation times. */
  readonly churn = new Map<
    number,
    { churns: { voluntary: boolean; at: number }[]; reactivations: number[] }
  >();

  /** The highest lastPosition held per collection: the next refresh reads past it. */
  readonly positions: Record<string, number> = {
    [METRIC_ISSUES]: -1,
    [METRIC_CHARGES]: -1,
    [METRIC_CUSTOMERS]: -1,
  };

  /** Counts ingested documents: whatever is derived from the rows (sorted-times.ts) is valid for one version. */
  version = 0;
  /**
   * Issue rows written since the last takeChangedIssueRows() (repeats allowed), so that what is derived from
   * them can be updated instead of rebuilt; null once more were written than the table has rows (then
   * "anything may have changed"), so that nothing grows without a reader.
   */
  private changedIssueRows: number[] | null = [];

  ingest(collection: string, doc: ReadDocument): void {
    this.version++;
    if (collection === METRIC_ISSUES) this.putIssue(readIssueDocument(doc as unknown as MetricIssueDocument));
    else if (collection === METRIC_CHARGES) this.putCharge(doc as unknown as MetricChargeDocument);
    else if (collection === METRIC_CUSTOMERS) this.putCustomer(doc as unknown as MetricCustomerDocument);
    else return;
    this.positions[collection] = Math.max(this.positions[collection], Number(doc.lastPosition));
  }

  issueTime(name: IssueTime): Float64Array {
    return this.issues.f[name];
  }

  /** The issue rows written since the previous call, or null when they were too many to keep (see above). */
  takeChangedIssueRows(): number[] | null {
    const rows = this.changedIssueRows;
    this.changedIssueRows = [];
    return rows;
  }

  private putIssue(doc: MetricIssueDocument): void {
    let row = this.issueRow.get(doc.id);
    if (row === undefined) {
      row = this.issues.addRow();
      this.issueRow.set(doc.id, row);
      this.issueIds[row] = doc.id;
    }
    if (this.changedIssueRows !== null) {
      this.changedIssueRows.push(row);
      if (this.changedIssueRows.length > Math.max(1024, this.issues.size)) this.changedIssueRows = null;
    }
    const { f, i } = this.issues;
    f.openedAt[row] = ms(doc.openedAt);
    f.firstContactAt[row] = ms(doc.firstAgentContactAt);
    f.secondContactAt[row] = ms(doc.secondAgentContactAt);
    f.firstResolvedAt[row] = ms(doc.firstResolvedAt);
    f.firstReopenedAt[row] = ms(doc.firstReopenedAt);
    for (const to of ESCALATION_TARGETS) f[`escalated_${to}`][row] = ms(doc.escalatedAt[to]);
    const transitions = doc.transitions.map((t) => ({
      to: TRANSITION_CODE.get(t.to) as TransitionCode,
      at: ms(t.at),
    }));
    // Backlog at asOf: until the first resolve/close the issue is open; after it, only a reopen matters.
    f.settledAt[row] =
      transitions.length > 0 ? Math.min(...transitions.filter((t) => t.to !== 0).map((t) => t.at)) : NONE;
    if (doc.firstReopenedAt !== null) this.reopenedTransitions.set(row, transitions);
    else this.reopenedTransitions.delete(row);
    i.category[row] = CATEGORY_CODE.get(doc.category) ?? -1;
    i.channel[row] = CHANNEL_CODE.get(doc.channel) ?? -1;
    i.priority[row] = PRIORITY_CODE.get(doc.priority) ?? -1;
    this.putTimeline(
      row,
      timelineOf(
        doc.feedback,
        (entry) => entry.at,
        (entry) => entry.csat,
      ),
      f.feedbackAt,
      i.csat,
      this.feedbackHistory,
    );
    this.putTimeline(
      row,
      timelineOf(
        doc.assignments,
        (entry) => entry.at,
        (entry) => this.agents.code(entry.agentId),
      ),
      f.assignedAt,
      i.agent,
      this.assignmentHistory,
    );
    i.customer[row] = this.customers.code(doc.customerId);
    for (const { chargeId, at } of doc.charges) {
      // Nothing links a charge to an issue before the issue exists.
      this.linkCharge(this.charges.code(chargeId), row, Math.max(ms(at), f.openedAt[row]));
    }
  }

  /** The latest entry into the columns; the whole timeline aside when there is more than one. */
  private putTimeline(
    row: number,
    timeline: Timeline,
    latestAt: Float64Array,
    latest: Int32Array,
    history: Map<number, Timeline>,
  ): void {
    const last = timeline.at.length - 1;
    latestAt[row] = last < 0 ? NONE : timeline.at[last];
    latest[row] = last < 0 ? -1 : timeline.values[last];
    if (last > 0) history.set(row, timeline);
    else history.delete(row);
  }

  /** The latest CSAT score given by `instant`, -1 none. */
  csatAt(row: number, instant: number): number {
    return this.latestAt(row, instant, this.issues.f.feedbackAt, this.issues.i.csat, this.feedbackHistory);
  }

  /** The assignee at `instant` (the agents Dictionary's code), -1 none. */
  agentAt(row: number, instant: number): number {
    return this.latestAt(row, instant, this.issues.f.assignedAt, this.issues.i.agent, this.assignmentHistory);
  }

  /** A value kept by putTimeline, as it was at `instant`: the columns' latest unless set after it. */
  private latestAt(
    row: number,
    instant: number,
    latestAt: Float64Array,
    latest: Int32Array,
    history: Map<number, Timeline>,
  ): number {
    const at = latestAt[row];
    if (at <= instant) return latest[row];
    // Never set (NaN), or set once and only after the instant: nothing by then.
    if (!(at > instant)) return -1;
    const timeline = history.get(row);
    return timeline === undefined ? -1 : valueAt(timeline, instant);
  }

  /** Whether an issue row is open at asOf (in the backlog): never settled by then, or reopened last. */
  isOpenAt(row: number, asOf: number): boolean {
    const { f } = this.issues;
    // Never reopened (NaN): open until it first settled. Only reopened issues replay their transitions.
    if (!(f.firstReopenedAt[row] <= asOf)) return !(f.settledAt[row] <= asOf);
    const transitions = this.reopenedTransitions.get(row) ?? [];
    let latest: Transition | null = null;
    for (const transition of transitions) {
      // Ledger order breaks ties of business time: the later recorded wins.
      if (transition.at <= asOf && (latest === null || transition.at >= latest.at)) latest = transition;
    }
    return latest === null || latest.to === 0;
  }

  /**
   * The issue row a charge's refunds and disputes count for at `instant`: of the issues linking it by
   * then, the earliest opened (ties: the smaller issue id); -1 when none does.
   */
  issueOf(charge: number, instant: number): number {
    if (charge >= this.linkRow.length) return -1;
    // The earliest opened of all links, when linked by then, is the earliest of those linked by then.
    if (this.linkAt[charge] <= instant) return this.linkRow[charge];
    const links = this.moreLinks.get(charge);
    return links === undefined ? -1 : this.earliestOpened(links, instant);
  }

  /** Of the links made by `instant`, the earliest-opened issue row (ties: the smaller issue id); -1 none. */
  private earliestOpened(links: readonly { row: number; at: number }[], instant: number): number {
    const opened = this.issues.f.openedAt;
    let best = -1;
    for (const { row, at } of links) {
      if (!(at <= instant)) continue;
      if (
        best === -1 ||
        opened[row] < opened[best] ||
        (opened[row] === opened[best] && this.issueIds[row] < this.issueIds[best])
      ) {
        best = row;
      }
    }
    return best;
  }

  /** Records that issue `row` links the charge from `at` on (a repeated link may only move it earlier). */
  private linkCharge(charge: number, row: number, at: number): void {
    if (charge >= this.linkRow.length) {
      const capacity = Math.max(charge + 1, this.linkRow.length * 2);
      const rows = new Int32Array(capacity).fill(-1);
      rows.set(this.linkRow);
      const times = new Float64Array(capacity).fill(NONE);
      times.set(this.linkAt);
      [this.linkRow, this.linkAt] = [rows, times];
    }
    let links = this.moreLinks.get(charge);
    const current = this.linkRow[charge];
    if (links === undefined && (current === -1 || current === row)) {
      this.linkRow[charge] = row;
      this.linkAt[charge] = at;
      return;
    }
    if (links === undefined) {
      links = [{ row: current, at: this.linkAt[charge] }];
      this.moreLinks.set(charge, links);
    }
    const link = links.find((entry) => entry.row === row);
    if (link === undefined) links.push({ row, at });
    else link.at = at;
    const best = this.earliestOpened(links, Infinity);
    this.linkRow[charge] = best;
    this.linkAt[charge] = links.find((entry) => entry.row === best)?.at ?? NONE;
  }

  private putCharge(doc: MetricChargeDocument): void {
    const charge = this.charges.code(doc.id);
    const refundRows = this.refundRows.get(charge) ?? [];
    doc.refunds.forEach((refund, index) => {
      let row = refundRows[index];
      if (row === undefined) refundRows.push((row = this.refunds.addRow()));
      const { f, i } = this.refunds;
      f.requestedAt[row] = ms(refund.requestedAt);
      f.dueBy[row] = ms(refund.dueBy);
      f.terminalAt[row] = ms(refund.terminalAt);
      i.status[row] = REFUND_STATUS_CODE.get(refund.status) ?? 0;
      i.charge[row] = charge;
    });
    this.refundRows.set(charge, refundRows);
    const disputeRows = this.disputeRows.get(charge) ?? [];
    doc.disputes.map(readDispute).forEach((dispute, index) => {
      let row = disputeRows[index];
      if (row === undefined) disputeRows.push((row = this.disputes.addRow()));
      const { f, i } = this.disputes;
      const deadlines = timelineOf(
        dispute.deadlines,
        (d) => d.at,
        (d) => ms(d.dueBy),
      );
      const evidence = dispute.evidenceSubmittedAt.map(ms).sort((a, b) => a - b);
      const last = deadlines.at.length - 1;
      const opened = ms(dispute.openedAt);
      const due = last < 0 ? NONE : deadlines.values[last];
      f.openedAt[row] = opened;
      f.dueBy[row] = due;
      f.dueSetAt[row] = last < 0 ? NONE : deadlines.at[last];
      f.firstEvidenceAt[row] = evidence.length > 0 ? evidence[0] : NONE;
      f.firstLateEvidenceAt[row] = evidence.find((at) => at > due) ?? NONE;
      // Only a deadline set after the opening (an escalation) can differ at an instant the dispute existed.
      if (f.dueSetAt[row] > opened) this.disputeTimelines.set(row, { deadlines, evidence });
      else this.disputeTimelines.delete(row);
      f.closedAt[row] = ms(dispute.closedAt);
      i.outcome[row] = OUTCOME_CODE.get(dispute.outcome) ?? 0;
      i.charge[row] = charge;
    });
    this.disputeRows.set(charge, disputeRows);
  }

  /**
   * The evidence deadline of a dispute in force at `instant` (the latest set by then; NaN: none) and its
   * first submission after that deadline (NaN: none), as of any instant the dispute existed.
   */
  disputeDeadlineAt(row: number, instant: number): { due: number; firstLateAt: number } {
    const { f } = this.disputes;
    const timeline = f.dueSetAt[row] > instant ? this.disputeTimelines.get(row) : undefined;
    if (timeline === undefined) return { due: f.dueBy[row], firstLateAt: f.firstLateEvidenceAt[row] };
    const last = timeline.deadlines.at.findLastIndex((at) => at <= instant);
    const due = last < 0 ? NONE : timeline.deadlines.values[last];
    return { due, firstLateAt: timeline.evidence.find((at) => at > due) ?? NONE };
  }

  private putCustomer(doc: MetricCustomerDocument): void {
    this.churn.set(this.customers.code(doc.id), {
      churns: doc.churns.map((c) => ({ voluntary: c.kind === 'voluntary', at: ms(c.at) })),
      reactivations: doc.reactivations.map(ms),
    });
  }
}

/** Terminal refund statuses by code, for the computations. */
export const REFUND_TERMINAL: ReadonlySet<number> = new Set(
  (['succeeded', 'rejected', 'failed', 'canceled'] satisfies RefundTerminal[]).map(
    (status) => REFUND_STATUS_CODE.get(status) as number,
  ),
);
export const REFUND_SUCCEEDED = REFUND_STATUS_CODE.get('succeeded') as number;

const PAGE = 1000;

/**
 * Keeps a MetricsSnapshot in step with the store: each refresh reads, per collection, the documents
 * with `lastPosition` above the highest held (an indexed range, nothing when nothing changed). Refreshes
 * are single-flight: concurrent queries share one. A finished rebuild of the projection replaces the
 * documents wholesale (a new version may change them below the positions held), so the snapshot is then
 * read again from scratch.
 */
export class MetricsSnapshotLoader {
  private snapshot = new MetricsSnapshot();
  private inFlight: Promise<MetricsSnapshot> | null = null;
  private lastRebuild: string | null = null;

  constructor(
    private readonly store: ReadModelStore,
    private readonly projections?: Pick<ProjectionsControl, 'rebuilds' | 'onAdvanced'>,
  ) {}

  /**
   * Nest hook: the first load (seconds at a million issues) starts at boot, not on the first query. When
   * another process projects, each move of the metrics checkpoint the API polls refreshes the snapshot
   * then, so a query after a long catch-up does not pay for it.
   */
  onApplicationBootstrap(): void {
    this.refresh().catch(() => undefined);
    this.projections?.onAdvanced?.(METRICS_PROJECTION, () => {
      this.refresh().catch(() => undefined);
    });
  }

  refresh(): Promise<MetricsSnapshot> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private rebuiltSinceLastRefresh(): boolean {
    const rebuild = this.projections
      ?.rebuilds()
      .find((progress) => progress.projection === METRICS_PROJECTION && progress.phase === 'done');
    if (rebuild === undefined || rebuild.startedAt === this.lastRebuild) return false;
    this.lastRebuild = rebuild.startedAt;
    return true;
  }

  private async load(): Promise<MetricsSnapshot> {
    if (this.rebuiltSinceLastRefresh()) this.snapshot = new MetricsSnapshot();
    const snapshot = this.snapshot;
    // Issues first: charges link to them, and the charge side only reads the issue rows.
    for (const collection of [METRIC_ISSUES, METRIC_CHARGES, METRIC_CUSTOMERS]) {
      const since = snapshot.positions[collection];
      let cursor: string | undefined;
      do {
        const page = await this.store.list(collection, {
          where: { lastPosition: { gt: since } },
          orderBy: { field: 'lastPosition', direction: 'asc' },
          limit: PAGE,
          cursor,
        });
        for (const doc of page.items) snapshot.ingest(collection, doc);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    return snapshot;
  }
}
