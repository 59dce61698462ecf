import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '../domain/shared/domain-error';
import { GetChargeSummary, type ChargeSummaryView } from '../read-models/charge-summary/charge-summary.query';
import {
  GetCustomerSummary,
  type CustomerSummaryView,
} from '../read-models/customer-summary/customer-summary.query';
import {
  GetIssueSummary,
  ListIssueSummaries,
  ScanIssueSummaries,
  type IssueFilters,
  type IssueSummaryView,
} from '../read-models/issue-summary/issue-summary.query';
import { GetIssueTimeline, type IssueTimelinePage } from '../read-models/issue-timeline/issue-timeline.query';
import { ALL_ROLES, Roles } from './auth/roles.decorator';
import { ActorNames } from './actor-names';
import { csvStream, limited, wantsCsv } from './csv';
import { timeCutOffOf } from './cut-off';
import {
  explicitLimitOf,
  limitOf,
  ListIssuesQueryDto,
  ReadQueryDto,
  TimelineQueryDto,
} from './dto/query.dto';
import { IdParamPipe } from './params';
import { ReadYourWrites } from './read-your-writes';

const ISSUE_SUMMARY = ['issue-summary'];
const ISSUE_TIMELINE = ['issue-summary', 'issue-timeline'];
const CHARGE_SUMMARY = ['charge-summary'];
const CUSTOMER_SUMMARY = ['customer-summary', 'issue-summary'];

const ISSUE_CSV_COLUMNS: { header: string; value: (issue: IssueSummaryView) => unknown }[] = [
  { header: 'issueId', value: (i) => i.issueId },
  { header: 'status', value: (i) => i.status },
  { header: 'category', value: (i) => i.category },
  { header: 'channel', value: (i) => i.channel },
  { header: 'priority', value: (i) => i.priority },
  { header: 'customerId', value: (i) => i.customerId },
  { header: 'assigneeId', value: (i) => i.assigneeId },
  { header: 'openedAt', value: (i) => i.openedAt },
  { header: 'firstResponseAt', value: (i) => i.firstResponseAt },
  { header: 'resolvedAt', value: (i) => i.resolvedAt },
  { header: 'closedAt', value: (i) => i.closedAt },
  { header: 'resolution', value: (i) => i.resolution },
  { header: 'reopenCount', value: (i) => i.reopenCount },
  { header: 'escalations', value: (i) => i.escalations.length },
  { header: 'chargeIds', value: (i) => i.chargeIds.join(' ') },
  { header: 'csat', value: (i) => i.csat },
  { header: 'firstResponseSla', value: (i) => i.sla.firstResponse.state },
  { header: 'resolutionSla', value: (i) => i.sla.resolution.state },
  { header: 'summary', value: (i) => i.summary },
];

function filtersOf(query: ListIssuesQueryDto): IssueFilters {
  const { status, category, channel, priority, assigneeId, customerId, openedFrom, openedTo } = query;
  return { status, category, channel, priority, assigneeId, customerId, openedFrom, openedTo };
}

/** The query side: read models only, never the event store (DESIGN.md). */
@ApiTags('queries')
@ApiBearerAuth()
@Controller()
export class QueriesController {
  constructor(
    private readonly queries: QueryBus,
    private readonly readYourWrites: ReadYourWrites,
    private readonly actorNames: ActorNames,
  ) {}

  @Get('issues')
  @Roles(...ALL_ROLES)
  @ApiOkResponse({
    description:
      'JSON: a page of issue summaries. CSV (Accept: text/csv or format=csv): streamed, every matching row, or the first `limit` when given',
  })
  @ApiProduces('application/json', 'text/csv')
  async issues(
    @Query() query: ListIssuesQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.readYourWrites.await(query.minPosition, ISSUE_SUMMARY);
    if (wantsCsv(accept, query.format)) {
      const rows = await this.queries.execute<ScanIssueSummaries, AsyncIterable<IssueSummaryView>>(
        new ScanIssueSummaries(filtersOf(query)),
      );
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="issues.csv"');
      // Streamed row by row; no page cap unless the client set `limit`.
      return csvStream(ISSUE_CSV_COLUMNS, limited(rows, explicitLimitOf(query)));
    }
    return this.queries.execute(new ListIssueSummaries(filtersOf(query), limitOf(query), query.cursor));
  }

  @Get('issues/:issueId')
  @Roles(...ALL_ROLES)
  async issue(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() query: ReadQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.readYourWrites.await(query.minPosition, ISSUE_SUMMARY);
    const issue = await this.queries.execute<GetIssueSummary, IssueSummaryView | null>(
      new GetIssueSummary(issueId),
    );
    if (!issue) throw new NotFoundError('issue-not-found', `Issue ${issueId} does not exist`, { issueId });
    reply.header('etag', `"${issue.revision}"`);
    return issue;
  }

  @Get('issues/:issueId/timeline')
  @Roles(...ALL_ROLES)
  @ApiOkResponse({
    description:
      "items: position (a string holding an integer), recordedAt, occurredAt, actor, actorName (the API key's name, looked up when answering, never stored), type, description, data",
  })
  async timeline(@Param('issueId', IdParamPipe) issueId: string, @Query() query: TimelineQueryDto) {
    const cutOff = timeCutOffOf(query);
    await this.readYourWrites.await(query.minPosition, ISSUE_TIMELINE);
    const page = await this.queries.execute<GetIssueTimeline, IssueTimelinePage | null>(
      new GetIssueTimeline(issueId, limitOf(query), query.cursor, cutOff),
    );
    if (!page) throw new NotFoundError('issue-not-found', `Issue ${issueId} does not exist`, { issueId });
    const names = await this.actorNames.byId();
    return {
      ...page,
      items: page.items.map((item) => ({
        ...item,
        actorName: ActorNames.nameOf(names, item.actor),
      })),
    };
  }

  @Get('charges/:chargeId')
  @Roles(...ALL_ROLES)
  async charge(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Query() query: ReadQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.readYourWrites.await(query.minPosition, CHARGE_SUMMARY);
    const charge = await this.queries.execute<GetChargeSummary, ChargeSummaryView | null>(
      new GetChargeSummary(chargeId),
    );
    if (!charge)
      throw new NotFoundError('charge-not-found', `Charge ${chargeId} does not exist`, { chargeId });
    reply.header('etag', `"${charge.revision}"`);
    return charge;
  }

  /** A customer with no stream yet answers 200 with ETag "-1": customer commands create the stream. */
  @Get('customers/:customerId')
  @Roles(...ALL_ROLES)
  async customer(
    @Param('customerId', IdParamPipe) customerId: string,
    @Query() query: ReadQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.readYourWrites.await(query.minPosition, CUSTOMER_SUMMARY);
    const customer = await this.queries.execute<GetCustomerSummary, CustomerSummaryView>(
      new GetCustomerSummary(customerId),
    );
    reply.header('etag', `"${customer.revision}"`);
    return customer;
  }
}
