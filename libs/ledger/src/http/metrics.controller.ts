import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { METRICS_PROJECTION } from '../read-models/metrics/metrics.projection';
import type { MetricAnswer, MetricName, MetricParams } from '../read-models/metrics/metric-computations';
import type { GroupDimension } from '../read-models/metrics/metric-groups';
import { GetMetric } from '../read-models/metrics/metrics.query';
import { ALL_ROLES, Roles } from './auth/roles.decorator';
import { wantsCsv } from './csv';
import { ChurnQueryDto, MetricsQueryDto } from './dto/metrics.dto';
import { metricCsv } from './metrics-csv';
import { ProblemError } from './problem';
import { periodBound } from './dto/relative-period';
import { ReadYourWrites } from './read-your-writes';

const METRICS = [METRICS_PROJECTION];
const DEFAULT_CHURN_WINDOW_DAYS = 30;

const invalid = (field: string, message: string) =>
  ProblemError.of('validation-failed', `${field}: ${message}`, { errors: [{ field, message }] });

/** The DTO's IsInstant has already refused ISO-8601 forms Date cannot read (week and ordinal dates). */
const instant = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Date.parse(iso);

/** ECMAScript's Date range: ±8.64e15 ms around the epoch. */
const MAX_DATE_MS = 8.64e15;

/** A period bound (the DTO checked its form); a relative one counts back from asOf. */
function bound(field: 'from' | 'to', value: string | undefined, asOf: number): number | undefined {
  if (value === undefined) return undefined;
  const at = periodBound(value, asOf);
  if (!Number.isFinite(at) || Math.abs(at) > MAX_DATE_MS) {
    throw invalid(field, `${value} back from asOf falls outside the dates the ledger can represent`);
  }
  return at;
}

function paramsOf(query: MetricsQueryDto & { window?: string; curvePoints?: string }): MetricParams {
  const asOf = instant(query.asOf) ?? Date.now();
  const params: MetricParams = {
    asOf,
    from: bound('from', query.from, asOf),
    to: bound('to', query.to, asOf),
    category: query.category,
    channel: query.channel,
    priority: query.priority,
    groupBy: [...new Set((query.groupBy ?? '').split(',').filter(Boolean))] as GroupDimension[],
    window: query.window === undefined ? DEFAULT_CHURN_WINDOW_DAYS : Number(query.window),
    curvePoints: query.curvePoints === undefined ? undefined : Number(query.curvePoints),
  };
  if (params.from !== undefined && params.to !== undefined && params.from >= params.to) {
    throw invalid('to', 'must be after from');
  }
  return params;
}

/** GET /metrics/*: any role (API.md "Queries"), JSON or CSV (one row per group). */
@ApiTags('metrics')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  private async answer(
    metric: MetricName,
    query: MetricsQueryDto | ChurnQueryDto,
    accept: string | undefined,
    reply: FastifyReply,
  ): Promise<MetricAnswer | string> {
    const params = paramsOf(query);
    await this.readYourWrites.await(query.minPosition, METRICS);
    const answer = await this.queries.execute<GetMetric, MetricAnswer>(new GetMetric(metric, params));
    if (!wantsCsv(accept, query.format)) return answer;
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="metrics-${metric}.csv"`);
    return metricCsv(answer);
  }

  @Get('resolution-time')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description:
      'Per group: issues, resolved, open (open at asOf, as backlog), unresolved (no first resolution by asOf: what Kaplan–Meier censors), km, resolvedOnly. Durations in seconds; a quantile may end in .5 (the midpoint rule)',
  })
  resolutionTime(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('resolution-time', query, accept, reply);
  }

  @Get('first-response')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  firstResponse(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('first-response', query, accept, reply);
  }

  @Get('sla')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  sla(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('sla', query, accept, reply);
  }

  @Get('reopens')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  reopens(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('reopens', query, accept, reply);
  }

  @Get('escalations')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  escalations(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('escalations', query, accept, reply);
  }

  @Get('csat')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  csat(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('csat', query, accept, reply);
  }

  @Get('first-contact-resolution')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  firstContactResolution(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('first-contact-resolution', query, accept, reply);
  }

  @Get('backlog')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  backlog(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('backlog', query, accept, reply);
  }

  @Get('refunds')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  refunds(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('refunds', query, accept, reply);
  }

  @Get('disputes')
  @Roles(...ALL_ROLES)
  @ApiProduces('application/json', 'text/csv')
  disputes(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('disputes', query, accept, reply);
  }

  @Get('churn')
  @Roles(...ALL_ROLES)
  @ApiOkResponse({
    description:
      'churnAnchor names the issue each customer is measured from: with a filter, the first issue in the period that matches it; with groupBy, the first of any kind (the customer counts in its group only)',
  })
  @ApiProduces('application/json', 'text/csv')
  churn(
    @Query() query: ChurnQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('churn', query, accept, reply);
  }

  @Get('overview')
  @Roles(...ALL_ROLES)
  @ApiOkResponse({
    description:
      'Headline figures per group; open equals backlog.open; each duration (seconds) also as humanized ("3d 04:12:05"); churnAnchor as on /metrics/churn',
  })
  @ApiProduces('application/json', 'text/csv')
  overview(
    @Query() query: MetricsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer('overview', query, accept, reply);
  }
}
