import type { CommandContext } from '../shared/decider';
import type {
  Channel,
  ContactDirection,
  EscalationTarget,
  IssueCategory,
  Priority,
  Resolution,
} from './issue.events';

export interface OpenIssue {
  type: 'OpenIssue';
  issueId: string;
  customerId: string;
  category: IssueCategory;
  channel: Channel;
  /** Default 'normal'. */
  priority?: Priority;
  /** Default []. */
  chargeIds?: string[];
  summary?: string;
  context: CommandContext;
}

export interface AssignIssue {
  type: 'AssignIssue';
  issueId: string;
  agentId: string;
  context: CommandContext;
}

export interface RecordContact {
  type: 'RecordContact';
  issueId: string;
  direction: ContactDirection;
  channel: Channel;
  agentId?: string;
  summary?: string;
  context: CommandContext;
}

export interface AddNote {
  type: 'AddNote';
  issueId: string;
  text: string;
  agentId?: string;
  context: CommandContext;
}

export interface LinkCharge {
  type: 'LinkCharge';
  issueId: string;
  chargeId: string;
  context: CommandContext;
}

export interface EscalateIssue {
  type: 'EscalateIssue';
  issueId: string;
  to: EscalationTarget;
  reference?: string;
  reason?: string;
  context: CommandContext;
}

export interface ResolveIssue {
  type: 'ResolveIssue';
  issueId: string;
  resolution: Resolution;
  summary?: string;
  context: CommandContext;
}

export interface ReopenIssue {
  type: 'ReopenIssue';
  issueId: string;
  reason: string;
  context: CommandContext;
}

export interface CloseIssue {
  type: 'CloseIssue';
  issueId: string;
  context: CommandContext;
}

export interface RecordFeedback {
  type: 'RecordFeedback';
  issueId: string;
  csat: number;
  comment?: string;
  context: CommandContext;
}

export interface SendFollowUp {
  type: 'SendFollowUp';
  issueId: string;
  channel?: Channel;
  context: CommandContext;
}

export type IssueCommand =
  | OpenIssue
  | AssignIssue
  | RecordContact
  | AddNote
  | LinkCharge
  | EscalateIssue
  | ResolveIssue
  | ReopenIssue
  | CloseIssue
  | RecordFeedback
  | SendFollowUp;

export type IssueCommandType = IssueCommand['type'];
