import { registerDecorator, type ValidationOptions } from 'class-validator';

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

export function IsCurrencyCode(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be an ISO 4217 currency code such as "EUR"', ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && ISO_4217.has(value) },
    });
}
