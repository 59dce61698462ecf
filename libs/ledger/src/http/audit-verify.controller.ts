import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { verifyLedger } from '../audit/verify/ledger-verifier';
import { VERIFICATION_SOURCE, type VerificationSource } from '../audit/verify/verification-source';
import { Roles } from './auth/roles.decorator';
import { VerifyQueryDto } from './dto/audit.dto';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditVerifyController {
  constructor(@Inject(VERIFICATION_SOURCE) private readonly source: VerificationSource) {}

  /**
   * Recomputes every hash chain (or one stream's) from the stored canonical bytes: `{ ok, checked,
   * firstBroken }` plus every break found (docs/audit.md lists the reasons). A broken ledger is still a
   * 200: the verification itself succeeded.
   */
  @Get('verify')
  @Roles('auditor')
  async verify(@Query() query: VerifyQueryDto) {
    const report = await verifyLedger(this.source, { stream: query.stream });
    return { scope: query.stream ?? 'ledger', ...report };
  }
}
