import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from './problem';
import { ProblemError } from './problem';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator's whitelist message names the property as "property x"; say "unknown field".
      message: message.endsWith('should not exist') ? 'unknown field' : message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** The edge's only validation: class-validator DTOs, unknown fields refused, field errors in problem+json. */
export function ledgerValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fieldErrors = flatten(errors);
      return ProblemError.of(
        'validation-failed',
        fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '),
        {
          errors: fieldErrors,
        },
      );
    },
  });
}
