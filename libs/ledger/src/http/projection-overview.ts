import type { EventStore } from '../application/ports/event-store.port';
import type { ProjectionsControl } from '../application/ports/projections.port';
import { eventsBetween } from '../application/events-between';

/**
 * Where positions are sparse (EventStoreDB's commit positions are log offsets), a lag in events is counted
 * by reading the events after the projection's position, up to this many; more reads as "1000+".
 */
export const MAX_COUNTED_LAG = 1000;

/**
 * Ledger events after `position` up to `head`, as a decimal string: a difference where positions are dense,
 * else counted through the port (other applications' and system events are not the ledger's, and the
 * adapter's readAll skips them, so they never count).
 */
async function lagInEvents(eventStore: EventStore, position: bigint, head: bigint): Promise<string> {
  const counted = await eventsBetween(eventStore, position, head, MAX_COUNTED_LAG);
  return counted > MAX_COUNTED_LAG && !eventStore.densePositions ? `${MAX_COUNTED_LAG}+` : String(counted);
}

/** Each projection's position against the head: lag in events and in seconds, and a running rebuild. */
export async function projectionOverview(projections: ProjectionsControl, eventStore: EventStore) {
  const head = await eventStore.headPosition();
  const newest = head >= 1n ? (await eventStore.readAll({ fromPosition: head, maxCount: 1 }))[0] : undefined;
  const rebuilds = new Map(projections.rebuilds().map((rebuild) => [rebuild.projection, rebuild]));
  // Projections mostly share a position: each distinct one is counted once.
  const lags = new Map<string, Promise<string>>();
  const lagOf = (position: string): Promise<string> => {
    let lag = lags.get(position);
    if (!lag) lags.set(position, (lag = lagInEvents(eventStore, BigInt(position), head)));
    return lag;
  };
  return {
    headPosition: head.toString(),
    // Where the projections run: this API process, or another one whose checkpoints this one reads.
    projectionsRun: projections.runsElsewhere ? ('elsewhere' as const) : ('in-process' as const),
    projections: await Promise.all(
      projections.statuses().map(async (status) => {
        const lagEvents = await lagOf(status.position);
        // Business lag: how much older the last applied event is than the newest one (null: none applied).
        const lagSeconds =
          lagEvents === '0'
            ? 0
            : status.lastRecordedAt && newest
              ? Math.max(
                  0,
                  (Date.parse(newest.metadata.recordedAt) - Date.parse(status.lastRecordedAt)) / 1000,
                )
              : null;
        const rebuild = rebuilds.get(status.name);
        return {
          ...status,
          lagEvents,
          lagSeconds,
          rebuild: rebuild && rebuild.phase !== 'done' ? rebuild : null,
        };
      }),
    ),
  };
}
