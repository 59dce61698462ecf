import type { StoredEvent } from '@app/ledger';

/** What a page read returns: the events, and the position up to which every event was looked at. */
export interface PageRead {
  events: StoredEvent[];
  /** Every event with a position in (after, scannedTo] is in `events` (and none after it is). */
  scannedTo: number;
}

/** A page query's result: a short page means the query scanned everything up to head. */
export function pageOf(events: StoredEvent[], head: number, limit: number): PageRead {
  return { events, scannedTo: events.length < limit ? head : Number(events[events.length - 1].position) };
}

/**
 * The events an event store's unfiltered subscriptions read last, shared between them. The projector's
 * runners follow the same events within milliseconds of each other, so the first to reach a range reads
 * and parses it, and the others take the same StoredEvent objects (readers treat events as immutable, as a
 * one-pass rebuild already does) instead of running the query and the JSON parsing again.
 *
 * It holds a run of events that covers (from, to]: every committed event with a position in that range,
 * in order. Positions are given in commit order (one writer, rowid = max + 1), so a range read up to a head
 * that was committed is complete for good and can be served again. At most `capacity` events are held;
 * the oldest go first.
 */
export class RecentEvents {
  private events: StoredEvent[] = [];
  private from = 0;
  private to = 0;
  /** Pages served from memory and pages read from SQLite, for tests and benchmarks. */
  readonly stats = { hits: 0, reads: 0 };

  constructor(private readonly capacity: number) {}

  /**
   * Events with a position in (after, head], at most `limit`: from memory when it covers `after`, else
   * through `load` (a page query; a short page means it scanned to head), whose result is kept.
   */
  read(after: number, head: number, limit: number, load: () => StoredEvent[]): PageRead {
    if (after >= this.from && after < this.to) {
      const start = this.indexAfter(after);
      const events = this.events
        .slice(start, start + limit)
        .filter((event) => Number(event.position) <= head);
      this.stats.hits++;
      if (events.length === limit) return { events, scannedTo: Number(events[events.length - 1].position) };
      return { events, scannedTo: Math.min(head, this.to) };
    }
    const page = pageOf(load(), head, limit);
    this.stats.reads++;
    this.keep(after, page.scannedTo, page.events);
    return page;
  }

  private keep(after: number, scannedTo: number, events: StoredEvent[]): void {
    if (after === this.to && this.to > this.from) {
      this.events.push(...events);
    } else {
      this.events = [...events];
      this.from = after;
    }
    this.to = scannedTo;
    const excess = this.events.length - this.capacity;
    if (excess > 0) {
      this.from = Number(this.events[excess - 1].position);
      this.events = this.events.slice(excess);
    }
  }

  /** Index of the first held event with a position greater than `after` (binary search: positions ascend). */
  private indexAfter(after: number): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (Number(this.events[mid].position) <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
