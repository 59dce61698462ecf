import { CHANNELS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import { AT_RISK_SHARE, type SlaTargets } from '../sla/sla';
import type { MetricsSnapshot } from './metrics-snapshot';

export const ISSUE_DIMENSIONS = ['category', 'channel', 'priority', 'agent', 'day', 'week', 'month'] as const;
export const CHURN_DIMENSIONS = [...ISSUE_DIMENSIONS, 'resolutionBucket', 'sla'] as const;
export type GroupDimension = (typeof CHURN_DIMENSIONS)[number];

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const RESOLUTION_BUCKETS = [
  'under_1h',
  '1h_to_24h',
  '1d_to_3d',
  '3d_to_7d',
  'over_7d',
  'unresolved',
] as const;
export const SLA_STATES = ['met', 'breached', 'at_risk', 'on_track'] as const;
export type SlaStateCode = 0 | 1 | 2 | 3;

/**
 * The SLA verdict of sla.ts (issueSla), on epoch milliseconds: a clock stopped by `asOf` is met or
 * breached; a running one is breached past its due time, at risk past 80% of the target, else on track.
 */
export function slaState(start: number, stop: number, targetMinutes: number, asOf: number): SlaStateCode {
  const due = start + targetMinutes * 60_000;
  if (stop <= asOf) return stop <= due ? 0 : 1;
  if (asOf > due) return 1;
  return asOf - start >= AT_RISK_SHARE * targetMinutes * 60_000 ? 2 : 3;
}

/** Bucket of a resolution time (opened -> first resolution by asOf) for the churn split. */
export function resolutionBucket(opened: number, resolved: number, asOf: number): number {
  if (!(resolved <= asOf)) return 5;
  const elapsed = resolved - opened;
  if (elapsed < HOUR_MS) return 0;
  if (elapsed < 24 * HOUR_MS) return 1;
  if (elapsed < 3 * DAY_MS) return 2;
  if (elapsed < 7 * DAY_MS) return 3;
  return 4;
}

export interface GroupContext {
  snapshot: MetricsSnapshot;
  asOf: number;
  targets: SlaTargets;
}

/**
 * How one item (an issue, a refund, a dispute, a customer's anchor issue) falls into groups: its issue
 * row (-1: none, every issue dimension is then null) and the time its day / week / month come from.
 */
export interface ItemFrame {
  issueRow(item: number): number;
  time(item: number): number;
}

interface Dimension {
  /** A non-negative integer; 0 is reserved for "none" where a dimension can be missing. */
  code(item: number): number;
  label(code: number): string | null;
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

function dimension(name: GroupDimension, frame: ItemFrame, context: GroupContext): Dimension {
  const { snapshot, asOf, targets } = context;
  const { i, f } = snapshot.issues;
  const onIssue = (codes: Int32Array, labels: readonly string[]): Dimension => ({
    code: (item) => {
      const row = frame.issueRow(item);
      return row < 0 ? 0 : codes[row] + 1;
    },
    label: (code) => (code === 0 ? null : labels[code - 1]),
  });
  const days = (item: number) => Math.floor(frame.time(item) / DAY_MS);
  switch (name) {
    case 'category':
      return onIssue(i.category, ISSUE_CATEGORIES);
    case 'channel':
      return onIssue(i.channel, CHANNELS);
    case 'priority':
      return onIssue(i.priority, PRIORITIES);
    case 'agent':
      // agent -1 (nobody assigned) and "no issue" both read as null.
      return {
        code: (item) => {
          const row = frame.issueRow(item);
          return row < 0 ? 0 : i.agent[row] + 1;
        },
        label: (code) => (code === 0 ? null : snapshot.agents.values[code - 1]),
      };
    case 'day':
      return { code: days, label: isoDay };
    case 'week':
      // Weeks start on Monday (ISO 8601); 1970-01-01 was a Thursday. Labelled by their Monday.
      return { code: (item) => Math.floor((days(item) + 3) / 7), label: (code) => isoDay(code * 7 - 3) };
    case 'month':
      return {
        code: (item) => {
          const date = new Date(frame.time(item));
          return date.getUTCFullYear() * 12 + date.getUTCMonth();
        },
        label: (code) => `${Math.floor(code / 12)}-${String((code % 12) + 1).padStart(2, '0')}`,
      };
    case 'resolutionBucket':
      return {
        code: (item) => {
          const row = frame.issueRow(item);
          return row < 0 ? 0 : resolutionBucket(f.openedAt[row], f.firstResolvedAt[row], asOf) + 1;
        },
        label: (code) => (code === 0 ? null : RESOLUTION_BUCKETS[code - 1]),
      };
    case 'sla':
      // The resolution clock of the issue, as GET /issues/:id shows it at asOf.
      return {
        code: (item) => {
          const row = frame.issueRow(item);
          if (row < 0) return 0;
          const target = targets[PRIORITIES[i.priority[row]]].resolutionMinutes;
          return slaState(f.openedAt[row], f.firstResolvedAt[row], target, asOf) + 1;
        },
        label: (code) => (code === 0 ? null : SLA_STATES[code - 1]),
      };
    default: {
      const unknown: never = name;
      throw new Error(`unknown dimension ${String(unknown)}`);
    }
  }
}

export interface Group {
  key: Record<string, string | null>;
  items: Int32Array;
}

const DENSE_TABLE_LIMIT = 1 << 16;

/**
 * Splits items into groups by the dimensions, in order; one group with key {} when there are none.
 * Each dimension maps the running group id and the item's code to the next dense id (a typed table
 * when small, else a Map), so grouping costs a pass per dimension and no strings per item.
 */
export function groupItems(
  items: ArrayLike<number>,
  dimensions: readonly GroupDimension[],
  frame: ItemFrame,
  context: GroupContext,
): Group[] {
  const n = items.length;
  if (dimensions.length === 0) return [{ key: {}, items: Int32Array.from(items) }];
  const dims = dimensions.map((name) => dimension(name, frame, context));
  let ids = new Int32Array(n);
  let groupCount = 1;
  const codesPerDim: Int32Array[] = [];
  for (const dim of dims) {
    const codes = new Int32Array(n);
    let minCode = Infinity;
    let maxCode = -Infinity;
    for (let k = 0; k < n; k++) {
      const code = dim.code(items[k]);
      codes[k] = code;
      if (code < minCode) minCode = code;
      if (code > maxCode) maxCode = code;
    }
    codesPerDim.push(codes);
    const span = n === 0 ? 1 : maxCode - minCode + 1;
    const next = new Int32Array(n);
    let nextCount = 0;
    if (groupCount * span <= DENSE_TABLE_LIMIT) {
      const table = new Int32Array(groupCount * span).fill(-1);
      for (let k = 0; k < n; k++) {
        const slot = ids[k] * span + (codes[k] - minCode);
        if (table[slot] === -1) table[slot] = nextCount++;
        next[k] = table[slot];
      }
    } else {
      const map = new Map<number, number>();
      for (let k = 0; k < n; k++) {
        const composite = ids[k] * span + (codes[k] - minCode);
        let id = map.get(composite);
        if (id === undefined) map.set(composite, (id = nextCount++));
        next[k] = id;
      }
    }
    ids = next;
    groupCount = nextCount;
  }
  const sizes = new Int32Array(groupCount);
  for (let k = 0; k < n; k++) sizes[ids[k]]++;
  const groups: { codes: number[]; items: Int32Array; filled: number }[] = [];
  for (let k = 0; k < n; k++) {
    let group = groups[ids[k]];
    if (group === undefined) {
      const codes = codesPerDim.map((column) => column[k]);
      groups[ids[k]] = group = { codes, items: new Int32Array(sizes[ids[k]]), filled: 0 };
    }
    group.items[group.filled++] = items[k];
  }
  // Vocabulary order for categorical dimensions, time order for day/week/month, names for agents.
  const agentAt = dimensions.indexOf('agent');
  groups.sort((a, b) => {
    for (let d = 0; d < dims.length; d++) {
      if (a.codes[d] === b.codes[d]) continue;
      if (d === agentAt) {
        const [x, y] = [dims[d].label(a.codes[d]), dims[d].label(b.codes[d])];
        if (x === null) return 1;
        if (y === null) return -1;
        return x < y ? -1 : 1;
      }
      return a.codes[d] - b.codes[d];
    }
    return 0;
  });
  return groups.map((group) => ({
    key: Object.fromEntries(dimensions.map((name, d) => [name, dims[d].label(group.codes[d])])),
    items: group.items,
  }));
}
