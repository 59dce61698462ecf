import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../application/ports/clock.port';
import { READ_MODEL_STORE, type ReadModelStore } from '../../application/ports/read-model-store.port';
import {
  CHARGE_SUMMARIES,
  type ChargeSummaryDocument,
  type DisputeView,
  type RefundView,
} from './charge-summary.projection';

export class GetChargeSummary {
  constructor(readonly chargeId: string) {}
}

const OPEN_REFUND = new Set<RefundView['status']>(['requested', 'approved']);

export type ChargeSummaryView = Omit<ChargeSummaryDocument, 'lastPosition' | 'refunds' | 'disputes'> & {
  refunds: Array<RefundView & { overdue: boolean }>;
  disputes: Array<DisputeView & { evidenceOverdue: boolean }>;
};

/** Deadlines are judged at query time (`asOf`), never stored, so rebuilds do not depend on when they ran. */
export function chargeView(doc: ChargeSummaryDocument, asOf: Date): ChargeSummaryView {
  const now = asOf.getTime();
  const { lastPosition: _omitted, ...summary } = doc;
  return {
    ...summary,
    refunds: doc.refunds.map((refund) => ({
      ...refund,
      overdue: refund.dueBy !== null && OPEN_REFUND.has(refund.status) && Date.parse(refund.dueBy) < now,
    })),
    disputes: doc.disputes.map((dispute) => ({
      ...dispute,
      evidenceOverdue:
        dispute.evidenceDueBy !== null &&
        dispute.status === 'open' &&
        Date.parse(dispute.evidenceDueBy) < now,
    })),
  };
}

@QueryHandler(GetChargeSummary)
export class GetChargeSummaryHandler implements IQueryHandler<GetChargeSummary, ChargeSummaryView | null> {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ chargeId }: GetChargeSummary): Promise<ChargeSummaryView | null> {
    const doc = await this.store.get(CHARGE_SUMMARIES, chargeId);
    return doc ? chargeView(doc as unknown as ChargeSummaryDocument, this.clock.now()) : null;
  }
}
