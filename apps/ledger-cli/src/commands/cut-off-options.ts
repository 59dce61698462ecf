import type { TimeCutOff } from '@app/ledger';
import { UsageError, type CommandContext } from '../cli';

/** The time cut-off options, with the meaning of the API's `asOf` and `occurredAt` (docs/audit.md). */
export const CUT_OFF_OPTIONS = {
  'as-of': { type: 'string' },
  'occurred-at': { type: 'string' },
} as const;

export const CUT_OFF_HELP: [string, string][] = [
  ['--as-of <time>', 'what the ledger knew then: events recorded at or before the instant (recordedAt)'],
  ['--occurred-at <time>', 'business time: events that occurred at or before the instant (occurredAt)'],
];

export function instantOption(name: string, value: unknown): Date {
  const at = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--${name} must be an ISO-8601 date-time.`);
  return at;
}

/** `--as-of` or `--occurred-at` as a cut-off, or null; `others` are options that exclude them too. */
export function timeCutOffOption(
  options: CommandContext['options'],
  others: readonly string[] = [],
): TimeCutOff | null {
  const names = ['as-of', 'occurred-at', ...others];
  const given = names.filter((name) => options[name] !== undefined);
  if (given.length > 1) {
    throw new UsageError(
      `Give one of ${names.map((name) => `--${name}`).join(', ')}, not ${given.map((name) => `--${name}`).join(' and ')}.`,
    );
  }
  if (options['as-of'] !== undefined) return { kind: 'asOf', at: instantOption('as-of', options['as-of']) };
  if (options['occurred-at'] !== undefined) {
    return { kind: 'occurredAt', at: instantOption('occurred-at', options['occurred-at']) };
  }
  return null;
}
