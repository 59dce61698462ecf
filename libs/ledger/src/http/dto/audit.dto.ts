import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches, MaxLength } from 'class-validator';
import { AsOfCutOff, OccurredAtCutOff, TimeCutOffQueryDto } from './cut-off.dto';
import { IsInstant } from './instant';
import { ID_MESSAGE, ID_PATTERN } from './common.dto';

const REVISION = /^(?:0|[1-9]\d{0,14})$/;
export const STREAM_NAME_MESSAGE = 'must be a ledger stream name such as charge-ch_1';
const STREAM = /^(charge|issue|customer|accesslog)-[A-Za-z0-9_-]{1,64}$/;
const ACCESS_ACTOR = new RegExp(`${ID_PATTERN.source}|^cli:[A-Za-z0-9._-]{1,64}$`);
const ACCESS_LOG_LIMIT = /^(?:[1-9]\d?|[1-4]\d\d|500)$/;

export const MAX_STREAM_EVENTS_LIMIT = 1000;

/** The stored events from a revision, a page at a time, with at most one time cut-off. */
export class StreamEventsQueryDto extends TimeCutOffQueryDto {
  @ApiPropertyOptional({ description: 'First revision to read (default 0)' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'fromRevision must be a non-negative integer' })
  fromRevision?: string;

  @ApiPropertyOptional({ description: `1–${MAX_STREAM_EVENTS_LIMIT}, default ${MAX_STREAM_EVENTS_LIMIT}` })
  @IsOptional()
  @Matches(/^(?=\d{1,4}$)0*(?:[1-9]\d{0,2}|1000)$/, {
    message: `limit must be an integer from 1 to ${MAX_STREAM_EVENTS_LIMIT}`,
  })
  limit?: string;
}

/** At most one of asOf, revision, occurredAt (none: the whole stream); checked in the controller. */
export class StreamStateQueryDto {
  @AsOfCutOff()
  asOf?: string;

  @ApiPropertyOptional({ description: 'The state right after this revision (0-based)' })
  @IsOptional()
  @Matches(REVISION, { message: 'revision must be a non-negative integer' })
  revision?: string;

  @OccurredAtCutOff()
  occurredAt?: string;
}

export class VerifyQueryDto {
  @ApiPropertyOptional({ description: 'Verify one stream only (default: the whole ledger)' })
  @IsOptional()
  @Matches(STREAM, { message: `stream ${STREAM_NAME_MESSAGE}` })
  stream?: string;
}

export class AccessLogQueryDto {
  @ApiPropertyOptional({ description: 'ISO-8601; default 7 days before `to`' })
  @IsOptional()
  @IsInstant({ message: 'from must be an ISO-8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO-8601, inclusive; default now' })
  @IsOptional()
  @IsInstant({ message: 'to must be an ISO-8601 date-time' })
  to?: string;

  @ApiPropertyOptional({
    description: 'API key id, "anonymous" for failed authentications, or cli:<user> for CLI exports',
  })
  @IsOptional()
  @Matches(ACCESS_ACTOR, { message: `actor ${ID_MESSAGE}, or be anonymous or cli:<user>` })
  actor?: string;

  @ApiPropertyOptional({ description: 'Route pattern as logged, e.g. /issues/:issueId, or ledger export' })
  @IsOptional()
  @MaxLength(200)
  @Matches(/^(?:\/[A-Za-z0-9_:/-]*|ledger [a-z-]{1,40})$/, {
    message: 'route must be a route pattern such as /issues/:issueId, or a CLI command such as ledger export',
  })
  route?: string;

  @ApiPropertyOptional({ description: 'Only accesses that read this stream' })
  @IsOptional()
  @Matches(STREAM, { message: `stream ${STREAM_NAME_MESSAGE}` })
  stream?: string;

  @ApiPropertyOptional({ description: '1–500, default 50' })
  @IsOptional()
  @Matches(ACCESS_LOG_LIMIT, { message: 'limit must be an integer from 1 to 500' })
  limit?: string;

  @ApiPropertyOptional({ description: 'Opaque, from the previous page’s nextCursor' })
  @IsOptional()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a nextCursor returned by the previous page' })
  cursor?: string;
}
