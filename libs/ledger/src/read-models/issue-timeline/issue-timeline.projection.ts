import type { ActorKind, StoredEvent } from '../../application/ports/event-store.port';
import type { DocumentChange, DocumentKey } from '../../application/ports/read-model-store.port';
import { isChargeEvent, type ChargeEvent } from '../../domain/charge/charge.events';
import { isIssueEvent, type IssueEvent } from '../../domain/issue/issue.events';
import type { Projection } from '../projection';
import { describeChargeEvent, describeIssueEvent } from './describe-event';

export const TIMELINE_ENTRIES = 'timeline_entries';
const ISSUE_PREFIX = 'issue-';
const CHARGE_PREFIX = 'charge-';

/** 20 digits hold any unsigned 64-bit position, so id order is ledger order. */
export const timelineEntryId = (position: bigint): string => position.toString().padStart(20, '0');

/**
 * One event of an issue or charge stream. An issue's timeline is composed at query time from the entries
 * of its own stream and of each linked charge's stream, by position, so a charge linked later brings its
 * whole history with it and nothing here fans out. `data` is the event's data as stored (personal fields
 * included, ciphertext once encryption lands); `description` never holds personal data.
 */
export type TimelineEntryDocument = {
  id: string;
  stream: string;
  revision: number;
  position: number;
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  actor: { kind: ActorKind; id: string; agentId: string | null };
  description: string;
  data: Record<string, unknown>;
  lastPosition: number;
};

type Described = { event: IssueEvent; kind: 'issue' } | { event: ChargeEvent; kind: 'charge' };

function described(stored: StoredEvent): Described | null {
  if (stored.stream.startsWith(ISSUE_PREFIX) && isIssueEvent(stored)) {
    return { kind: 'issue', event: stored as unknown as IssueEvent };
  }
  if (stored.stream.startsWith(CHARGE_PREFIX) && isChargeEvent(stored)) {
    return { kind: 'charge', event: stored as unknown as ChargeEvent };
  }
  return null;
}

function descriptionOf(stored: StoredEvent, which: Described): string {
  switch (which.kind) {
    case 'issue':
      return describeIssueEvent(which.event, stored.metadata.actor);
    case 'charge':
      return describeChargeEvent(which.event);
    default: {
      const unhandled: never = which;
      return unhandled;
    }
  }
}

export const issueTimelineProjection: Projection = {
  name: 'issue-timeline',
  version: 1,
  // Entries are ordered by id (the zero-padded position), so `stream` is the only index the query needs.
  collections: [{ name: TIMELINE_ENTRIES, indexes: ['stream'], writeOnce: true }],
  rebuildWeight: 9,
  streamPrefixes: [ISSUE_PREFIX, CHARGE_PREFIX],

  keysFor(event: StoredEvent): DocumentKey[] {
    return described(event) === null
      ? []
      : [{ collection: TIMELINE_ENTRIES, id: timelineEntryId(event.position) }];
  },

  // Write-once entries: re-applying an event writes the same entry again, so nothing is read.
  apply(event: StoredEvent): DocumentChange[] {
    const which = described(event);
    if (which === null) return [];
    const id = timelineEntryId(event.position);
    const { metadata } = event;
    const doc: TimelineEntryDocument = {
      id,
      stream: event.stream,
      revision: event.revision,
      position: Number(event.position),
      eventId: metadata.eventId,
      type: event.type,
      occurredAt: metadata.occurredAt,
      recordedAt: metadata.recordedAt,
      actor: { kind: metadata.actor.kind, id: metadata.actor.id, agentId: metadata.actor.agentId ?? null },
      description: descriptionOf(event, which),
      // Shared, not copied: neither the event nor the entry is ever mutated.
      data: event.data,
      lastPosition: Number(event.position),
    };
    return [{ collection: TIMELINE_ENTRIES, id, doc }];
  },
};
