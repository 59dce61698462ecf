import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ID_MESSAGE, ID_PATTERN } from './dto/common.dto';
import { ProblemError } from './problem';

/** Validates a path id against the id pattern; a bad id is a 400 with the field named. */
@Injectable()
export class IdParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
    const field = metadata.data ?? 'id';
    throw ProblemError.of('validation-failed', `${field} ${ID_MESSAGE}`, {
      errors: [{ field, message: ID_MESSAGE }],
    });
  }
}

/** The command fields of a DTO: without the envelope fields and without absent optionals. */
export function commandFields<T extends object>(dto: T | undefined): Omit<T, 'occurredAt' | 'correlationId'> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(dto ?? {})) {
    if (key !== 'occurredAt' && key !== 'correlationId' && value !== undefined) fields[key] = value;
  }
  return fields as Omit<T, 'occurredAt' | 'correlationId'>;
}
