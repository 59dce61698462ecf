import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import {
  replayableAggregateOf,
  replayStream,
  ReplayFailedError,
  RevisionNotFoundError,
  StreamNotFoundError,
  type ReplayPoint,
} from '../audit/replay/stream-replay';
import { STREAM_NAME_PATTERN } from './audit-events.controller';
import { Roles } from './auth/roles.decorator';
import { atMostOneOf, timeCutOffOf } from './cut-off';
import { StreamStateQueryDto } from './dto/audit.dto';
import { ProblemError } from './problem';

function badParam(field: string, message: string): ProblemError {
  return ProblemError.of('validation-failed', `${field} ${message}`, { errors: [{ field, message }] });
}

function pointOf(query: StreamStateQueryDto): ReplayPoint {
  atMostOneOf(query, ['asOf', 'revision', 'occurredAt']);
  if (query.revision !== undefined) return { kind: 'revision', revision: Number(query.revision) };
  return timeCutOffOf(query) ?? { kind: 'head' };
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditStateController {
  constructor(@Inject(EVENT_STORE) private readonly eventStore: EventStore) {}

  /** The aggregate state rebuilt with the command side's evolve, as of a time or revision. */
  @Get('streams/:stream/state')
  @Roles('auditor')
  @ApiOkResponse({
    description:
      "The folded state with the revision and position it stops at; a charge's state carries lostDisputeAmount (as GET /charges/:chargeId) beside the decider's disputeLossAmount",
  })
  async state(@Param('stream') stream: string, @Query() query: StreamStateQueryDto) {
    if (!STREAM_NAME_PATTERN.test(stream)) {
      throw badParam('stream', 'must be a ledger stream name such as charge-ch_1');
    }
    if (!replayableAggregateOf(stream)) {
      throw badParam(
        'stream',
        'must be a charge-, issue- or customer- stream (only aggregates have a state)',
      );
    }
    const point = pointOf(query);
    try {
      const replay = await replayStream(this.eventStore, stream, point);
      return {
        ...replay,
        at:
          point.kind === 'revision'
            ? { revision: point.revision }
            : point.kind === 'head'
              ? { head: true }
              : { [point.kind]: point.at.toISOString() },
      };
    } catch (error) {
      if (error instanceof StreamNotFoundError) {
        throw ProblemError.of('stream-not-found', error.message, { stream });
      }
      if (error instanceof RevisionNotFoundError) {
        throw ProblemError.of('revision-not-found', error.message, {
          stream,
          revision: error.revision,
          headRevision: error.headRevision,
        });
      }
      if (error instanceof ReplayFailedError) {
        throw ProblemError.of('replay-failed', error.message, { stream, revision: error.revision });
      }
      throw error;
    }
  }
}
