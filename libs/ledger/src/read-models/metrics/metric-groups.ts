import { CHANNELS, ISSUE_CATEGORIES, PRIORITIES } from '../../domain/issue/issue.events';
import { SLA_STATES, slaState, type SlaTargets } from '../sla/sla';
import type { MetricsSnapshot } from './metrics-snapshot';

export const ISSUE_DIMENSIONS = ['category', 'channel', 'priority', 'agent', 'day', 'week', 'month'] as const;
export const CHURN_DIMENSIONS = [...ISSUE_DIMENSIONS, 'resolutionBucket', 'sla'] as const;
export type GroupDimension = (typeof CHURN_DIMENSIONS)[number];

export const DAY_MS = 86_400_000;

/** Durations are whole seconds (business times carry milliseconds nobody reports on). */
export const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));
const HOUR_MS = 3_600_000;

export const RESOLUTION_BUCKETS = [
  'under_1h',
  '1h_to_24h',
  '1d_to_3d',
  '3d_to_7d',
  'over_7d',
  'unresolved',
] as const;
/**
 * Bucket of a resolution time (opened -> first resolution by asOf) for the churn split. Half-open, the
 * lower bound included: exactly 1 h is `1h_to_24h`, exactly 7 d `over_7d` (7 d or more).
 */
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
 * How items (issues, refunds, disputes, customers' anchor issues) fall into groups: `issueRows[k]` is the
 * issue row of `items[k]` (-1: none, every issue dimension is then null), or null when the items are issue
 * rows themselves; `time[item]` is the time day / week / month come from.
 */
export interface ItemFrame {
  issueRows: Int32Array | null;
  time: Float64Array;
}

/**
 * Scratch buffers reused across queries, by name: a query over a million rows would otherwise allocate tens
 * of megabytes of typed arrays, and V8 answers such external allocations with full collections. Safe because
 * a computation runs synchronously to the end and returns no view of them; each use has its own name.
 */
const scratch = new Map<string, Int32Array | Float64Array | Uint8Array>();

function buffer<T extends Int32Array | Float64Array | Uint8Array>(
  name: string,
  make: (length: number) => T,
  length: number,
): T {
  let current = scratch.get(name) as T | undefined;
  if (current === undefined || current.length < length) {
    current = make(Math.max(length, 1024, current === undefined ? 0 : current.length * 2));
    scratch.set(name, current);
  }
  return current.subarray(0, length) as T;
}

export const scratchInt32 = (name: string, length: number) => buffer(name, (n) => new Int32Array(n), length);
export const scratchFloat64 = (name: string, length: number) =>
  buffer(name, (n) => new Float64Array(n), length);
export const scratchUint8 = (name: string, length: number) => buffer(name, (n) => new Uint8Array(n), length);

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** Year * 12 + month (0-based) of a day since the epoch, without a Date (civil-from-days, proleptic Gregorian). */
export function monthOfDay(day: number): number {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

/**
 * Writes each item's code for the dimension into `out` (a non-negative integer; 0 is "none" where the
 * dimension can be missing) and returns how to label a code. One monomorphic loop per dimension.
 */
function fillCodes(
  name: GroupDimension,
  items: Int32Array,
  frame: ItemFrame,
  context: GroupContext,
  out: Int32Array,
): (code: number) => string | null {
  const { snapshot, asOf, targets } = context;
  const { i, f } = snapshot.issues;
  const { issueRows, time } = frame;
  const n = items.length;
  const onIssue = (codes: Int32Array, labels: readonly string[]) => {
    for (let k = 0; k < n; k++) {
      const row = issueRows === null ? items[k] : issueRows[k];
      out[k] = row < 0 ? 0 : codes[row] + 1;
    }
    return (code: number) => (code === 0 ? null : labels[code - 1]);
  };
  switch (name) {
    case 'category':
      return onIssue(i.category, ISSUE_CATEGORIES);
    case 'channel':
      return onIssue(i.channel, CHANNELS);
    case 'priority':
      return onIssue(i.priority, PRIORITIES);
    case 'agent': {
      // The assignee at the first resolution when that happened by asOf, else at asOf (DESIGN.md
      // "Grouping"); nobody assigned and "no issue" both read as null.
      const resolvedAt = f.firstResolvedAt;
      for (let k = 0; k < n; k++) {
        const row = issueRows === null ? items[k] : issueRows[k];
        if (row < 0) {
          out[k] = 0;
          continue;
        }
        const resolved = resolvedAt[row];
        out[k] = snapshot.agentAt(row, resolved <= asOf ? resolved : asOf) + 1;
      }
      const agents = snapshot.agents.values;
      return (code: number) => (code === 0 ? null : agents[code - 1]);
    }
    case 'day':
      for (let k = 0; k < n; k++) out[k] = Math.floor(time[items[k]] / DAY_MS);
      return isoDay;
    case 'week':
      // Weeks start on Monday (ISO 8601); 1970-01-01 was a Thursday. Labelled by their Monday.
      for (let k = 0; k < n; k++) out[k] = Math.floor((Math.floor(time[items[k]] / DAY_MS) + 3) / 7);
      return (code) => isoDay(code * 7 - 3);
    case 'month':
      for (let k = 0; k < n; k++) out[k] = monthOfDay(Math.floor(time[items[k]] / DAY_MS));
      return (code) => `${Math.floor(code / 12)}-${String((code % 12) + 1).padStart(2, '0')}`;
    case 'resolutionBucket':
      for (let k = 0; k < n; k++) {
        const row = issueRows === null ? items[k] : issueRows[k];
        out[k] = row < 0 ? 0 : resolutionBucket(f.openedAt[row], f.firstResolvedAt[row], asOf) + 1;
      }
      return (code) => (code === 0 ? null : RESOLUTION_BUCKETS[code - 1]);
    case 'sla': {
      // The resolution clock of the issue, as GET /issues/:id shows it at asOf.
      const targetOf = PRIORITIES.map((priority) => targets[priority].resolutionMinutes);
      for (let k = 0; k < n; k++) {
        const row = issueRows === null ? items[k] : issueRows[k];
        out[k] =
          row < 0
            ? 0
            : slaState(
                f.openedAt[row],
                f.firstResolvedAt[row],
                f.settledAt[row],
                targetOf[i.priority[row]],
                asOf,
              ) + 1;
      }
      return (code) => (code === 0 ? null : SLA_STATES[code - 1]);
    }
    default: {
      const unknown: never = name;
      throw new Error(`unknown dimension ${String(unknown)}`);
    }
  }
}

export interface Group {
  key: Record<string, string | null>;
  /** A view of a scratch buffer: valid until the next grouping of the same slot. */
  items: Int32Array;
}

const DENSE_TABLE_LIMIT = 1 << 16;

/**
 * Splits items into groups by the dimensions, in order; one group with key {} when there are none. Each
 * dimension maps the running group id and the item's code to the next dense id (a typed table when small,
 * else a Map), so grouping costs a pass per dimension and no object per item; the items are then laid out
 * group after group (a counting sort) in the slot's scratch buffer.
 */
export function groupItems(
  items: Int32Array,
  dimensions: readonly GroupDimension[],
  frame: ItemFrame,
  context: GroupContext,
  slot: string,
): Group[] {
  const n = items.length;
  if (dimensions.length === 0) return [{ key: {}, items }];
  let ids = scratchInt32(`${slot}:ids`, n).fill(0);
  let spare = scratchInt32(`${slot}:next`, n);
  let groupCount = 1;
  const codesPerDim: Int32Array[] = [];
  const labels: ((code: number) => string | null)[] = [];
  dimensions.forEach((name, d) => {
    const codes = scratchInt32(`${slot}:codes${d}`, n);
    labels.push(fillCodes(name, items, frame, context, codes));
    codesPerDim.push(codes);
    let minCode = Infinity;
    let maxCode = -Infinity;
    for (let k = 0; k < n; k++) {
      if (codes[k] < minCode) minCode = codes[k];
      if (codes[k] > maxCode) maxCode = codes[k];
    }
    const span = n === 0 ? 1 : maxCode - minCode + 1;
    let nextCount = 0;
    if (groupCount * span <= DENSE_TABLE_LIMIT) {
      const table = scratchInt32(`${slot}:table`, groupCount * span).fill(-1);
      for (let k = 0; k < n; k++) {
        const cell = ids[k] * span + (codes[k] - minCode);
        if (table[cell] === -1) table[cell] = nextCount++;
        spare[k] = table[cell];
      }
    } else {
      const map = new Map<number, number>();
      for (let k = 0; k < n; k++) {
        const composite = ids[k] * span + (codes[k] - minCode);
        let id = map.get(composite);
        if (id === undefined) map.set(composite, (id = nextCount++));
        spare[k] = id;
      }
    }
    [ids, spare] = [spare, ids];
    groupCount = nextCount;
  });
  const starts = new Int32Array(groupCount + 1);
  for (let k = 0; k < n; k++) starts[ids[k] + 1]++;
  for (let g = 0; g < groupCount; g++) starts[g + 1] += starts[g];
  const grouped = scratchInt32(`${slot}:grouped`, n);
  const fill = starts.slice(0, groupCount);
  const firstItem = new Int32Array(groupCount).fill(-1);
  for (let k = 0; k < n; k++) {
    const g = ids[k];
    if (firstItem[g] === -1) firstItem[g] = k;
    grouped[fill[g]++] = items[k];
  }
  const groups = Array.from({ length: groupCount }, (_, g) => ({
    codes: codesPerDim.map((codes) => codes[firstItem[g]]),
    items: grouped.subarray(starts[g], starts[g + 1]),
  }));
  // Vocabulary order for categorical dimensions, time order for day/week/month, names for agents.
  const agentAt = dimensions.indexOf('agent');
  groups.sort((a, b) => {
    for (let d = 0; d < dimensions.length; d++) {
      if (a.codes[d] === b.codes[d]) continue;
      if (d === agentAt) {
        const [x, y] = [labels[d](a.codes[d]), labels[d](b.codes[d])];
        if (x === null) return 1;
        if (y === null) return -1;
        return x < y ? -1 : 1;
      }
      return a.codes[d] - b.codes[d];
    }
    return 0;
  });
  return groups.map((group) => ({
    key: Object.fromEntries(dimensions.map((name, d) => [name, labels[d](group.codes[d])])),
    items: group.items,
  }));
}

/**
 * Groups laid over the rows they split, for metrics that aggregate every group in one pass in row order:
 * the columns are then read front to back, where a pass per group would jump across all of them (each
 * group's rows are spread over the whole table). `groupOfItem[k]` is the index in `groups` of `rows[k]`;
 * `starts[g]` is where group g begins when the groups' items are laid end to end. Views of scratch buffers, valid until the next call for the slot.
 */
export interface GroupedRows {
  groups: Group[];
  rows: Int32Array;
  groupOfItem: Int32Array;
  starts: Int32Array;
}

export function layOutGroups(
  rows: Int32Array,
  groups: Group[],
  tableSize: number,
  slot: string,
): GroupedRows {
  const groupOf = scratchInt32(`${slot}:groupOf`, tableSize).fill(-1);
  const starts = new Int32Array(groups.length + 1);
  groups.forEach(({ items }, g) => {
    for (let k = 0; k < items.length; k++) groupOf[items[k]] = g;
    starts[g + 1] = starts[g] + items.length;
  });
  const groupOfItem = scratchInt32(`${slot}:groupOfItem`, rows.length);
  for (let k = 0; k < rows.length; k++) groupOfItem[k] = groupOf[rows[k]];
  return { groups, rows, groupOfItem, starts };
}
