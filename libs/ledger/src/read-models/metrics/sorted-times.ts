import type { SortedObservations } from './statistics/kaplan-meier';
import { sortRowsByKey } from './statistics/radix-sort';
import { type GroupedRows, scratchFloat64, seconds } from './metric-groups';
import type { MetricsSnapshot } from './metrics-snapshot';

/**
 * Per-group times in ascending order without a sort per query: the Kaplan–Meier inputs of resolution time
 * and first response, and the backlog's open ages. An issue's time to an end that happened by `asOf` is a
 * fixed duration, and an issue still waiting at `asOf` is censored (or aged) at `asOf - openedAt`, which
 * orders like `openedAt` backwards; seconds() never reverses an order. So three orders of the snapshot's
 * rows, sorted with their keys once and then kept up to date as documents change (by merging the changed
 * rows back in), give any `asOf` its sorted times in one walk each:
 * keep the rows of the population whose end (or open clock) holds at `asOf` and append each to its group.
 * The walks read the sorted keys front to back and, per row, one small array: the row's group and its states
 * at asOf packed in one integer (the cells below, made in one pass in row order).
 */
interface Order {
  rows: Int32Array;
  keys: Float64Array;
}
interface RowOrders {
  /** Issues with a first resolution, keyed by seconds(firstResolvedAt - openedAt). */
  byResolution: Order;
  /** Issues with a first agent contact, keyed by seconds(firstContactAt - openedAt). */
  byResponse: Order;
  /** Issues that settled (resolved or withdrawn), keyed by seconds(settledAt - openedAt). */
  bySettled: Order;
  /** Every issue, keyed by openedAt - earliest (so that times before 1970 make no negative keys either). */
  byOpened: Order;
  earliest: number;
}

/** The orders' keys; NaN (the end never happened) leaves a row out. */
type OrderKey = (row: number) => number;

function orderKeys(
  snapshot: MetricsSnapshot,
  earliest: number,
): Record<'byResolution' | 'byResponse' | 'bySettled' | 'byOpened', OrderKey> {
  const { openedAt, firstResolvedAt, firstContactAt, settledAt } = snapshot.issues.f;
  return {
    byResolution: (row) => seconds(firstResolvedAt[row] - openedAt[row]),
    byResponse: (row) => seconds(firstContactAt[row] - openedAt[row]),
    bySettled: (row) => seconds(settledAt[row] - openedAt[row]),
    byOpened: (row) => openedAt[row] - earliest,
  };
}

/** The rows given (ascending) with a key, ordered by it, ties by row. */
function sortedBy(rows: ArrayLike<number>, key: OrderKey): Order {
  const kept = new Int32Array(rows.length);
  const keys = new Float64Array(rows.length);
  let count = 0;
  for (let k = 0; k < rows.length; k++) {
    const value = key(rows[k]);
    if (Number.isNaN(value)) continue;
    kept[count] = rows[k];
    keys[count++] = value;
  }
  // Stable, and the rows come ascending: equal keys stay in row order.
  return sortRowsByKey(keys.subarray(0, count), kept.subarray(0, count));
}

function buildOrders(snapshot: MetricsSnapshot): RowOrders {
  const { size } = snapshot.issues;
  const { openedAt } = snapshot.issues.f;
  let earliest = Infinity;
  for (let row = 0; row < size; row++) earliest = Math.min(earliest, openedAt[row]);
  const all = new Int32Array(size);
  for (let row = 0; row < size; row++) all[row] = row;
  const keys = orderKeys(snapshot, earliest);
  return {
    byResolution: sortedBy(all, keys.byResolution),
    byResponse: sortedBy(all, keys.byResponse),
    bySettled: sortedBy(all, keys.bySettled),
    byOpened: sortedBy(all, keys.byOpened),
    earliest,
  };
}

/** `order` without the rows marked in `changed`, merged with `added` (ordered alike): ties by row. */
function merged(order: Order, changed: Uint8Array, added: Order): Order {
  const length = order.rows.length + added.rows.length;
  const rows = new Int32Array(length);
  const keys = new Float64Array(length);
  let i = 0;
  let j = 0;
  let k = 0;
  for (;;) {
    while (i < order.rows.length && changed[order.rows[i]] === 1) i++;
    const left = i < order.rows.length;
    const right = j < added.rows.length;
    if (!left && !right) break;
    const takeLeft =
      left &&
      (!right ||
        order.keys[i] < added.keys[j] ||
        (order.keys[i] === added.keys[j] && order.rows[i] < added.rows[j]));
    if (takeLeft) {
      rows[k] = order.rows[i];
      keys[k++] = order.keys[i++];
    } else {
      rows[k] = added.rows[j];
      keys[k++] = added.keys[j++];
    }
  }
  return { rows: rows.subarray(0, k), keys: keys.subarray(0, k) };
}

/**
 * The orders after some rows changed: those rows taken out and put back at their new keys (one merge
 * per order), instead of sorting every row again; the same orders buildOrders() would give. A refresh
 * usually brings a few documents, and this keeps the first query after it from paying for a full sort.
 */
function updatedOrders(
  snapshot: MetricsSnapshot,
  orders: RowOrders,
  changedRows: number[],
): RowOrders | null {
  const { size } = snapshot.issues;
  const { openedAt } = snapshot.issues.f;
  const unique = Int32Array.from(new Set(changedRows)).sort();
  // Many changes: sorting everything is as cheap. An issue opened before the earliest moves every key.
  if (unique.length * 8 > size) return null;
  for (let k = 0; k < unique.length; k++) if (openedAt[unique[k]] < orders.earliest) return null;
  const changed = new Uint8Array(size);
  for (let k = 0; k < unique.length; k++) changed[unique[k]] = 1;
  const keys = orderKeys(snapshot, orders.earliest);
  return {
    byResolution: merged(orders.byResolution, changed, sortedBy(unique, keys.byResolution)),
    byResponse: merged(orders.byResponse, changed, sortedBy(unique, keys.byResponse)),
    bySettled: merged(orders.bySettled, changed, sortedBy(unique, keys.bySettled)),
    byOpened: merged(orders.byOpened, changed, sortedBy(unique, keys.byOpened)),
    earliest: orders.earliest,
  };
}

/**
 * Kept per snapshot and version. The snapshot's journal of changed rows has this one reader: with no
 * orders yet (or too many changes, or a snapshot rebuilt from scratch) they are built afresh.
 */
const cache = new WeakMap<MetricsSnapshot, { version: number; orders: RowOrders }>();

function rowOrders(snapshot: MetricsSnapshot): RowOrders {
  const cached = cache.get(snapshot);
  if (cached !== undefined && cached.version === snapshot.version) return cached.orders;
  const changedRows = snapshot.takeChangedIssueRows();
  const orders =
    (cached !== undefined && changedRows !== null && updatedOrders(snapshot, cached.orders, changedRows)) ||
    buildOrders(snapshot);
  cache.set(snapshot, { version: snapshot.version, orders });
  return orders;
}

/**
 * The walks' per-row cells (made by the population pass of metric-computations.ts, countIssues): for a row
 * of the answer's groups `group << STATE_BITS | states` at asOf, -1 elsewhere. One array, so that a walk in
 * another order than the rows' makes one random read per row, not two. States: RESOLVED (first resolution
 * by asOf), ANSWERED (an agent contact by asOf, not after the issue settled), OPEN (in the backlog, as
 * MetricsSnapshot.isOpenAt says), SETTLED (first resolved or withdrawn by asOf).
 */
export const RESOLVED = 1;
export const ANSWERED = 2;
export const OPEN = 4;
export const SETTLED = 8;
export const STATE_BITS = 4;

/** Appends per group into one buffer of as many slots as the groups have items, group g from starts[g]. */
class GroupedTimes {
  readonly times: Float64Array;
  readonly counts: Int32Array;

  constructor(
    name: string,
    readonly starts: Int32Array,
  ) {
    this.times = scratchFloat64(name, starts[starts.length - 1]);
    this.counts = new Int32Array(starts.length - 1);
  }

  push(group: number, time: number): void {
    this.times[this.starts[group] + this.counts[group]++] = time;
  }

  of(group: number): Float64Array {
    const start = this.starts[group];
    return this.times.subarray(start, start + this.counts[group]);
  }
}

/** Appends each key of the order (walked forwards) whose row's states have `all` and none of `none`. */
function collectDurations(into: GroupedTimes, order: Order, cells: Int32Array, all: number, none: number) {
  const { rows, keys } = order;
  for (let k = 0; k < rows.length; k++) {
    const cell = cells[rows[k]];
    if (cell >= 0 && (cell & all) === all && (cell & none) === 0) into.push(cell >> STATE_BITS, keys[k]);
  }
}

/** Appends the whole seconds from openedAt to asOf, ascending, of each row whose states have `all` and none of `none`. */
function collectAges(
  into: GroupedTimes,
  orders: RowOrders,
  cells: Int32Array,
  asOf: number,
  all: number,
  none: number,
) {
  const { rows, keys } = orders.byOpened;
  // Newest first: the ages come out ascending. keys + earliest is openedAt exactly (integer milliseconds).
  const since = asOf - orders.earliest;
  for (let k = rows.length - 1; k >= 0; k--) {
    const cell = cells[rows[k]];
    if (cell < 0 || (cell & all) !== all || (cell & none) !== 0) continue;
    into.push(cell >> STATE_BITS, seconds(since - keys[k]));
  }
}

/** Two ascending runs merged into a third buffer, ascending. */
function merge(a: Float64Array, b: Float64Array, into: Float64Array): Float64Array {
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) into[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) into[k++] = a[i++];
  while (j < b.length) into[k++] = b[j++];
  return into.subarray(0, k);
}

/**
 * Time to first resolution, per group: an event at seconds(firstResolvedAt - openedAt) when resolved by
 * asOf, else censored at seconds(asOf - openedAt). Views of scratch buffers, valid until the next call.
 */
export function resolutionObservations(
  snapshot: MetricsSnapshot,
  grouped: GroupedRows,
  cells: Int32Array,
  asOf: number,
): SortedObservations[] {
  const orders = rowOrders(snapshot);
  const events = new GroupedTimes('times:resolution:events', grouped.starts);
  const censored = new GroupedTimes('times:resolution:censored', grouped.starts);
  collectDurations(events, orders.byResolution, cells, RESOLVED, 0);
  collectAges(censored, orders, cells, asOf, 0, RESOLVED);
  return grouped.groups.map((_, g) => ({ eventTimes: events.of(g), censorTimes: censored.of(g) }));
}

/**
 * Time to first agent contact, per group: an event at seconds(firstContactAt - openedAt) when ANSWERED;
 * otherwise censored where the issue settled (its first resolution, or its withdrawal) when that was by
 * asOf, else at asOf: exactly the first-response SLA clock. Views of scratch buffers, valid until the next
 * call.
 */
export function responseObservations(
  snapshot: MetricsSnapshot,
  grouped: GroupedRows,
  cells: Int32Array,
  asOf: number,
): SortedObservations[] {
  const orders = rowOrders(snapshot);
  const { starts } = grouped;
  const events = new GroupedTimes('times:response:events', starts);
  const atResolution = new GroupedTimes('times:response:resolved', starts);
  const atAsOf = new GroupedTimes('times:response:open', starts);
  collectDurations(events, orders.byResponse, cells, ANSWERED, 0);
  collectDurations(atResolution, orders.bySettled, cells, SETTLED, ANSWERED);
  collectAges(atAsOf, orders, cells, asOf, 0, SETTLED | ANSWERED);
  const merged = scratchFloat64('times:response:censored', starts[starts.length - 1]);
  return grouped.groups.map((_, g) => ({
    eventTimes: events.of(g),
    censorTimes: merge(atResolution.of(g), atAsOf.of(g), merged.subarray(starts[g], starts[g + 1])),
  }));
}

/** The ages (whole seconds, ascending) of each group's OPEN issues. Views of scratch buffers, valid until the next call. */
export function openAges(
  snapshot: MetricsSnapshot,
  grouped: GroupedRows,
  cells: Int32Array,
  asOf: number,
): Float64Array[] {
  const ages = new GroupedTimes('times:backlog:ages', grouped.starts);
  collectAges(ages, rowOrders(snapshot), cells, asOf, OPEN, 0);
  return grouped.groups.map((_, g) => ages.of(g));
}
