import { Body, Controller, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ExecuteChargeCommand, type ChargeCommandInput } from '../application/commands/aggregate-commands';
import type { CommandOutcome } from '../application/commands/command-meta';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import { Roles } from './auth/roles.decorator';
import { CommandGateway, type CommandBodyCommon } from './command-gateway';
import {
  CancelRefundDto,
  CloseDisputeDto,
  EmptyCommandDto,
  EscalateDisputeDto,
  FailRefundDto,
  OpenDisputeDto,
  RecordChargeDto,
  RejectRefundDto,
  RequestRefundDto,
  SubmitEvidenceDto,
} from './dto/charge.dto';
import { NoQueryDto } from './dto/query.dto';
import { commandFields, IdParamPipe } from './params';

@ApiTags('charges')
@ApiBearerAuth()
@Controller('charges')
export class ChargesController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly commandBus: CommandBus,
  ) {}

  private send(
    request: AuthenticatedRequest,
    reply: FastifyReply,
    body: CommandBodyCommon | undefined,
    command: ChargeCommandInput,
  ): Promise<string> {
    return this.gateway.execute({
      request,
      reply,
      body,
      run: (meta) =>
        this.commandBus.execute<ExecuteChargeCommand, CommandOutcome>(
          new ExecuteChargeCommand(command, meta),
        ),
    });
  }

  @Post()
  @Roles('service')
  record(
    @Query() _query: NoQueryDto,
    @Body() dto: RecordChargeDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'RecordCharge', ...commandFields(dto) });
  }

  @Post(':chargeId/refunds')
  @Roles('service', 'agent')
  requestRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: RequestRefundDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'RequestRefund', chargeId, ...commandFields(dto) });
  }

  @Post(':chargeId/refunds/:refundId/approve')
  @Roles('service', 'agent')
  approveRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('refundId', IdParamPipe) refundId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EmptyCommandDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'ApproveRefund', chargeId, refundId });
  }

  @Post(':chargeId/refunds/:refundId/reject')
  @Roles('service', 'agent')
  rejectRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('refundId', IdParamPipe) refundId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: RejectRefundDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'RejectRefund', chargeId, refundId, ...commandFields(dto) });
  }

  @Post(':chargeId/refunds/:refundId/succeed')
  @Roles('service')
  succeedRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('refundId', IdParamPipe) refundId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EmptyCommandDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'MarkRefundSucceeded', chargeId, refundId });
  }

  @Post(':chargeId/refunds/:refundId/fail')
  @Roles('service')
  failRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('refundId', IdParamPipe) refundId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: FailRefundDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, {
      type: 'MarkRefundFailed',
      chargeId,
      refundId,
      ...commandFields(dto),
    });
  }

  @Post(':chargeId/refunds/:refundId/cancel')
  @Roles('service', 'agent')
  cancelRefund(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('refundId', IdParamPipe) refundId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: CancelRefundDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'CancelRefund', chargeId, refundId, ...commandFields(dto) });
  }

  @Post(':chargeId/disputes')
  @Roles('service')
  openDispute(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: OpenDisputeDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'OpenDispute', chargeId, ...commandFields(dto) });
  }

  @Post(':chargeId/disputes/:disputeId/escalate')
  @Roles('service')
  escalateDispute(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('disputeId', IdParamPipe) disputeId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EscalateDisputeDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, {
      type: 'EscalateDispute',
      chargeId,
      disputeId,
      ...commandFields(dto),
    });
  }

  @Post(':chargeId/disputes/:disputeId/evidence')
  @Roles('service', 'agent')
  submitEvidence(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('disputeId', IdParamPipe) disputeId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: SubmitEvidenceDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, {
      type: 'SubmitDisputeEvidence',
      chargeId,
      disputeId,
      ...commandFields(dto),
    });
  }

  @Post(':chargeId/disputes/:disputeId/close')
  @Roles('service')
  closeDispute(
    @Param('chargeId', IdParamPipe) chargeId: string,
    @Param('disputeId', IdParamPipe) disputeId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: CloseDisputeDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'CloseDispute', chargeId, disputeId, ...commandFields(dto) });
  }
}
