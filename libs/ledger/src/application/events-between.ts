import type { EventStore } from './ports/event-store.port';

/**
 * How many ledger events lie after position `after` up to `upTo` (both positions, -1 for "before the
 * first"). Embedded positions are dense from 1, so there it is an exact difference; elsewhere (EventStoreDB's log offsets, shared with system and other applications' events,
 * which the adapter's readAll skips) the events are read and counted, and the reading stops once more
 * than `cap` are counted.
 */
export async function eventsBetween(
  store: EventStore,
  after: bigint,
  upTo: bigint,
  cap = Number.POSITIVE_INFINITY,
): Promise<number> {
  if (upTo <= after || upTo < 0n) return 0;
  if (store.densePositions) return Number(upTo - (after < 0n ? 0n : after));
  const PAGE = 1000;
  let counted = 0;
  let fromPosition = after < 0n ? 0n : after + 1n;
  while (counted <= cap) {
    const maxCount = Math.min(PAGE, cap - counted + 1);
    const page = (await store.readAll({ fromPosition, maxCount })).filter((event) => event.position <= upTo);
    counted += page.length;
    if (page.length < maxCount) break;
    fromPosition = page[page.length - 1].position + 1n;
  }
  return counted;
}
