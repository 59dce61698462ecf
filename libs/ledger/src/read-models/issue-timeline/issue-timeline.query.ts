import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { READ_MODEL_STORE, type ReadModelStore } from '../../application/ports/read-model-store.port';
import { ISSUE_SUMMARIES, type IssueSummaryDocument } from '../issue-summary/issue-summary.projection';
import { TIMELINE_ENTRIES } from './issue-timeline.projection';

export class GetIssueTimeline {
  constructor(
    readonly issueId: string,
    readonly limit: number,
    readonly cursor?: string,
  ) {}
}

export interface IssueTimelinePage {
  issueId: string;
  /** The streams the timeline is made of: the issue's and each linked charge's. */
  streams: string[];
  items: Record<string, unknown>[];
  nextCursor: string | null;
}

/**
 * The issue's events and those of every charge linked to it, in ledger order. Composed at read time from
 * per-stream entries, so a charge linked after the fact brings its whole history, earlier events included.
 */
@QueryHandler(GetIssueTimeline)
export class GetIssueTimelineHandler implements IQueryHandler<GetIssueTimeline, IssueTimelinePage | null> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ issueId, limit, cursor }: GetIssueTimeline): Promise<IssueTimelinePage | null> {
    const issue = (await this.store.get(ISSUE_SUMMARIES, issueId)) as IssueSummaryDocument | null;
    if (!issue) return null;
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
      items: page.items.map(({ id: _id, lastPosition: _last, ...entry }) => entry),
      nextCursor: page.nextCursor,
    };
  }
}
