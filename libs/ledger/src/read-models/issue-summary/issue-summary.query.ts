import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../application/ports/clock.port';
import {
  READ_MODEL_STORE,
  type FieldFilter,
  type Page,
  type ReadModelStore,
} from '../../application/ports/read-model-store.port';
import { earlierOf } from '../instants';
import { issueSla, type SlaTargets } from '../sla/sla';
import { SLA_TARGETS } from '../sla/sla-targets.token';
import { ISSUE_SUMMARIES, type IssueSummaryDocument } from './issue-summary.projection';

export interface IssueFilters {
  status?: string;
  category?: string;
  channel?: string;
  assigneeId?: string;
  customerId?: string;
  priority?: string;
  /** Inclusive lower bound of openedAt (ISO-8601). */
  openedFrom?: string;
  /** Exclusive upper bound of openedAt (ISO-8601). */
  openedTo?: string;
}

export class GetIssueSummary {
  constructor(readonly issueId: string) {}
}

export class ListIssueSummaries {
  constructor(
    readonly filters: IssueFilters,
    readonly limit: number,
    readonly cursor?: string,
  ) {}
}

/** Every matching summary, newest first, for CSV: no page cap. */
export class ScanIssueSummaries {
  constructor(readonly filters: IssueFilters) {}
}

export type IssueSummaryView = Omit<IssueSummaryDocument, 'lastPosition'> & {
  sla: ReturnType<typeof issueSla>;
};

export function issueWhere(filters: IssueFilters): Record<string, FieldFilter> {
  const where: Record<string, FieldFilter> = {};
  for (const field of ['status', 'category', 'channel', 'assigneeId', 'customerId', 'priority'] as const) {
    const value = filters[field];
    if (value !== undefined) where[field] = value;
  }
  if (filters.openedFrom !== undefined || filters.openedTo !== undefined) {
    where.openedAt = {
      ...(filters.openedFrom !== undefined ? { gte: new Date(filters.openedFrom).toISOString() } : {}),
      ...(filters.openedTo !== undefined ? { lt: new Date(filters.openedTo).toISOString() } : {}),
    };
  }
  return where;
}

const NEWEST_FIRST = { field: 'openedAt', direction: 'desc' as const };

/** The stored summary plus what is computed at query time (SLA state), never stored. */
export function issueView(doc: IssueSummaryDocument, asOf: Date, targets: SlaTargets): IssueSummaryView {
  const { lastPosition: _omitted, ...summary } = doc;
  return {
    ...summary,
    sla: issueSla(
      {
        priority: doc.priority,
        openedAt: doc.openedAt,
        firstResponseAt: doc.firstResponseAt,
        firstResolvedAt: doc.firstResolvedAt,
        // A close can only come after the first resolution or instead of one (withdrawn).
        settledAt:
          doc.closedAt === null
            ? doc.firstResolvedAt
            : doc.firstResolvedAt === null
              ? doc.closedAt
              : earlierOf(doc.firstResolvedAt, doc.closedAt),
      },
      asOf,
      targets,
    ),
  };
}

abstract class IssueSummaryReader {
  constructor(
    @Inject(READ_MODEL_STORE) protected readonly store: ReadModelStore,
    @Inject(CLOCK) protected readonly clock: Clock,
    @Inject(SLA_TARGETS) protected readonly targets: SlaTargets,
  ) {}

  protected view(doc: unknown): IssueSummaryView {
    return issueView(doc as IssueSummaryDocument, this.clock.now(), this.targets);
  }
}

@QueryHandler(GetIssueSummary)
export class GetIssueSummaryHandler
  extends IssueSummaryReader
  implements IQueryHandler<GetIssueSummary, IssueSummaryView | null>
{
  async execute({ issueId }: GetIssueSummary): Promise<IssueSummaryView | null> {
    const doc = await this.store.get(ISSUE_SUMMARIES, issueId);
    return doc ? this.view(doc) : null;
  }
}

@QueryHandler(ListIssueSummaries)
export class ListIssueSummariesHandler
  extends IssueSummaryReader
  implements IQueryHandler<ListIssueSummaries, { items: IssueSummaryView[]; nextCursor: string | null }>
{
  async execute({ filters, limit, cursor }: ListIssueSummaries) {
    const page: Page = await this.store.list(ISSUE_SUMMARIES, {
      where: issueWhere(filters),
      orderBy: NEWEST_FIRST,
      limit,
      cursor,
    });
    return { items: page.items.map((doc) => this.view(doc)), nextCursor: page.nextCursor };
  }
}

@QueryHandler(ScanIssueSummaries)
export class ScanIssueSummariesHandler
  extends IssueSummaryReader
  implements IQueryHandler<ScanIssueSummaries, AsyncIterable<IssueSummaryView>>
{
  async execute({ filters }: ScanIssueSummaries): Promise<AsyncIterable<IssueSummaryView>> {
    const docs = this.store.scan(ISSUE_SUMMARIES, { where: issueWhere(filters), orderBy: NEWEST_FIRST });
    const view = (doc: unknown) => this.view(doc);
    return (async function* () {
      for await (const doc of docs) yield view(doc);
    })();
  }
}
