import type { EventStore } from '../../application/ports/event-store.port';
import { ACCESS_RECORDED, accessLogStream, type AccessEntry } from './access-log';

export interface AccessLogFilters {
  from: Date;
  /** Inclusive. */
  to: Date;
  actor?: string;
  route?: string;
  stream?: string;
}

export interface AccessLogItem extends AccessEntry {
  eventId: string;
  /** The access-log stream and revision holding the entry, and its global position. */
  logStream: string;
  revision: number;
  position: string;
  recordedAt: string;
}

export interface AccessLogPage {
  items: AccessLogItem[];
  /** Where the next page starts; null when the range is exhausted. May be set on a short page. */
  nextCursor: string | null;
  /** Access-log events read to answer (bounded by MAX_SCANNED_PER_PAGE). */
  scanned: number;
}

/** A page reads at most this many access-log events, whatever the filters match, so a request is bounded. */
export const MAX_SCANNED_PER_PAGE = 5000;
export const MAX_ACCESS_LOG_DAYS = 366;
const READ_CHUNK = 500;
const DAY_MS = 86_400_000;

export class InvalidAccessLogQueryError extends Error {
  override readonly name = 'InvalidAccessLogQueryError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

interface Cursor {
  day: string;
  revision: number;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.day, cursor.revision])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const [day, revision] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (
      typeof day === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(day) &&
      Number.isSafeInteger(revision) &&
      (revision as number) >= 0
    ) {
      return { day, revision: revision as number };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidAccessLogQueryError('cursor', 'cursor must be a nextCursor returned by the previous page');
}

const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

function matches(entry: AccessEntry, at: number, filters: AccessLogFilters): boolean {
  return (
    at >= filters.from.getTime() &&
    at <= filters.to.getTime() &&
    (filters.actor === undefined || entry.actor === filters.actor) &&
    (filters.route === undefined || entry.route === filters.route) &&
    (filters.stream === undefined || (Array.isArray(entry.streams) && entry.streams.includes(filters.stream)))
  );
}

/**
 * Reads the access log through the EventStore port: the day streams from `from` to `to`, oldest first,
 * filtered in memory. Bounded: at most `limit` items and MAX_SCANNED_PER_PAGE events read per page; the
 * cursor names the day stream and revision to go on from.
 */
export async function readAccessLog(
  eventStore: EventStore,
  filters: AccessLogFilters,
  limit: number,
  cursorText?: string,
): Promise<AccessLogPage> {
  if (filters.from.getTime() > filters.to.getTime()) {
    throw new InvalidAccessLogQueryError('from', 'from must not be after to');
  }
  const firstDay = Date.parse(`${dayOf(filters.from.getTime())}T00:00:00.000Z`);
  const lastDay = Date.parse(`${dayOf(filters.to.getTime())}T00:00:00.000Z`);
  if ((lastDay - firstDay) / DAY_MS + 1 > MAX_ACCESS_LOG_DAYS) {
    throw new InvalidAccessLogQueryError('from', `the range may span at most ${MAX_ACCESS_LOG_DAYS} days`);
  }
  let cursor: Cursor = { day: dayOf(firstDay), revision: 0 };
  if (cursorText !== undefined) {
    cursor = decodeCursor(cursorText);
    const day = Date.parse(`${cursor.day}T00:00:00.000Z`);
    if (!(day >= firstDay && day <= lastDay)) {
      throw new InvalidAccessLogQueryError('cursor', 'cursor does not belong to this from/to range');
    }
  }

  const items: AccessLogItem[] = [];
  let scanned = 0;
  for (let day = Date.parse(`${cursor.day}T00:00:00.000Z`); day <= lastDay; day += DAY_MS) {
    const stream = accessLogStream(dayOf(day));
    let fromRevision = dayOf(day) === cursor.day ? cursor.revision : 0;
    for (;;) {
      const budget = Math.min(READ_CHUNK, MAX_SCANNED_PER_PAGE - scanned);
      if (budget === 0)
        return { items, nextCursor: encodeCursor({ day: dayOf(day), revision: fromRevision }), scanned };
      const events = await eventStore.readStream(stream, { fromRevision, maxCount: budget });
      for (const event of events) {
        scanned++;
        fromRevision = event.revision + 1;
        if (event.type !== ACCESS_RECORDED) continue;
        const entry = event.data as unknown as AccessEntry;
        if (!matches(entry, Date.parse(entry.at), filters)) continue;
        items.push({
          ...entry,
          eventId: event.metadata.eventId,
          logStream: stream,
          revision: event.revision,
          position: event.position.toString(),
          recordedAt: event.metadata.recordedAt,
        });
        if (items.length === limit) {
          return { items, nextCursor: encodeCursor({ day: dayOf(day), revision: fromRevision }), scanned };
        }
      }
      if (events.length < budget) break;
    }
  }
  return { items, nextCursor: null, scanned };
}
