import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches, MaxLength } from 'class-validator';
import { AsOfCutOff, OccurredAtCutOff } from './cut-off.dto';
import { IsInstant } from './instant';
import { CHANNELS, ISSUE_CATEGORIES, PRIORITIES } from './vocabulary';
import { ID_MESSAGE, ID_PATTERN } from './common.dto';

const POSITION = /^(?:0|[1-9]\d{0,18})$/;
const LIMIT = /^(?:[1-9]\d?|[1-4]\d\d|500)$/;
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/**
 * The query of a route that takes no parameter: with the global pipe's forbidNonWhitelisted, any parameter
 * is unknown and refused (400), as on the routes that take some.
 */
export class NoQueryDto {}

/** minPosition (read-your-writes) is accepted by every query. */
export class ReadQueryDto {
  @ApiPropertyOptional({ description: 'Wait (up to 5 s) until the read models include this position' })
  @IsOptional()
  @Matches(POSITION, { message: 'minPosition must be a non-negative integer (a command’s "position")' })
  minPosition?: string;
}

export class PageQueryDto extends ReadQueryDto {
  @ApiPropertyOptional({ description: `1–${MAX_LIST_LIMIT}, default ${DEFAULT_LIST_LIMIT}` })
  @IsOptional()
  @Matches(LIMIT, { message: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}` })
  limit?: string;

  @ApiPropertyOptional({ description: 'Opaque, from the previous page’s nextCursor' })
  @IsOptional()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a nextCursor returned by the previous page' })
  cursor?: string;
}

/** A timeline page, as of at most one time cut-off (the same as GET /audit/streams/:stream/state's). */
export class TimelineQueryDto extends PageQueryDto {
  @AsOfCutOff()
  asOf?: string;

  @OccurredAtCutOff()
  occurredAt?: string;
}

/** `format=csv` asks for CSV where a client cannot send `Accept: text/csv`; `format=json` forces JSON. */
export const ANSWER_FORMATS = ['json', 'csv'] as const;

export class ListIssuesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: ANSWER_FORMATS,
    description: 'csv: the same as Accept: text/csv (every matching row, or the first `limit` when given)',
  })
  @IsOptional()
  @IsIn(ANSWER_FORMATS)
  format?: string;

  @ApiPropertyOptional({ enum: ['open', 'resolved', 'closed'] })
  @IsOptional()
  @IsIn(['open', 'resolved', 'closed'])
  status?: string;

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

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID_PATTERN, { message: `assigneeId ${ID_MESSAGE}` })
  assigneeId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID_PATTERN, { message: `customerId ${ID_MESSAGE}` })
  customerId?: string;

  @ApiPropertyOptional({ description: 'openedAt >= openedFrom (ISO-8601)' })
  @IsOptional()
  @IsInstant()
  openedFrom?: string;

  @ApiPropertyOptional({ description: 'openedAt < openedTo (ISO-8601)' })
  @IsOptional()
  @IsInstant()
  openedTo?: string;
}

/** A CSV answer's row limit: only an explicit `limit` (CSV has no default page size). */
export function explicitLimitOf(query: PageQueryDto): number | undefined {
  return query.limit === undefined ? undefined : Number(query.limit);
}

export function limitOf(query: PageQueryDto): number {
  return query.limit === undefined ? DEFAULT_LIST_LIMIT : Number(query.limit);
}
