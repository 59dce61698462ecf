import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { CommandBodyDto, ID_MESSAGE, ID_PATTERN } from './common.dto';
import {
  CONTACT_DIRECTIONS,
  CHANNELS,
  ESCALATION_TARGETS,
  ISSUE_CATEGORIES,
  PRIORITIES,
  RESOLUTIONS,
} from './vocabulary';

const MAX_TEXT = 4000;

export class OpenIssueDto extends CommandBodyDto {
  @ApiPropertyOptional({ pattern: ID_PATTERN.source, description: 'Default: a server id' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `issueId ${ID_MESSAGE}` })
  issueId?: string;

  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `customerId ${ID_MESSAGE}` })
  customerId!: string;

  @ApiProperty({ enum: ISSUE_CATEGORIES })
  @IsIn(ISSUE_CATEGORIES)
  category!: (typeof ISSUE_CATEGORIES)[number];

  @ApiProperty({ enum: CHANNELS })
  @IsIn(CHANNELS)
  channel!: (typeof CHANNELS)[number];

  @ApiPropertyOptional({ enum: PRIORITIES, default: 'normal' })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: (typeof PRIORITIES)[number];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(ID_PATTERN, { each: true, message: `each of chargeIds ${ID_MESSAGE}` })
  chargeIds?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  summary?: string;
}

export class AssignIssueDto extends CommandBodyDto {
  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `agentId ${ID_MESSAGE}` })
  agentId!: string;
}

export class RecordContactDto extends CommandBodyDto {
  @ApiProperty({ enum: CONTACT_DIRECTIONS })
  @IsIn(CONTACT_DIRECTIONS)
  direction!: (typeof CONTACT_DIRECTIONS)[number];

  @ApiProperty({ enum: CHANNELS })
  @IsIn(CHANNELS)
  channel!: (typeof CHANNELS)[number];

  @ApiPropertyOptional({ pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `agentId ${ID_MESSAGE}` })
  agentId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  summary?: string;
}

export class AddNoteDto extends CommandBodyDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  text!: string;
}

export class LinkChargeDto extends CommandBodyDto {
  @ApiProperty({ pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `chargeId ${ID_MESSAGE}` })
  chargeId!: string;
}

export class EscalateIssueDto extends CommandBodyDto {
  @ApiProperty({ enum: ESCALATION_TARGETS })
  @IsIn(ESCALATION_TARGETS)
  to!: (typeof ESCALATION_TARGETS)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  reference?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  reason?: string;
}

export class ResolveIssueDto extends CommandBodyDto {
  @ApiProperty({ enum: RESOLUTIONS })
  @IsIn(RESOLUTIONS)
  resolution!: (typeof RESOLUTIONS)[number];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  summary?: string;
}

export class ReopenIssueDto extends CommandBodyDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  reason!: string;
}

export class FeedbackDto extends CommandBodyDto {
  @ApiProperty({ minimum: 1, maximum: 5 })
  @IsInt()
  @Min(1)
  @Max(5)
  csat!: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TEXT)
  comment?: string;
}

export class FollowUpDto extends CommandBodyDto {
  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS)
  channel?: (typeof CHANNELS)[number];
}
