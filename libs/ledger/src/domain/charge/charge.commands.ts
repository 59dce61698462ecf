import type { CommandContext } from '../shared/decider';
import type {
  ChargeOutcome,
  DisputeCloseOutcome,
  DisputeKind,
  DisputeReason,
  FailureCategory,
  RefundFailureReason,
  RefundReason,
} from './charge.events';

export interface RecordCharge {
  type: 'RecordCharge';
  chargeId: string;
  customerId: string;
  amount: number;
  currency: string;
  outcome: ChargeOutcome;
  method?: string;
  provider?: string;
  merchantId?: string;
  declineCode?: string;
  failureCategory?: FailureCategory;
  context: CommandContext;
}

export interface RequestRefund {
  type: 'RequestRefund';
  chargeId: string;
  refundId: string;
  amount: number;
  reason: RefundReason;
  dueBy?: string;
  context: CommandContext;
}

export interface ApproveRefund {
  type: 'ApproveRefund';
  chargeId: string;
  refundId: string;
  context: CommandContext;
}

export interface RejectRefund {
  type: 'RejectRefund';
  chargeId: string;
  refundId: string;
  reason: string;
  context: CommandContext;
}

export interface MarkRefundSucceeded {
  type: 'MarkRefundSucceeded';
  chargeId: string;
  refundId: string;
  context: CommandContext;
}

export interface MarkRefundFailed {
  type: 'MarkRefundFailed';
  chargeId: string;
  refundId: string;
  failureReason: RefundFailureReason;
  context: CommandContext;
}

export interface CancelRefund {
  type: 'CancelRefund';
  chargeId: string;
  refundId: string;
  reason?: string;
  context: CommandContext;
}

export interface OpenDispute {
  type: 'OpenDispute';
  chargeId: string;
  disputeId: string;
  amount: number;
  reason: DisputeReason;
  /** Default 'chargeback': most providers only report disputes once money has moved. */
  kind?: DisputeKind;
  networkReasonCode?: string;
  evidenceDueBy?: string;
  context: CommandContext;
}

export interface EscalateDispute {
  type: 'EscalateDispute';
  chargeId: string;
  disputeId: string;
  networkReasonCode?: string;
  evidenceDueBy?: string;
  context: CommandContext;
}

export interface SubmitDisputeEvidence {
  type: 'SubmitDisputeEvidence';
  chargeId: string;
  disputeId: string;
  summary: string;
  context: CommandContext;
}

export interface CloseDispute {
  type: 'CloseDispute';
  chargeId: string;
  disputeId: string;
  outcome: DisputeCloseOutcome;
  context: CommandContext;
}

export type ChargeCommand =
  | RecordCharge
  | RequestRefund
  | ApproveRefund
  | RejectRefund
  | MarkRefundSucceeded
  | MarkRefundFailed
  | CancelRefund
  | OpenDispute
  | EscalateDispute
  | SubmitDisputeEvidence
  | CloseDispute;

export type ChargeCommandType = ChargeCommand['type'];
