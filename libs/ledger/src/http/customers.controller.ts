import { Body, Controller, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  ExecuteCustomerCommand,
  type CustomerCommandInput,
} from '../application/commands/aggregate-commands';
import type { CommandOutcome } from '../application/commands/command-meta';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import { Roles } from './auth/roles.decorator';
import { CommandGateway, type CommandBodyCommon } from './command-gateway';
import { EmptyCommandDto } from './dto/charge.dto';
import { ChurnCustomerDto } from './dto/customer.dto';
import { NoQueryDto } from './dto/query.dto';
import { commandFields, IdParamPipe } from './params';

@ApiTags('customers')
@ApiBearerAuth()
@Controller('customers')
export class CustomersController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly commandBus: CommandBus,
  ) {}

  private send(
    request: AuthenticatedRequest,
    reply: FastifyReply,
    body: CommandBodyCommon | undefined,
    command: CustomerCommandInput,
  ): Promise<string> {
    return this.gateway.execute({
      request,
      reply,
      body,
      run: (meta) =>
        this.commandBus.execute<ExecuteCustomerCommand, CommandOutcome>(
          new ExecuteCustomerCommand(command, meta),
        ),
    });
  }

  @Post(':customerId/churn')
  @Roles('service')
  churn(
    @Param('customerId', IdParamPipe) customerId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: ChurnCustomerDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const fields = commandFields(dto);
    return this.send(req, reply, dto, {
      type: 'ChurnCustomer',
      customerId,
      ...fields,
      kind: fields.kind ?? 'voluntary',
    });
  }

  @Post(':customerId/reactivate')
  @Roles('service')
  reactivate(
    @Param('customerId', IdParamPipe) customerId: string,
    @Query() _query: NoQueryDto,
    @Body() dto: EmptyCommandDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.send(req, reply, dto, { type: 'ReactivateCustomer', customerId });
  }
}
