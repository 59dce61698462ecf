import fc from 'fast-check';
import type { StoredEvent } from '@app/ledger';
import { RecentEvents } from './recent-events';

const eventAt = (position: number): StoredEvent => ({
  stream: `s-${position % 3}`,
  revision: position,
  position: BigInt(position),
  type: 'ThingHappened',
  schemaVersion: 1,
  data: { position },
  metadata: {} as StoredEvent['metadata'],
  canonical: '{}',
});

/** The committed log: positions 1..n (dense, as the store gives them). */
const logOf = (n: number) => Array.from({ length: n }, (_, index) => eventAt(index + 1));

/** What a page query returns: (after, head], at most limit, in order. */
const query = (log: StoredEvent[], after: number, head: number, limit: number) =>
  log.filter((event) => Number(event.position) > after && Number(event.position) <= head).slice(0, limit);

describe('RecentEvents', () => {
  it('serves a page already read from memory, the same objects', () => {
    const log = logOf(20);
    const recent = new RecentEvents(50);
    const first = recent.read(0, 20, 10, () => query(log, 0, 20, 10));
    const again = recent.read(0, 20, 10, () => {
      throw new Error('read from SQLite again');
    });
    expect(again.events).toEqual(first.events);
    again.events.forEach((event, index) => expect(event).toBe(first.events[index]));
    expect(again.scannedTo).toBe(10);
    expect(recent.stats).toEqual({ hits: 1, reads: 1 });
  });

  it('stops at what it covers and at the head its reader saw', () => {
    const log = logOf(30);
    const recent = new RecentEvents(50);
    recent.read(0, 12, 100, () => query(log, 0, 12, 100));
    // Covers (0, 12]; a reader that saw head 30 gets up to 12, then reads the rest.
    expect(recent.read(5, 30, 100, () => [])).toMatchObject({ scannedTo: 12 });
    expect(recent.read(5, 30, 100, () => []).events.map((event) => Number(event.position))).toEqual([
      6, 7, 8, 9, 10, 11, 12,
    ]);
    // A reader that saw an older head gets nothing past it.
    expect(recent.read(2, 4, 100, () => []).events.map((event) => Number(event.position))).toEqual([3, 4]);
    expect(recent.read(2, 4, 100, () => []).scannedTo).toBe(4);
  });

  it('gives every reader exactly the query result, whatever the mix of positions, heads and limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ after: fc.nat(60), grow: fc.nat(8), limit: fc.integer({ min: 1, max: 9 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (capacity, reads) => {
          const log = logOf(80);
          const recent = new RecentEvents(capacity);
          let committed = 10;
          for (const { after, grow, limit } of reads) {
            committed = Math.min(80, committed + grow);
            if (after >= committed) continue;
            const head = committed;
            const { events, scannedTo } = recent.read(after, head, limit, () =>
              query(log, after, head, limit),
            );
            const expected = query(log, after, scannedTo, limit);
            expect(events.map((event) => Number(event.position))).toEqual(
              expected.map((event) => Number(event.position)),
            );
            expect(scannedTo).toBeGreaterThan(after);
            expect(scannedTo).toBeLessThanOrEqual(head);
            // A page is short only when nothing is left up to scannedTo.
            if (events.length < limit)
              expect(query(log, after, scannedTo, limit + 1)).toHaveLength(events.length);
          }
        },
      ),
    );
  });

  it('lets interleaved subscribers each receive every event once, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.nat(15), { minLength: 2, maxLength: 5 }),
        fc.array(fc.record({ who: fc.nat(4), grow: fc.nat(6) }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 12 }),
        (capacity, starts, steps, limit) => {
          const log = logOf(120);
          const recent = new RecentEvents(capacity);
          const readers = starts.map((after) => ({ start: after, after, got: [] as number[] }));
          let committed = 16;
          const step = (reader: (typeof readers)[number]) => {
            if (reader.after >= committed) return;
            const { after } = reader;
            const head = committed;
            const page = recent.read(after, head, limit, () => query(log, after, head, limit));
            reader.got.push(...page.events.map((event) => Number(event.position)));
            reader.after = page.scannedTo;
          };
          for (const { who, grow } of steps) {
            committed = Math.min(120, committed + grow);
            step(readers[who % readers.length]);
          }
          for (const reader of readers) {
            while (reader.after < committed) step(reader);
            const expected = Array.from(
              { length: committed - reader.start },
              (_, index) => reader.start + index + 1,
            );
            expect(reader.got).toEqual(expected);
          }
        },
      ),
    );
  });
});
