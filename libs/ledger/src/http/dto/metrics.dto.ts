import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsInstant } from './instant';
import { IsPeriodBound } from './relative-period';
import { CHURN_DIMENSIONS, ISSUE_DIMENSIONS } from '../../read-models/metrics/metric-groups';
import { ANSWER_FORMATS, ReadQueryDto } from './query.dto';
import { CHANNELS, ISSUE_CATEGORIES, PRIORITIES } from './vocabulary';

const listOf = (values: readonly string[]) =>
  new RegExp(`^(?:${values.join('|')})(?:,(?:${values.join('|')}))*$`);

/** The filters every metric takes (API.md "Queries"). */
class MetricFiltersDto extends ReadQueryDto {
  @ApiPropertyOptional({ enum: ANSWER_FORMATS, description: 'csv: the same as Accept: text/csv' })
  @IsOptional()
  @IsIn(ANSWER_FORMATS)
  format?: string;

  @ApiPropertyOptional({
    description:
      'The instant the metric is computed at, in business time: only facts that occurred by then count (ISO-8601); default now',
  })
  @IsOptional()
  @IsInstant({ message: 'asOf must be an ISO-8601 date-time' })
  asOf?: string;

  @ApiPropertyOptional({
    description:
      'Issues opened at or after: an ISO-8601 instant, or an ISO 8601 duration back from asOf (-P30D, -P1M, -PT12H)',
  })
  @IsOptional()
  @IsPeriodBound()
  from?: string;

  @ApiPropertyOptional({
    description:
      'Issues opened before: an ISO-8601 instant, or an ISO 8601 duration back from asOf (-P0D is asOf itself)',
  })
  @IsOptional()
  @IsPeriodBound()
  to?: string;

  @ApiPropertyOptional({ enum: ISSUE_CATEGORIES })
  @IsOptional()
  @IsIn(ISSUE_CATEGORIES)
  category?: string;

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS)
  channel?: string;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: string;
}

export class MetricsQueryDto extends MetricFiltersDto {
  @ApiPropertyOptional({
    description:
      'Survival-curve points per group (2–1000; resolution-time, first-response); default 100, shared out of 2,000 when grouped',
  })
  @IsOptional()
  @Matches(/^(?:[2-9]|[1-9]\d{1,2}|1000)$/, { message: 'curvePoints must be an integer from 2 to 1000' })
  curvePoints?: string;

  @ApiPropertyOptional({ description: `Comma-separated: ${ISSUE_DIMENSIONS.join(', ')}` })
  @IsOptional()
  @Matches(listOf(ISSUE_DIMENSIONS), {
    message: `groupBy must be a comma-separated list of ${ISSUE_DIMENSIONS.join(', ')}`,
  })
  groupBy?: string;
}

export class ChurnQueryDto extends MetricFiltersDto {
  @ApiPropertyOptional({ description: `Comma-separated: ${CHURN_DIMENSIONS.join(', ')}` })
  @IsOptional()
  @Matches(listOf(CHURN_DIMENSIONS), {
    message: `groupBy must be a comma-separated list of ${CHURN_DIMENSIONS.join(', ')}`,
  })
  groupBy?: string;

  @ApiPropertyOptional({ description: 'Days after the anchor issue opened (1–3650); default 30' })
  @IsOptional()
  @Matches(/^(?:[1-9]\d{0,2}|[12]\d{3}|3[0-5]\d\d|3650)$/, {
    message: 'window must be a whole number of days from 1 to 3650',
  })
  window?: string;
}
