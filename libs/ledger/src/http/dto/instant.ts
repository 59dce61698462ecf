import { isISO8601, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * An ISO-8601 date or date-time that names a calendar instant. class-validator's strict ISO-8601 check
 * also takes forms with no such instant (week dates `2026-W10`, ordinal dates `2026-060`), which Date
 * cannot read: without this they reached `new Date(...).toISOString()` and answered 500.
 */
export function isInstant(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    isISO8601(value, { strict: true, strictSeparator: true }) &&
    !Number.isNaN(Date.parse(value))
  );
}

export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (value: unknown) => isInstant(value),
        defaultMessage: () => '$property must be an ISO-8601 date-time such as 2026-03-01T09:00:00Z',
      },
    },
    options,
  );
}
