import { Body, Controller, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ExecuteIssueCommand, type IssueCommandInput } from '../application/commands/aggregate-commands';
import type { CommandOutcome } from '../application/commands/command-meta';
import { ID_GENERATOR, idempotentId, type IdGenerator } from '../application/ids';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import { Roles } from './auth/roles.decorator';
import { CommandGateway, type CommandBodyCommon } from './command-gateway';
import { EmptyCommandDto } from './dto/charge.dto';
import {
  AddNoteDto,
  AssignIssueDto,
  EscalateIssueDto,
  FeedbackDto,
  FollowUpDto,
  LinkChargeDto,
  OpenIssueDto,
  RecordContactDto,
  ReopenIssueDto,
  ResolveIssueDto,
} from './dto/issue.dto';
import { NoQueryDto } from './dto/query.dto';
import { commandFields, IdParamPipe } from './params';

@ApiTags('issues')
@ApiBearerAuth()
@Controller('issues')
export class IssuesController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly commandBus: CommandBus,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  private send(
    request: AuthenticatedRequest,
    reply: FastifyReply,
    body: CommandBodyCommon | undefined,
    command: IssueCommandInput,
    actingAgentId?: string,
  ): Promise<string> {
    return this.gateway.execute({
      request,
      reply,
      body,
      actingAgentId,
      run: (meta) =>
        this.commandBus.execute<ExecuteIssueCommand, CommandOutcome>(new ExecuteIssueCommand(command, meta)),
    });
  }

  @Post()
  @Roles('service', 'agent')
  open(
    @Query() _query: NoQueryDto,
    @Body() dto: OpenIssueDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // A retried creation with the same Idempotency-Key must land on the same stream, on any engine.
    const key = this.gateway.idempotencyKeyOf(req);
    const issueId =
      dto.issueId ?? (key !== undefined && req.apiKey ? idempotentId(req.apiKey.id, key) : this.ids.next());
    const fields = commandFields(dto);
    return this.send(req, reply, dto, {
      type: 'OpenIssue',
      ...fields,
      issueId,
      priority: fields.priority ?? 'normal',
      chargeIds: fields.chargeIds ?? [],
    });
  }

  @Post(':issueId/assign')
  @Roles('agent', 'service')
  assign(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: AssignIssueDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'AssignIssue', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/contacts')
  @Roles('agent', 'service')
  contact(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: RecordContactDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'RecordContact', issueId, ...commandFields(dto) }, dto.agentId);
  }

  @Post(':issueId/notes')
  @Roles('agent')
  note(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: AddNoteDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'AddNote', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/charges')
  @Roles('agent', 'service')
  linkCharge(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: LinkChargeDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'LinkCharge', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/escalate')
  @Roles('agent')
  escalate(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EscalateIssueDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'EscalateIssue', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/resolve')
  @Roles('agent')
  resolve(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: ResolveIssueDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'ResolveIssue', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/reopen')
  @Roles('agent', 'service')
  reopen(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: ReopenIssueDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'ReopenIssue', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/close')
  @Roles('agent', 'service')
  close(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EmptyCommandDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'CloseIssue', issueId });
  }

  @Post(':issueId/feedback')
  @Roles('service')
  feedback(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: FeedbackDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'RecordFeedback', issueId, ...commandFields(dto) });
  }

  @Post(':issueId/follow-up')
  @Roles('agent', 'service')
  followUp(
    @Param('issueId', IdParamPipe) issueId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: FollowUpDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'SendFollowUp', issueId, ...commandFields(dto) });
  }
}
