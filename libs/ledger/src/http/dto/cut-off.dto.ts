import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsInstant } from './instant';

/** `asOf`: recorded time (what the ledger knew then), as on GET /audit/streams/:stream/state. */
export const AsOfCutOff = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      description:
        'ISO-8601 instant of recorded time: only the events recorded (recordedAt) at or before it, ' +
        'each stream up to its first event recorded later',
    }),
    IsOptional(),
    IsInstant({ message: 'asOf must be an ISO-8601 date-time' }),
  );

/** `occurredAt`: business time, as on GET /audit/streams/:stream/state. */
export const OccurredAtCutOff = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      description:
        'ISO-8601 instant of business time: only the events that occurred (occurredAt) at or before it, ' +
        'in stream order',
    }),
    IsOptional(),
    IsInstant({ message: 'occurredAt must be an ISO-8601 date-time' }),
  );

/** At most one of the two; checked in the controller (timeCutOffOf). */
export class TimeCutOffQueryDto {
  @AsOfCutOff()
  asOf?: string;

  @OccurredAtCutOff()
  occurredAt?: string;
}
