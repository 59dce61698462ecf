import { assertNever, type Decider } from '../shared/decider';
import { notFound, ruleViolation } from '../shared/error-types';
import { sameContent, withoutUndefined } from '../shared/plain-data';
import type { IssueCommand, OpenIssue } from './issue.commands';
import {
  CSAT_MAX,
  CSAT_MIN,
  type Channel,
  type EscalationTarget,
  type IssueCategory,
  type IssueEvent,
  type IssueOpenedData,
  type Priority,
  type Resolution,
} from './issue.events';

export const ISSUE_STATUSES = ['open', 'resolved', 'closed'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

export interface IssueFacts {
  issueId: string;
  customerId: string;
  category: IssueCategory;
  channel: Channel;
  priority: Priority;
  summary?: string;
  /** As opened, so a replayed OpenIssue is compared against the original and not against later links. */
  openedChargeIds: string[];
  /** Opened with and linked since, in link order. */
  chargeIds: string[];
  assigneeId: string | null;
  /** Outbound contacts made by an agent: the first one is the first response. */
  agentContactCount: number;
  escalations: EscalationTarget[];
  /** Feedback needs a resolution at some point, even if the issue was reopened since. */
  resolutionCount: number;
  reopenCount: number;
  lastCsat: number | null;
}

export type IssueState =
  | { status: 'none' }
  | (IssueFacts & { status: 'open' })
  | (IssueFacts & { status: 'resolved'; resolution: Resolution })
  /** `resolution` is null when the issue was closed without one (withdrawn). */
  | (IssueFacts & { status: 'closed'; resolution: Resolution | null });

export type ExistingIssue = Exclude<IssueState, { status: 'none' }>;

export const initialIssueState: IssueState = { status: 'none' };

function factsOf(issue: ExistingIssue): IssueFacts {
  const { status: _status, ...rest } = issue;
  const { resolution: _resolution, ...facts } = rest as IssueFacts & { resolution?: Resolution | null };
  return facts;
}

function evolve(state: IssueState, event: IssueEvent): IssueState {
  if (event.type === 'IssueOpened') {
    if (state.status !== 'none') return state;
    const { issueId, customerId, category, channel, priority, chargeIds, summary } = event.data;
    return withoutUndefined({
      status: 'open',
      issueId,
      customerId,
      category,
      channel,
      priority,
      summary,
      openedChargeIds: chargeIds,
      chargeIds,
      assigneeId: null,
      agentContactCount: 0,
      escalations: [],
      resolutionCount: 0,
      reopenCount: 0,
      lastCsat: null,
    });
  }
  // evolve stays total: an event on an issue that was never opened changes nothing.
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'IssueAssigned':
      return { ...state, assigneeId: event.data.agentId };
    case 'CustomerContacted': {
      const byAgent = event.data.direction === 'outbound' && event.data.agentId !== undefined;
      return byAgent ? { ...state, agentContactCount: state.agentContactCount + 1 } : state;
    }
    case 'NoteAdded':
      return state;
    case 'ChargeLinked':
      return state.chargeIds.includes(event.data.chargeId)
        ? state
        : { ...state, chargeIds: [...state.chargeIds, event.data.chargeId] };
    case 'IssueEscalated':
      return { ...state, escalations: [...state.escalations, event.data.to] };
    case 'IssueResolved':
      return {
        ...factsOf(state),
        status: 'resolved',
        resolution: event.data.resolution,
        resolutionCount: state.resolutionCount + 1,
      };
    case 'IssueReopened':
      return { ...factsOf(state), status: 'open', reopenCount: state.reopenCount + 1 };
    case 'IssueClosed':
      return {
        ...factsOf(state),
        status: 'closed',
        resolution: state.status === 'open' ? null : state.resolution,
      };
    case 'FeedbackReceived':
      return { ...state, lastCsat: event.data.csat };
    case 'FollowUpSent':
      return state;
    default:
      return assertNever(event);
  }
}

function decide(command: IssueCommand, state: IssueState): IssueEvent[] {
  if (command.type === 'OpenIssue') return openIssue(command, state);
  const { issueId } = command;
  if (state.status === 'none')
    throw notFound('issue-not-found', `Issue ${issueId} does not exist`, { issueId });
  const issue = state;
  const closedError = () =>
    ruleViolation('issue-closed', `Issue ${issueId} is closed`, { issueId, command: command.type });

  switch (command.type) {
    case 'AssignIssue': {
      const { agentId } = command;
      if (issue.assigneeId === agentId) return [];
      if (issue.status === 'closed') throw closedError();
      return [{ type: 'IssueAssigned', data: { issueId, agentId } }];
    }
    case 'RecordContact': {
      if (issue.status === 'closed') throw closedError();
      const { direction, channel, agentId, summary } = command;
      // agentId comes from the command (the desk names who spoke); an outbound one is an agent contact.
      return [
        {
          type: 'CustomerContacted',
          data: withoutUndefined({ issueId, direction, channel, agentId, summary }),
        },
      ];
    }
    case 'AddNote': {
      if (issue.status === 'closed') throw closedError();
      return [
        {
          type: 'NoteAdded',
          data: withoutUndefined({ issueId, text: command.text, agentId: command.agentId }),
        },
      ];
    }
    case 'LinkCharge': {
      // Whether the charge exists is checked by the application: a decider sees only its own stream.
      const { chargeId } = command;
      if (issue.chargeIds.includes(chargeId)) return [];
      if (issue.status === 'closed') throw closedError();
      return [{ type: 'ChargeLinked', data: { issueId, chargeId } }];
    }
    case 'EscalateIssue': {
      if (issue.status === 'closed') throw closedError();
      const { to, reference, reason } = command;
      return [{ type: 'IssueEscalated', data: withoutUndefined({ issueId, to, reference, reason }) }];
    }
    case 'ResolveIssue': {
      if (issue.status === 'closed') throw closedError();
      if (issue.status === 'resolved') {
        throw ruleViolation('issue-not-open', `Issue ${issueId} is already resolved`, {
          issueId,
          status: issue.status,
        });
      }
      const { resolution, summary } = command;
      return [{ type: 'IssueResolved', data: withoutUndefined({ issueId, resolution, summary }) }];
    }
    case 'ReopenIssue': {
      if (issue.status === 'closed') throw closedError();
      if (issue.status === 'open') {
        throw ruleViolation(
          'issue-not-resolved',
          `Issue ${issueId} is open; only a resolved issue can be reopened`,
          {
            issueId,
            status: issue.status,
          },
        );
      }
      return [{ type: 'IssueReopened', data: { issueId, reason: command.reason } }];
    }
    case 'CloseIssue':
      return issue.status === 'closed' ? [] : [{ type: 'IssueClosed', data: { issueId } }];
    case 'RecordFeedback': {
      const { csat, comment } = command;
      if (!Number.isInteger(csat) || csat < CSAT_MIN || csat > CSAT_MAX) {
        throw ruleViolation('invalid-csat', `CSAT must be an integer from ${CSAT_MIN} to ${CSAT_MAX}`, {
          issueId,
          csat,
        });
      }
      if (issue.resolutionCount === 0) {
        throw ruleViolation(
          'issue-not-resolved',
          `Issue ${issueId} has never been resolved; feedback needs a resolution`,
          {
            issueId,
            status: issue.status,
          },
        );
      }
      return [{ type: 'FeedbackReceived', data: withoutUndefined({ issueId, csat, comment }) }];
    }
    case 'SendFollowUp':
      // Follow-ups are allowed in every status, closed included: they are how a closed case is checked on.
      return [{ type: 'FollowUpSent', data: withoutUndefined({ issueId, channel: command.channel }) }];
    default:
      return assertNever(command);
  }
}

function openIssue(command: OpenIssue, state: IssueState): IssueEvent[] {
  const { issueId, customerId, category, channel, summary } = command;
  const data: IssueOpenedData = withoutUndefined({
    issueId,
    customerId,
    category,
    channel,
    priority: command.priority ?? 'normal',
    chargeIds: [...new Set(command.chargeIds ?? [])],
    summary,
  });
  if (state.status === 'none') return [{ type: 'IssueOpened', data }];
  const recorded: IssueOpenedData = withoutUndefined({
    issueId: state.issueId,
    customerId: state.customerId,
    category: state.category,
    channel: state.channel,
    priority: state.priority,
    chargeIds: state.openedChargeIds,
    summary: state.summary,
  });
  if (sameContent(recorded, data)) return [];
  throw ruleViolation('issue-already-exists', `Issue ${issueId} already exists with other content`, {
    issueId,
  });
}

export const issueDecider: Decider<IssueState, IssueCommand, IssueEvent> = {
  initialState: initialIssueState,
  evolve,
  decide,
};
