import { ActorNames } from './actor-names';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../application/ports/clock.port';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import { InvalidAccessLogQueryError, readAccessLog } from '../audit/access-log/access-log-reader';
import { Roles } from './auth/roles.decorator';
import { AccessLogQueryDto } from './dto/audit.dto';
import { DEFAULT_LIST_LIMIT } from './dto/query.dto';
import { ProblemError } from './problem';

const DEFAULT_RANGE_MS = 7 * 86_400_000;

function instant(field: string, value: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw ProblemError.of('validation-failed', `${field} must be an ISO-8601 date-time`, {
      errors: [{ field, message: 'must be an ISO-8601 date-time' }],
    });
  }
  return at;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditAccessLogController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly actorNames: ActorNames,
  ) {}

  /** Who read what, and failed authentications, from the accesslog-{day} streams; oldest first. */
  @Get('access-log')
  @Roles('auditor')
  @ApiOkResponse({
    description: "Entries with actor (the API key id, or anonymous) and actorName (the key's name)",
  })
  async accessLog(@Query() query: AccessLogQueryDto) {
    const to = query.to === undefined ? this.clock.now() : instant('to', query.to);
    const from =
      query.from === undefined ? new Date(to.getTime() - DEFAULT_RANGE_MS) : instant('from', query.from);
    try {
      const page = await readAccessLog(
        this.eventStore,
        { from, to, actor: query.actor, route: query.route, stream: query.stream },
        query.limit === undefined ? DEFAULT_LIST_LIMIT : Number(query.limit),
        query.cursor,
      );
      const names = await this.actorNames.byId();
      // `actor` is the key id, or "anonymous" when no valid key was sent.
      return {
        ...page,
        items: page.items.map((item) => ({
          ...item,
          actorName: ActorNames.nameOf(names, { kind: 'api-key', id: item.actor }),
        })),
      };
    } catch (error) {
      if (error instanceof InvalidAccessLogQueryError) {
        throw ProblemError.of('validation-failed', error.message, {
          errors: [{ field: error.field, message: error.message }],
        });
      }
      throw error;
    }
  }
}
