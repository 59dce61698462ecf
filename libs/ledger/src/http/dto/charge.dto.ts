import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsInstant } from './instant';
import { CommandBodyDto, ID_MESSAGE, ID_PATTERN } from './common.dto';
import { IsCurrencyCode } from './currency';
import {
  CHARGE_OUTCOMES,
  DISPUTE_CLOSE_OUTCOMES,
  DISPUTE_KINDS,
  DISPUTE_REASONS,
  FAILURE_CATEGORIES,
  REFUND_FAILURE_REASONS,
  REFUND_REASONS,
} from './vocabulary';

const MAX_TEXT = 4000;
const MAX_CODE = 64;

export class RecordChargeDto extends CommandBodyDto {
  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `chargeId ${ID_MESSAGE}` })
  chargeId!: string;

  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `customerId ${ID_MESSAGE}` })
  customerId!: string;

  @ApiProperty({ description: 'Integer minor units', minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amount!: number;

  @ApiProperty({ example: 'EUR' })
  @IsCurrencyCode()
  currency!: string;

  @ApiProperty({ enum: CHARGE_OUTCOMES })
  @IsIn(CHARGE_OUTCOMES)
  outcome!: (typeof CHARGE_OUTCOMES)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CODE)
  method?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CODE)
  provider?: string;

  @ApiPropertyOptional({ pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `merchantId ${ID_MESSAGE}` })
  merchantId?: string;

  @ApiPropertyOptional({ description: "The provider's raw decline code" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CODE)
  declineCode?: string;

  @ApiPropertyOptional({ enum: FAILURE_CATEGORIES })
  @IsOptional()
  @IsIn(FAILURE_CATEGORIES)
  failureCategory?: (typeof FAILURE_CATEGORIES)[number];
}

export class RequestRefundDto extends CommandBodyDto {
  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `refundId ${ID_MESSAGE}` })
  refundId!: string;

  @ApiProperty({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amount!: number;

  @ApiProperty({ enum: REFUND_REASONS })
  @IsIn(REFUND_REASONS)
  reason!: (typeof REFUND_REASONS)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsInstant()
  dueBy?: string;
}

export class EmptyCommandDto extends CommandBodyDto {}

export class RejectRefundDto extends CommandBodyDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  reason!: string;
}

export class FailRefundDto extends CommandBodyDto {
  @ApiProperty({ enum: REFUND_FAILURE_REASONS })
  @IsIn(REFUND_FAILURE_REASONS)
  failureReason!: (typeof REFUND_FAILURE_REASONS)[number];
}

export class CancelRefundDto extends CommandBodyDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  reason?: string;
}

export class OpenDisputeDto extends CommandBodyDto {
  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `disputeId ${ID_MESSAGE}` })
  disputeId!: string;

  @ApiProperty({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amount!: number;

  @ApiProperty({ enum: DISPUTE_REASONS })
  @IsIn(DISPUTE_REASONS)
  reason!: (typeof DISPUTE_REASONS)[number];

  @ApiPropertyOptional({ enum: DISPUTE_KINDS })
  @IsOptional()
  @IsIn(DISPUTE_KINDS)
  kind?: (typeof DISPUTE_KINDS)[number];

  @ApiPropertyOptional({ description: "The card network's raw reason code" })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CODE)
  networkReasonCode?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInstant()
  evidenceDueBy?: string;
}

export class EscalateDisputeDto extends CommandBodyDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CODE)
  networkReasonCode?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInstant()
  evidenceDueBy?: string;
}

export class SubmitEvidenceDto extends CommandBodyDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  summary!: string;
}

export class CloseDisputeDto extends CommandBodyDto {
  @ApiProperty({ enum: DISPUTE_CLOSE_OUTCOMES })
  @IsIn(DISPUTE_CLOSE_OUTCOMES)
  outcome!: (typeof DISPUTE_CLOSE_OUTCOMES)[number];
}
