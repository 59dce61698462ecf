import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  chargeDecider,
  chargeStream,
  customerDecider,
  customerStream,
  issueDecider,
  issueStream,
} from '../domain';
import { NotFoundError } from '../domain/shared/domain-error';
import { StreamStateReader, type StreamState } from '../application/queries/stream-state';
import { ALL_ROLES, Roles } from './auth/roles.decorator';
import { IdParamPipe } from './params';

function withEtag<State>(reply: FastifyReply, read: StreamState<State>) {
  reply.header('etag', `"${read.revision}"`);
  return { stream: read.stream, revision: read.revision, position: read.position, ...read.state };
}

@ApiTags('queries')
@ApiBearerAuth()
@Controller()
export class SummariesController {
  constructor(private readonly reader: StreamStateReader) {}

  @Get('charges/:chargeId')
  @Roles(...ALL_ROLES)
  async charge(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const read = await this.reader.read(chargeStream(chargeId), chargeDecider);
    if (read.revision < 0)
      throw new NotFoundError('charge-not-found', `Charge ${chargeId} does not exist`, { chargeId });
    return withEtag(reply, read);
  }

  @Get('issues/:issueId')
  @Roles(...ALL_ROLES)
  async issue(
    @Param('issueId', IdParamPipe) issueId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const read = await this.reader.read(issueStream(issueId), issueDecider);
    if (read.revision < 0)
      throw new NotFoundError('issue-not-found', `Issue ${issueId} does not exist`, { issueId });
    return withEtag(reply, read);
  }

  /** A customer with no stream yet answers 200 with ETag "-1": customer commands create the stream. */
  @Get('customers/:customerId')
  @Roles(...ALL_ROLES)
  async customer(
    @Param('customerId', IdParamPipe) customerId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.reader.read(customerStream(customerId), customerDecider));
  }
}
