import fc from 'fast-check';
import { ISSUE_CATEGORIES } from '../../domain/issue/issue.events';
import { DEFAULT_SLA_TARGETS } from '../sla/sla';
import { computeMetric, type MetricParams } from './metric-computations';
import { MetricsSnapshot } from './metrics-snapshot';
import { describeDurations } from './statistics/descriptive';
import { kaplanMeier } from './statistics/kaplan-meier';

/**
 * The per-group times the metrics take from orders kept per snapshot version (sorted-times.ts) against the
 * definitions applied row by row, as the computations did before: the same Kaplan–Meier figures, the same
 * observed-only figures, the same backlog ages, for any asOf, grouping, and document update.
 */
const HOUR = 3_600_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

interface Row {
  id: string;
  category: string;
  openedAt: number;
  resolvedAt: number | null;
  contactAt: number | null;
  closedAt: number | null;
}

const rowArbitrary = (id: number) =>
  fc
    .record({
      id: fc.constant(`i${String(id).padStart(5, '0')}`),
      category: fc.constantFrom(...ISSUE_CATEGORIES.slice(0, 3)),
      // Whole hours and odd milliseconds: ties, and rounding to seconds at the edges.
      openedAt: fc.oneof(
        fc.integer({ min: 0, max: 200 }).map((h) => START + h * HOUR),
        fc.integer({ min: START, max: START + 200 * HOUR }),
      ),
      resolvedAfter: fc.option(fc.integer({ min: -2 * HOUR, max: 300 * HOUR }), { nil: null }),
      contactAfter: fc.option(fc.integer({ min: -HOUR, max: 300 * HOUR }), { nil: null }),
      closedAfter: fc.option(fc.integer({ min: 0, max: 400 * HOUR }), { nil: null }),
    })
    .map(({ openedAt, resolvedAfter, contactAfter, closedAfter, ...rest }): Row => ({
      ...rest,
      openedAt,
      resolvedAt: resolvedAfter === null ? null : openedAt + resolvedAfter,
      contactAt: contactAfter === null ? null : openedAt + contactAfter,
      closedAt: closedAfter === null ? null : openedAt + closedAfter,
    }));

/** n rows from the drawn ones, repeated with their times shifted (ids in row order). */
function spread(seedRows: readonly Row[], n: number): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const base = seedRows[k % seedRows.length];
    const shift = Math.floor(k / seedRows.length) * 997;
    const move = (at: number | null) => (at === null ? null : at + shift);
    return {
      ...base,
      id: `i${String(k).padStart(5, '0')}`,
      openedAt: base.openedAt + shift,
      resolvedAt: move(base.resolvedAt),
      contactAt: move(base.contactAt),
      closedAt: move(base.closedAt),
    };
  });
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

function ingest(snapshot: MetricsSnapshot, row: Row, position: number): void {
  const transitions = [
    ...(row.resolvedAt === null ? [] : [{ to: 'resolved', at: iso(row.resolvedAt) }]),
    ...(row.closedAt === null ? [] : [{ to: 'closed', at: iso(row.closedAt) }]),
  ];
  snapshot.ingest('metric_issues', {
    id: row.id,
    customerId: `c-${row.id}`,
    category: row.category,
    channel: 'email',
    priority: 'normal',
    openedAt: iso(row.openedAt),
    assignments: [],
    firstAgentContactAt: iso(row.contactAt),
    secondAgentContactAt: null,
    firstResolvedAt: iso(row.resolvedAt),
    firstReopenedAt: null,
    transitions,
    escalatedAt: {},
    feedback: [],
    charges: [],
    lastPosition: position,
  });
}

/** The definitions, row by row, for the rows of one group. */
function expected(rows: Row[], asOf: number, curvePoints: number) {
  const happened = (at: number | null): at is number => at !== null && at <= asOf;
  const resolution = rows.map((row) => ({
    time: seconds((happened(row.resolvedAt) ? row.resolvedAt : asOf) - row.openedAt),
    event: happened(row.resolvedAt),
  }));
  // The issue settles at its first resolution or close (withdrawn), whichever came first.
  const settled = (row: Row) =>
    Math.min(...[row.resolvedAt, row.closedAt].filter((at): at is number => at !== null));
  const response = rows.map((row) => {
    const contact = row.contactAt ?? NaN;
    const ended = settled(row);
    const settledFirst = ended <= asOf && ended < contact;
    const answered = contact <= asOf && !settledFirst;
    const end = answered ? contact : ended <= asOf ? ended : asOf;
    return { time: seconds(end - row.openedAt), event: answered };
  });
  const ages = rows.filter((row) => !(settled(row) <= asOf)).map((row) => seconds(asOf - row.openedAt));
  const km = (observations: { time: number; event: boolean }[]) => {
    const summary = kaplanMeier(
      observations.map((o) => o.time),
      observations.map((o) => o.event),
      curvePoints,
    );
    return { median: summary.median, p75: summary.p75, p90: summary.p90, curve: summary.curve };
  };
  const observed = (observations: { time: number; event: boolean }[]) =>
    describeDurations(observations.filter((o) => o.event).map((o) => o.time));
  const backlogAges = describeDurations(ages);
  return {
    resolution: { km: km(resolution), resolvedOnly: observed(resolution) },
    response: { km: km(response), respondedOnly: observed(response) },
    backlog: {
      open: ages.length,
      ageSeconds: {
        mean: backlogAges.mean,
        median: backlogAges.median,
        p90: backlogAges.p90,
        max: ages.length === 0 ? null : Math.max(...ages),
      },
    },
  };
}

function check(snapshot: MetricsSnapshot, rows: Row[], asOf: number, groupBy: 'category' | 'day' | null) {
  const params: MetricParams = { asOf, groupBy: groupBy === null ? [] : [groupBy], window: 30 };
  const keyOf = (row: Row) =>
    groupBy === null
      ? '{}'
      : JSON.stringify({
          [groupBy]: groupBy === 'category' ? row.category : iso(row.openedAt)!.slice(0, 10),
        });
  const population = rows.filter((row) => row.openedAt <= asOf);
  const answers = {
    resolution: computeMetric('resolution-time', snapshot, params, DEFAULT_SLA_TARGETS),
    response: computeMetric('first-response', snapshot, params, DEFAULT_SLA_TARGETS),
    backlog: computeMetric('backlog', snapshot, params, DEFAULT_SLA_TARGETS),
  };
  // Ungrouped, the answer always has its one group, empty or not.
  const keys = groupBy === null ? ['{}'] : [...new Set(population.map(keyOf))].sort();
  expect(answers.resolution.groups.map((g) => JSON.stringify(g.key)).sort()).toEqual(keys);
  // As computeMetric shares its curve points out between the groups.
  const curvePoints = Math.max(2, Math.min(100, Math.floor(2000 / keys.length)));
  for (const key of keys) {
    const want = expected(
      population.filter((row) => keyOf(row) === key),
      asOf,
      curvePoints,
    );
    const group = (answer: { groups: { key: unknown }[] }) =>
      answer.groups.find((g) => JSON.stringify(g.key) === key) as Record<string, unknown>;
    expect(group(answers.resolution)).toMatchObject(want.resolution);
    expect(group(answers.response)).toMatchObject(want.response);
    expect(group(answers.backlog)).toMatchObject(want.backlog);
  }
}

describe('sorted per-group times (sorted-times.ts)', () => {
  it('equal the row-by-row definitions for any asOf and grouping, above and below the radix threshold', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3000 })
          .chain((n) =>
            fc.tuple(
              fc.tuple(...Array.from({ length: Math.min(n, 40) }, (_, k) => rowArbitrary(k))),
              fc.constant(n),
            ),
          ),
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom(null, 'category' as const, 'day' as const),
        ([seedRows, n], asOfHours, groupBy) => {
          // Up to 3,000 rows from 40 drawn ones: enough to take the radix paths.
          const rows = spread(seedRows, n);
          const snapshot = new MetricsSnapshot();
          rows.forEach((row, position) => ingest(snapshot, row, position));
          check(snapshot, rows, START + asOfHours * HOUR + 123, groupBy);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('follow an updated document: the orders are rebuilt for the snapshot version', () => {
    const rows: Row[] = Array.from({ length: 50 }, (_, k) => ({
      id: `i${k}`,
      category: ISSUE_CATEGORIES[k % 2],
      openedAt: START + k * HOUR,
      resolvedAt: k % 3 === 0 ? START + k * HOUR + 5 * HOUR : null,
      contactAt: null,
      closedAt: null,
    }));
    const snapshot = new MetricsSnapshot();
    rows.forEach((row, position) => ingest(snapshot, row, position));
    const asOf = START + 500 * HOUR;
    check(snapshot, rows, asOf, 'category');
    // Resolve every open one much later than the others, and open one more.
    const updated = rows.map((row, k) =>
      row.resolvedAt === null ? { ...row, resolvedAt: row.openedAt + (100 + k) * HOUR } : row,
    );
    updated.push({ ...rows[0], id: 'late', openedAt: START + 400 * HOUR, resolvedAt: null });
    updated.forEach((row, k) => ingest(snapshot, row, 100 + k));
    check(snapshot, updated, asOf, 'category');
  });

  it('follow a few changed documents, merged back into the kept orders, as a fresh sort would', () => {
    fc.assert(
      fc.property(
        fc.tuple(...Array.from({ length: 40 }, (_, k) => rowArbitrary(k))),
        fc.array(fc.tuple(fc.nat(), rowArbitrary(0)), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 500 }),
        (seedRows, changes, asOfHours) => {
          const n = 2500;
          const rows = spread(seedRows, n);
          const snapshot = new MetricsSnapshot();
          rows.forEach((row, position) => ingest(snapshot, row, position));
          const asOf = START + asOfHours * HOUR + 123;
          check(snapshot, rows, asOf, 'category');
          // Some documents change (resolved, contacted, closed later or earlier), some issues are new.
          const final = [...rows];
          changes.forEach(([at, change], k) => {
            const target = at % (n + 5);
            const id = target < n ? rows[target].id : `new${target}`;
            // Never before the earliest opened: that case re-sorts everything, tested above.
            const row = { ...change, id, openedAt: Math.max(change.openedAt, START) };
            const index = final.findIndex((existing) => existing.id === id);
            if (index >= 0) final[index] = row;
            else final.push(row);
            ingest(snapshot, row, n + k);
          });
          check(snapshot, final, asOf, 'category');
          check(snapshot, final, asOf, null);
        },
      ),
      { numRuns: 25 },
    );
  });
});
