import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore, type StoredEvent } from '../application/ports/event-store.port';
import { cutOffLabel } from '../application/history-cut-off';
import { readStreamHistory } from '../audit/replay/stream-history';
import { ActorNames } from './actor-names';
import { Roles } from './auth/roles.decorator';
import { timeCutOffOf } from './cut-off';
import { MAX_STREAM_EVENTS_LIMIT, StreamEventsQueryDto } from './dto/audit.dto';
import { ProblemError } from './problem';

export const STREAM_NAME_PATTERN = /^(charge|issue|customer|accesslog)-[A-Za-z0-9_-]{1,64}$/;

function badParam(field: string, message: string): ProblemError {
  return ProblemError.of('validation-failed', `${field} ${message}`, { errors: [{ field, message }] });
}

export function storedEventView(event: StoredEvent, names: ReadonlyMap<string, string> = new Map()) {
  return {
    stream: event.stream,
    revision: event.revision,
    position: event.position.toString(),
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    // Looked up now, beside the metadata (which is what the hash covers, and stays as stored).
    actorName: ActorNames.nameOf(names, event.metadata.actor),
    prevHash: event.metadata.prevHash,
    hash: event.metadata.hash,
    canonical: event.canonical,
  };
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditEventsController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    private readonly actorNames: ActorNames,
  ) {}

  /** The stored events, unmodified, with the canonical bytes their hashes cover; as of a time cut-off. */
  @Get('streams/:stream/events')
  @Roles('auditor')
  @ApiOkResponse({
    description:
      "The stored events as stored (metadata unmodified: what the hash covers), each with actorName beside it: the API key's name, looked up when answering",
  })
  async events(@Param('stream') stream: string, @Query() query: StreamEventsQueryDto) {
    if (!STREAM_NAME_PATTERN.test(stream))
      throw badParam('stream', 'must be a ledger stream name such as charge-ch_1');
    const cutOff = timeCutOffOf(query);
    const { events, nextFromRevision } = await readStreamHistory(this.eventStore, stream, {
      fromRevision: Number(query.fromRevision ?? 0),
      limit: Number(query.limit ?? MAX_STREAM_EVENTS_LIMIT),
      cutOff,
    });
    const names = await this.actorNames.byId();
    return {
      stream,
      ...(cutOff ? { at: cutOffLabel(cutOff) } : {}),
      items: events.map((event) => storedEventView(event, names)),
      nextFromRevision,
    };
  }
}
