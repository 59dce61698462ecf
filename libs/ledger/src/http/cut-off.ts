import type { TimeCutOff } from '../application/history-cut-off';
import { ProblemError } from './problem';

function badParam(field: string, message: string): ProblemError {
  return ProblemError.of('validation-failed', `${field} ${message}`, { errors: [{ field, message }] });
}

export function instant(field: string, value: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw badParam(field, 'must be an ISO-8601 date-time');
  return at;
}

/** Refuses a query that gives more than one of `names` (400), naming each one given. */
export function atMostOneOf<K extends string>(query: Partial<Record<K, unknown>>, names: readonly K[]): void {
  const given = names.filter((name) => query[name] !== undefined);
  if (given.length <= 1) return;
  throw ProblemError.of('validation-failed', `Give one of ${names.join(', ')}, not ${given.join(' and ')}`, {
    errors: given.map((field) => ({ field, message: `only one of ${names.join(', ')}` })),
  });
}

/** The `asOf` or `occurredAt` cut-off of a query, or null; both is a 400. */
export function timeCutOffOf(query: { asOf?: string; occurredAt?: string }): TimeCutOff | null {
  atMostOneOf(query, ['asOf', 'occurredAt']);
  if (query.asOf !== undefined) return { kind: 'asOf', at: instant('asOf', query.asOf) };
  if (query.occurredAt !== undefined)
    return { kind: 'occurredAt', at: instant('occurredAt', query.occurredAt) };
  return null;
}
