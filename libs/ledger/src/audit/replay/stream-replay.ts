import { asDomainEvent } from '../../application/aggregate-state-cache';
import { cutOffVerdict, type TimeCutOff } from '../../application/history-cut-off';
import type { EventStore, StoredEvent } from '../../application/ports/event-store.port';
import { chargeDecider } from '../../domain/charge/charge.decider';
import { customerDecider } from '../../domain/customer/customer.decider';
import { issueDecider } from '../../domain/issue/issue.decider';
import type { Decider, DomainEvent } from '../../domain/shared/decider';

/** The aggregates whose streams can be replayed, by stream-name prefix: the command side's own deciders. */
const REPLAYABLE = {
  charge: chargeDecider,
  issue: issueDecider,
  customer: customerDecider,
} as const;

export type ReplayableAggregate = keyof typeof REPLAYABLE;

/**
 * Where a replay stops:
 * - `revision`: the events 0..n (the stream as it was right after revision n was appended);
 * - `asOf`: what the ledger knew at that instant: the events recorded (recordedAt) at or before it. Events of
 *   a stream are recorded in revision order, so this is a prefix; the fold stops at the first event
 *   recorded later, even if a later one carried an earlier recordedAt (a clock stepped back);
 * - `occurredAt`: business time: every event whose occurredAt is at or before the instant, in revision
 *   order, wherever it sits. A back-dated fact recorded later is included, so this state may be one the
 *   command side never held; it answers "what had happened by then, as we know it now".
 * - nothing: the whole stream.
 */
export type ReplayPoint = { kind: 'revision'; revision: number } | TimeCutOff | { kind: 'head' };

export interface ReplayedEvent {
  revision: number;
  position: string;
  type: string;
  recordedAt: string;
  occurredAt: string;
}

export interface StreamReplay {
  stream: string;
  aggregate: ReplayableAggregate;
  /** The folded state; the decider's initial state when no event was applied. */
  state: unknown;
  /** True when the point lies before every event of the stream: `state` is the initial state. */
  beforeFirstEvent: boolean;
  /** Revision and global position of the last event applied (-1 and null before the first event). */
  revision: number;
  position: string | null;
  /** The last applied event's times (null before the first event). */
  recordedAt: string | null;
  occurredAt: string | null;
  eventsApplied: number;
  /** Revision of the stream's newest event when the replay ran. */
  headRevision: number;
  /** occurredAt only: revisions at or before `revision` left out because they happened later. */
  skippedRevisions?: number[];
}

export class StreamNotFoundError extends Error {
  override readonly name = 'StreamNotFoundError';
  constructor(readonly stream: string) {
    super(`Stream ${stream} has no events`);
  }
}

export class RevisionNotFoundError extends Error {
  override readonly name = 'RevisionNotFoundError';
  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly headRevision: number,
  ) {
    super(`Stream ${stream} has revisions 0 to ${headRevision}; there is no revision ${revision}`);
  }
}

/** An event the aggregate's evolve cannot apply (an unknown type): the stored stream is not one we wrote. */
export class ReplayFailedError extends Error {
  override readonly name = 'ReplayFailedError';
  constructor(
    readonly stream: string,
    readonly revision: number,
    cause: unknown,
  ) {
    super(
      `Revision ${revision} of ${stream} cannot be applied (${cause instanceof Error ? cause.message : String(cause)}); ` +
        'run GET /audit/verify',
    );
  }
}

export function replayableAggregateOf(stream: string): ReplayableAggregate | null {
  const prefix = stream.slice(0, stream.indexOf('-'));
  return Object.hasOwn(REPLAYABLE, prefix) ? (prefix as ReplayableAggregate) : null;
}

const PAGE = 1000;

/**
 * The folded state as answered. The charge decider calls the amount lost to disputes `disputeLossAmount`;
 * every other answer (`GET /charges/:id`) calls it `lostDisputeAmount`, so the replay carries that name too,
 * beside the decider's (kept: answers gain fields, never lose them).
 */
function answeredState(aggregate: ReplayableAggregate, state: unknown): unknown {
  if (aggregate !== 'charge' || typeof state !== 'object' || state === null) return state;
  const { disputeLossAmount } = state as { disputeLossAmount?: unknown };
  return typeof disputeLossAmount === 'number' ? { ...state, lostDisputeAmount: disputeLossAmount } : state;
}

/**
 * Rebuilds a stream's state at a point with the same `evolve` the command side folds with (and the same
 * stored-event -> domain-event mapping), reading the stream through the EventStore port page by page.
 */
export async function replayStream(
  eventStore: EventStore,
  stream: string,
  point: ReplayPoint,
): Promise<StreamReplay> {
  const aggregate = replayableAggregateOf(stream);
  if (!aggregate) throw new TypeError(`${stream} is not a charge, issue or customer stream`);
  const decider = REPLAYABLE[aggregate] as unknown as Decider<unknown, never, DomainEvent>;
  const newest = await eventStore.readStream(stream, {
    direction: 'backwards',
    fromRevision: 'end',
    maxCount: 1,
  });
  if (newest.length === 0) throw new StreamNotFoundError(stream);
  const headRevision = newest[0].revision;
  if (point.kind === 'revision' && point.revision > headRevision) {
    throw new RevisionNotFoundError(stream, point.revision, headRevision);
  }

  let state = decider.initialState;
  let last: StoredEvent | undefined;
  let applied = 0;
  const skipped: number[] = [];
  const apply = (event: StoredEvent) => {
    try {
      state = decider.evolve(state, asDomainEvent(event));
    } catch (error) {
      throw new ReplayFailedError(stream, event.revision, error);
    }
    last = event;
    applied++;
  };

  let fromRevision = 0;
  scan: for (;;) {
    const page = await eventStore.readStream(stream, { fromRevision, maxCount: PAGE });
    for (const event of page) {
      if (point.kind === 'revision' && event.revision > point.revision) break scan;
      if (point.kind === 'asOf' || point.kind === 'occurredAt') {
        const verdict = cutOffVerdict(point, event.metadata);
        if (verdict === 'stop') break scan;
        if (verdict === 'skip') {
          skipped.push(event.revision);
          continue;
        }
      }
      apply(event);
    }
    if (page.length < PAGE) break;
    fromRevision = page[page.length - 1].revision + 1;
  }

  const lastRevision = last?.revision ?? -1;
  return {
    stream,
    aggregate,
    state: answeredState(aggregate, state),
    beforeFirstEvent: last === undefined,
    revision: lastRevision,
    position: last ? last.position.toString() : null,
    recordedAt: last?.metadata.recordedAt ?? null,
    occurredAt: last?.metadata.occurredAt ?? null,
    eventsApplied: applied,
    headRevision,
    ...(point.kind === 'occurredAt'
      ? { skippedRevisions: skipped.filter((revision) => revision < lastRevision) }
      : {}),
  };
}
