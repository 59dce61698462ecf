import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { cutOffLabel, keptByCutOff, type TimeCutOff } from '../../application/history-cut-off';
import {
  InvalidReadQueryError,
  READ_MODEL_STORE,
  type ReadModelStore,
} from '../../application/ports/read-model-store.port';
import { ISSUE_SUMMARIES, type IssueSummaryDocument } from '../issue-summary/issue-summary.projection';
import { TIMELINE_ENTRIES, type TimelineEntryDocument } from './issue-timeline.projection';

export class GetIssueTimeline {
  constructor(
    readonly issueId: string,
    readonly limit: number,
    readonly cursor?: string,
    /** The timeline as of a time: see GetIssueTimelineHandler. */
    readonly cutOff?: TimeCutOff | null,
  ) {}
}

/** An entry as answered: the stored entry without its storage fields, `position` a string. */
export type TimelineItem = Omit<TimelineEntryDocument, 'id' | 'lastPosition' | 'position'> & {
  position: string;
};

export interface IssueTimelinePage {
  issueId: string;
  /** The streams the timeline is made of: the issue's and each linked charge's. */
  streams: string[];
  items: TimelineItem[];
  nextCursor: string | null;
  /** The cut-off the timeline was read as of, e.g. `{ "asOf": "2026-03-01T00:00:00.000Z" }`. */
  at?: Record<string, string>;
}

type Entry = TimelineEntryDocument;

/** The charges an issue's entries link: at opening (`chargeIds`) and by `ChargeLinked`, in order. */
function linkedChargeIds(entries: readonly Entry[]): string[] {
  const ids = new Set<string>();
  for (const entry of entries) {
    if (entry.type === 'IssueOpened' && Array.isArray(entry.data.chargeIds)) {
      for (const id of entry.data.chargeIds) if (typeof id === 'string') ids.add(id);
    }
    if (entry.type === 'ChargeLinked' && typeof entry.data.chargeId === 'string')
      ids.add(entry.data.chargeId);
  }
  return [...ids];
}

/** Cut-off pages are composed in memory; their cursor names the last entry id (a zero-padded position). */
function encodeCutOffCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id })).toString('base64url');
}

function decodeCutOffCursor(cursor: string): string {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const after = (decoded as { after?: unknown } | null)?.after;
    if (typeof after === 'string' && /^\d{20}$/.test(after)) return after;
  } catch {
    // refused below
  }
  throw new InvalidReadQueryError('Malformed cursor: not one of this timeline as of a time');
}

const timesOf = (entry: Entry) => entry;
/**
 * An entry as answered: `position` as a string holding an integer, like every other route's positions (the
 * stored number is read from the entry id, the zero-padded position, so no precision is lost past 2^53).
 */
const entryView = ({ id, lastPosition: _last, ...entry }: Entry): TimelineItem => ({
  ...entry,
  position: id.replace(/^0+(?=\d)/, ''),
});

/**
 * The issue's events and those of every charge linked to it, in ledger order. Composed at read time from
 * per-stream entries, so a charge linked after the fact brings its whole history, earlier events included.
 * As of a time cut-off, only what was linked by then is composed.
 */
@QueryHandler(GetIssueTimeline)
export class GetIssueTimelineHandler implements IQueryHandler<GetIssueTimeline, IssueTimelinePage | null> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ issueId, limit, cursor, cutOff }: GetIssueTimeline): Promise<IssueTimelinePage | null> {
    const issue = (await this.store.get(ISSUE_SUMMARIES, issueId)) as IssueSummaryDocument | null;
    if (!issue) return null;
    if (cutOff) return this.asOf(issueId, limit, cursor, cutOff);
    const streams = [`issue-${issueId}`, ...issue.chargeIds.map((chargeId) => `charge-${chargeId}`)];
    const page = await this.store.list(TIMELINE_ENTRIES, {
      where: { stream: { in: streams } },
      // Entry ids are zero-padded positions: id order is ledger order.
      orderBy: { field: 'id', direction: 'asc' },
      limit,
      cursor,
    });
    return {
      issueId,
      streams,
      items: page.items.map((entry) => entryView(entry as Entry)),
      nextCursor: page.nextCursor,
    };
  }

  /**
   * The timeline as of a cut-off: the issue's entries the cut-off keeps, the charges those entries link
   * (a charge linked after the cut-off contributes nothing), and each linked charge's entries the cut-off
   * keeps, earlier than the link included. Each stream is cut on its own (an `asOf` prefix ends at that
   * stream's first entry recorded later), then the entries are merged in ledger order and paged.
   */
  private async asOf(
    issueId: string,
    limit: number,
    cursor: string | undefined,
    cutOff: TimeCutOff,
  ): Promise<IssueTimelinePage> {
    const after = cursor === undefined ? null : decodeCutOffCursor(cursor);
    const streamEntries = async (stream: string) => {
      const entries: Entry[] = [];
      const scan = this.store.scan(TIMELINE_ENTRIES, {
        where: { stream },
        orderBy: { field: 'id', direction: 'asc' },
      });
      for await (const entry of scan) entries.push(entry as Entry);
      return keptByCutOff(cutOff, entries, timesOf);
    };
    const issueEntries = await streamEntries(`issue-${issueId}`);
    const charges = linkedChargeIds(issueEntries).map((chargeId) => `charge-${chargeId}`);
    const entries = [...issueEntries];
    for (const stream of charges) entries.push(...(await streamEntries(stream)));
    entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rest = after === null ? entries : entries.filter((entry) => entry.id > after);
    const items = rest.slice(0, limit);
    return {
      issueId,
      streams: [`issue-${issueId}`, ...charges],
      at: cutOffLabel(cutOff),
      items: items.map(entryView),
      nextCursor: rest.length > limit ? encodeCutOffCursor(items[items.length - 1].id) : null,
    };
  }
}
