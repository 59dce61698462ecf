import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isInstant } from './instant';

/**
 * A negative ISO 8601 duration (ISO 8601-2's leading minus): `-P30D`, `-P1M`, `-PT12H`, `-P1Y2M3DT4H5M6S`,
 * `-P2W`. Each part a whole number of at most 6 digits; at least one part; `T` only before a time part.
 */
const NEGATIVE_DURATION =
  /^-P(?!$)(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?!$)(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;

export interface NegativeDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export function parseNegativeDuration(text: string): NegativeDuration | null {
  const match = NEGATIVE_DURATION.exec(text);
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes, seconds] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  return { years, months, weeks, days, hours, minutes, seconds };
}

/**
 * The instant `duration` before `asOf` (epoch ms), in UTC. Years and months are calendar steps that keep
 * the day of the month, clamped to the month's last day (31 March − P1M = 28 or 29 February); weeks, days
 * and the time parts are fixed lengths (UTC has no daylight-saving days). NaN when out of Date's range.
 */
export function instantBefore(asOf: number, duration: NegativeDuration): number {
  const at = new Date(asOf);
  const totalMonths = at.getUTCFullYear() * 12 + at.getUTCMonth() - (duration.years * 12 + duration.months);
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = new Date(asOf);
  shifted.setUTCFullYear(year, month, Math.min(at.getUTCDate(), lastDay));
  return (
    shifted.getTime() -
    ((duration.weeks * 7 + duration.days) * 86_400 +
      duration.hours * 3600 +
      duration.minutes * 60 +
      duration.seconds) *
      1000
  );
}

/** A period bound: an ISO-8601 instant, or a negative ISO 8601 duration counted back from `asOf`. */
export function isPeriodBound(value: unknown): value is string {
  return isInstant(value) || (typeof value === 'string' && parseNegativeDuration(value) !== null);
}

/** The bound as epoch ms; a relative one is counted back from `asOf`. NaN when out of Date's range. */
export function periodBound(value: string, asOf: number): number {
  const duration = parseNegativeDuration(value);
  return duration === null ? Date.parse(value) : instantBefore(asOf, duration);
}

export function IsPeriodBound(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPeriodBound',
      validator: {
        validate: (value: unknown) => isPeriodBound(value),
        defaultMessage: () =>
          '$property must be an ISO-8601 date-time such as 2026-03-01T09:00:00Z, or an ISO 8601 duration ' +
          'back from asOf such as -P30D, -P1M or -PT12H',
      },
    },
    options,
  );
}
