import 'reflect-metadata';
import { Body, Controller, Module, Param, Post } from '@nestjs/common';
import { APP_FILTER, APP_PIPE, NestFactory } from '@nestjs/core';
import { CommandBus, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BODY_LIMIT_BYTES, configureFastify } from '../../libs/ledger/src/http/fastify-setup';
import { ProblemFilter } from '../../libs/ledger/src/http/problem.filter';
import { ledgerValidationPipe } from '../../libs/ledger/src/http/validation';
import { RecordChargeDto } from '../../libs/ledger/src/http/dto/charge.dto';
import {
  AddNoteDto,
  AssignIssueDto,
  OpenIssueDto,
  RecordContactDto,
} from '../../libs/ledger/src/http/dto/issue.dto';

// The framework's own cost: the same Fastify hooks, DTOs, validation and CommandBus, but no storage.
class Noop {
  constructor(readonly payload: unknown) {}
}

@CommandHandler(Noop)
class NoopHandler implements ICommandHandler<Noop> {
  async execute() {
    return { stream: 'x', revision: 0, position: '1' };
  }
}

@Controller()
class BaselineController {
  constructor(private readonly bus: CommandBus) {}
  @Post('charges') charge(@Body() dto: RecordChargeDto) {
    return this.bus.execute(new Noop(dto));
  }
  @Post('issues') issue(@Body() dto: OpenIssueDto) {
    return this.bus.execute(new Noop(dto));
  }
  @Post('issues/:issueId/notes') note(@Param('issueId') _id: string, @Body() dto: AddNoteDto) {
    return this.bus.execute(new Noop(dto));
  }
  @Post('issues/:issueId/contacts') contact(@Param('issueId') _id: string, @Body() dto: RecordContactDto) {
    return this.bus.execute(new Noop(dto));
  }
  @Post('issues/:issueId/assign') assign(@Param('issueId') _id: string, @Body() dto: AssignIssueDto) {
    return this.bus.execute(new Noop(dto));
  }
}

@Module({
  imports: [CqrsModule.forRoot()],
  controllers: [BaselineController],
  providers: [
    NoopHandler,
    { provide: APP_FILTER, useClass: ProblemFilter },
    { provide: APP_PIPE, useFactory: ledgerValidationPipe },
  ],
})
class BaselineModule {}

async function main() {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES });
  configureFastify(adapter.getInstance());
  // Same options as createLedgerApp: configureFastify's JSON parser (with the card guard) is the only parser.
  const app = await NestFactory.create<NestFastifyApplication>(BaselineModule, adapter, {
    logger: false,
    bodyParser: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0} none\n`);
}
void main();
