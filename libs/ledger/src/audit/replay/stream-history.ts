import { cutOffVerdict, type TimeCutOff } from '../../application/history-cut-off';
import type { EventStore, StoredEvent } from '../../application/ports/event-store.port';

export interface StreamHistoryOptions {
  /** First revision to answer (default 0). */
  fromRevision?: number;
  /** At most this many events (default: all). */
  limit?: number;
  /** Only the events this cut-off keeps (docs/audit.md); none: every stored event. */
  cutOff?: TimeCutOff | null;
}

export interface StreamHistoryPage {
  events: StoredEvent[];
  /** Where the next page starts when this one was cut by `limit`, else null. */
  nextFromRevision: number | null;
}

const PAGE = 1000;

/**
 * A stream's stored events, unmodified, from a revision and as of a cut-off, read through the EventStore
 * port (any engine). With `asOf` the stream is read from revision 0 even when the page starts later: an
 * earlier event recorded after the instant ends the prefix there, exactly as the state replay stops.
 */
export async function readStreamHistory(
  eventStore: EventStore,
  stream: string,
  { fromRevision = 0, limit, cutOff }: StreamHistoryOptions = {},
): Promise<StreamHistoryPage> {
  if (!cutOff) {
    const events = await eventStore.readStream(stream, { fromRevision, maxCount: limit });
    const full = limit !== undefined && events.length === limit && events.length > 0;
    return { events, nextFromRevision: full ? events[events.length - 1].revision + 1 : null };
  }
  const kept: StoredEvent[] = [];
  let next = cutOff.kind === 'asOf' ? 0 : fromRevision;
  for (;;) {
    const page = await eventStore.readStream(stream, { fromRevision: next, maxCount: PAGE });
    for (const event of page) {
      const verdict = cutOffVerdict(cutOff, event.metadata);
      if (verdict === 'stop') return { events: kept, nextFromRevision: null };
      if (verdict === 'keep' && event.revision >= fromRevision) {
        kept.push(event);
        if (kept.length === limit) return { events: kept, nextFromRevision: event.revision + 1 };
      }
    }
    if (page.length < PAGE) return { events: kept, nextFromRevision: null };
    next = page[page.length - 1].revision + 1;
  }
}
