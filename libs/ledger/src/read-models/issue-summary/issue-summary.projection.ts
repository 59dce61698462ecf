import type { StoredEvent } from '../../application/ports/event-store.port';
import type { DocumentChange, DocumentKey } from '../../application/ports/read-model-store.port';
import {
  isIssueEvent,
  type Channel,
  type EscalationTarget,
  type IssueCategory,
  type IssueEvent,
  type Priority,
  type Resolution,
} from '../../domain/issue/issue.events';
import type { DocumentLookup, Projection } from '../projection';
import { earlierOf, laterOf } from '../instants';

export const ISSUE_SUMMARIES = 'issue_summaries';
const STREAM_PREFIX = 'issue-';

export type EscalationEntry = {
  to: EscalationTarget;
  reference: string | null;
  reason: string | null;
  at: string;
};

/** Open has no resolution; closed keeps the one it had, or null when it was withdrawn while open. */
export type IssueStatusFields =
  | { status: 'open'; resolution: null; closedAt: null }
  | { status: 'resolved'; resolution: Resolution; closedAt: null }
  | { status: 'closed'; resolution: Resolution | null; closedAt: string };

/**
 * One issue, flat where the list query filters. Times are business time (occurredAt). SLA state is not
 * stored: the query derives it from these timestamps, so a rebuild never depends on when it ran.
 * Free-text fields (summary, escalation reason, feedback comment) are copied as stored; they become
 * ciphertext once per-customer encryption lands, and the query side decrypts them.
 */
export type IssueSummaryDocument = IssueStatusFields & {
  id: string;
  issueId: string;
  customerId: string;
  category: IssueCategory;
  channel: Channel;
  priority: Priority;
  summary: string | null;
  assigneeId: string | null;
  chargeIds: string[];
  openedAt: string;
  /** Earliest outbound contact made by an agent. */
  firstResponseAt: string | null;
  /** Resolution-time anchor: the earliest resolution (business time), even if reopened since. */
  firstResolvedAt: string | null;
  /** The latest resolution; kept after a reopen, as history. */
  resolvedAt: string | null;
  /** The assignee when first resolved: the `agent` grouping of the metrics. */
  agentAtFirstResolution: string | null;
  resolutionCount: number;
  reopenCount: number;
  escalations: EscalationEntry[];
  contactCount: number;
  /** Outbound contacts by an agent: first-contact resolution needs exactly one. */
  agentContactCount: number;
  noteCount: number;
  followUpCount: number;
  /** The latest feedback. */
  csat: number | null;
  feedbackComment: string | null;
  feedbackAt: string | null;
  lastActivityAt: string;
  /** Revision of the issue stream: the ETag. */
  revision: number;
  lastPosition: number;
};

type StoredIssueEvent = Omit<StoredEvent, 'type' | 'data'> & IssueEvent;

const issueIdOf = (event: StoredEvent): string | null =>
  event.stream.startsWith(STREAM_PREFIX) && isIssueEvent(event)
    ? event.stream.slice(STREAM_PREFIX.length)
    : null;

function opened(event: StoredIssueEvent & { type: 'IssueOpened' }, issueId: string): IssueSummaryDocument {
  const { data, metadata } = event;
  return {
    id: issueId,
    issueId,
    status: 'open',
    resolution: null,
    closedAt: null,
    customerId: data.customerId,
    category: data.category,
    channel: data.channel,
    priority: data.priority,
    summary: data.summary ?? null,
    assigneeId: null,
    chargeIds: [...new Set(data.chargeIds)],
    openedAt: metadata.occurredAt,
    firstResponseAt: null,
    firstResolvedAt: null,
    resolvedAt: null,
    agentAtFirstResolution: null,
    resolutionCount: 0,
    reopenCount: 0,
    escalations: [],
    contactCount: 0,
    agentContactCount: 0,
    noteCount: 0,
    followUpCount: 0,
    csat: null,
    feedbackComment: null,
    feedbackAt: null,
    lastActivityAt: metadata.occurredAt,
    revision: event.revision,
    lastPosition: Number(event.position),
  };
}

/** The issue's own changes; the caller stamps revision, position and activity time. */
function evolve(doc: IssueSummaryDocument, event: StoredIssueEvent): IssueSummaryDocument {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'IssueOpened':
      // A second opening is never decided; like the aggregate, keep the first.
      return doc;
    case 'IssueAssigned':
      return { ...doc, assigneeId: event.data.agentId };
    case 'CustomerContacted': {
      const byAgent = event.data.direction === 'outbound' && event.data.agentId !== undefined;
      return {
        ...doc,
        contactCount: doc.contactCount + 1,
        agentContactCount: doc.agentContactCount + (byAgent ? 1 : 0),
        firstResponseAt: byAgent ? earlierOf(doc.firstResponseAt, at) : doc.firstResponseAt,
      };
    }
    case 'NoteAdded':
      return { ...doc, noteCount: doc.noteCount + 1 };
    case 'ChargeLinked':
      return doc.chargeIds.includes(event.data.chargeId)
        ? doc
        : { ...doc, chargeIds: [...doc.chargeIds, event.data.chargeId] };
    case 'IssueEscalated': {
      const { to, reference, reason } = event.data;
      const entry = { to, reference: reference ?? null, reason: reason ?? null, at };
      return { ...doc, escalations: [...doc.escalations, entry] };
    }
    case 'IssueResolved': {
      const first = doc.resolutionCount === 0;
      return {
        ...doc,
        status: 'resolved',
        resolution: event.data.resolution,
        closedAt: null,
        resolvedAt: at,
        // The earliest in business time, as the metrics take it: what had happened by any instant.
        firstResolvedAt: earlierOf(doc.firstResolvedAt, at),
        agentAtFirstResolution: first ? doc.assigneeId : doc.agentAtFirstResolution,
        resolutionCount: doc.resolutionCount + 1,
      };
    }
    case 'IssueReopened':
      return { ...doc, status: 'open', resolution: null, closedAt: null, reopenCount: doc.reopenCount + 1 };
    case 'IssueClosed':
      return { ...doc, status: 'closed', resolution: doc.resolution, closedAt: at };
    case 'FeedbackReceived':
      return { ...doc, csat: event.data.csat, feedbackComment: event.data.comment ?? null, feedbackAt: at };
    case 'FollowUpSent':
      return { ...doc, followUpCount: doc.followUpCount + 1 };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export const issueSummaryProjection: Projection = {
  name: 'issue-summary',
  // 2: firstResolvedAt is the earliest resolution in business time (was the first recorded).
  version: 2,
  collections: [
    {
      name: ISSUE_SUMMARIES,
      indexes: ['status', 'category', 'channel', 'priority', 'customerId', 'assigneeId', 'openedAt'],
      // GET /issues lists newest first.
      sortedBy: 'openedAt',
    },
  ],
  rebuildWeight: 5,
  streamPrefixes: [STREAM_PREFIX],

  keysFor(event: StoredEvent): DocumentKey[] {
    const issueId = issueIdOf(event);
    return issueId === null ? [] : [{ collection: ISSUE_SUMMARIES, id: issueId }];
  },

  apply(stored: StoredEvent, current: DocumentLookup): DocumentChange[] {
    const issueId = issueIdOf(stored);
    if (issueId === null) return [];
    const event = stored as unknown as StoredIssueEvent;
    const doc = current.get(ISSUE_SUMMARIES, issueId) as IssueSummaryDocument | null;
    if (doc === null) {
      // Nothing happens to an issue before it is opened; the aggregate ignores such events too.
      return event.type === 'IssueOpened'
        ? [{ collection: ISSUE_SUMMARIES, id: issueId, doc: opened(event, issueId) }]
        : [];
    }
    if (Number(event.position) <= doc.lastPosition) return [];
    // evolve() returns a new document (or the same one, unchanged): finished here, not copied again.
    const evolved = evolve(doc, event);
    const next: IssueSummaryDocument = evolved === doc ? { ...doc } : evolved;
    next.lastActivityAt = laterOf(doc.lastActivityAt, event.metadata.occurredAt);
    next.revision = event.revision;
    next.lastPosition = Number(event.position);
    return [{ collection: ISSUE_SUMMARIES, id: issueId, doc: next }];
  },
};
