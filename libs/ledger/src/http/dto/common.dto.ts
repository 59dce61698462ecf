import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsInstant } from './instant';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_MESSAGE = 'must match ^[A-Za-z0-9_-]{1,64}$';

/** Fields every command body may carry (API.md). */
export class CommandBodyDto {
  @ApiPropertyOptional({
    description: 'Business time of the fact (ISO-8601); default now; not in the future',
  })
  @IsOptional()
  @IsInstant()
  occurredAt?: string;

  @ApiPropertyOptional({ pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `correlationId ${ID_MESSAGE}` })
  correlationId?: string;
}
