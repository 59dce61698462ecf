import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { CommandBodyDto } from './common.dto';
import { CHURN_KINDS } from './vocabulary';

export class ChurnCustomerDto extends CommandBodyDto {
  @ApiPropertyOptional({ enum: CHURN_KINDS, default: 'voluntary' })
  @IsOptional()
  @IsIn(CHURN_KINDS)
  kind?: (typeof CHURN_KINDS)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  reason?: string;
}
