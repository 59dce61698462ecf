/**
 * A cut-off in time on the history of a stream, the same wherever history is read (the state replay, the
 * stored events, the issue timeline, `ledger events` and `ledger export`):
 * - `asOf`, recorded time: what the ledger knew at that instant, the events recorded (recordedAt) at or
 *   before it. A stream is recorded in revision order, so this is a prefix: it ends at the first event
 *   recorded later, even if a later one carries an earlier recordedAt (a clock stepped back);
 * - `occurredAt`, business time: every event whose occurredAt is at or before the instant, wherever it sits
 *   in the stream; a back-dated fact recorded later is in, a fact recorded earlier but dated later is out.
 */
export type TimeCutOff = { kind: 'asOf'; at: Date } | { kind: 'occurredAt'; at: Date };

/** What a cut-off does with the next event of a stream read in revision order. */
export type CutOffVerdict = 'keep' | 'skip' | 'stop';

export interface EventTimes {
  recordedAt: string;
  occurredAt: string;
}

export function cutOffVerdict(cutOff: TimeCutOff, times: EventTimes): CutOffVerdict {
  if (cutOff.kind === 'asOf') return Date.parse(times.recordedAt) > cutOff.at.getTime() ? 'stop' : 'keep';
  return Date.parse(times.occurredAt) > cutOff.at.getTime() ? 'skip' : 'keep';
}

/** The events of one stream, given in revision order, that the cut-off keeps. */
export function keptByCutOff<T>(
  cutOff: TimeCutOff,
  events: Iterable<T>,
  timesOf: (event: T) => EventTimes,
): T[] {
  const kept: T[] = [];
  for (const event of events) {
    const verdict = cutOffVerdict(cutOff, timesOf(event));
    if (verdict === 'stop') break;
    if (verdict === 'keep') kept.push(event);
  }
  return kept;
}

/** The cut-off as answers and bundle headers name it: `{ "asOf": "<ISO-8601>" }`. */
export function cutOffLabel(cutOff: TimeCutOff): Record<string, string> {
  return { [cutOff.kind]: cutOff.at.toISOString() };
}
