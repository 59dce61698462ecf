import type { EventStore } from '../application/ports/event-store.port';
import type { ProjectionsControl } from '../application/ports/projections.port';

/** Each projection's position against the head: lag in events and in seconds, and a running rebuild. */
export async function projectionOverview(projections: ProjectionsControl, eventStore: EventStore) {
  const head = await eventStore.headPosition();
  const newest = head >= 1n ? (await eventStore.readAll({ fromPosition: head, maxCount: 1 }))[0] : undefined;
  const rebuilds = new Map(projections.rebuilds().map((rebuild) => [rebuild.projection, rebuild]));
  return {
    headPosition: head.toString(),
    projections: projections.statuses().map((status) => {
      const lagEvents = head - BigInt(status.position) > 0n ? head - BigInt(status.position) : 0n;
      // Business lag: how much older the last applied event is than the newest one (null: none applied).
      const lagSeconds =
        lagEvents === 0n
          ? 0
          : status.lastRecordedAt && newest
            ? Math.max(0, (Date.parse(newest.metadata.recordedAt) - Date.parse(status.lastRecordedAt)) / 1000)
            : null;
      const rebuild = rebuilds.get(status.name);
      return {
        ...status,
        lagEvents: lagEvents.toString(),
        lagSeconds,
        rebuild: rebuild && rebuild.phase !== 'done' ? rebuild : null,
      };
    }),
  };
}
