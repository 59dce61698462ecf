import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../application/ports/clock.port';
import { READ_MODEL_STORE, type ReadModelStore } from '../../application/ports/read-model-store.port';
import { ISSUE_SUMMARIES, type IssueSummaryDocument } from '../issue-summary/issue-summary.projection';
import { issueView, type IssueSummaryView } from '../issue-summary/issue-summary.query';
import type { SlaTargets } from '../sla/sla';
import { SLA_TARGETS } from '../sla/sla-targets.token';
import {
  CUSTOMER_SUMMARIES,
  unknownCustomer,
  type CustomerSummaryDocument,
} from './customer-summary.projection';

export class GetCustomerSummary {
  constructor(readonly customerId: string) {}
}

/** Issues listed with a customer: the most recent ones; the full list is GET /issues?customerId=. */
export const CUSTOMER_ISSUES_SHOWN = 100;

export type CustomerSummaryView = Omit<CustomerSummaryDocument, 'lastPosition'> & {
  issues: IssueSummaryView[];
  /** More issues than listed exist. */
  moreIssues: boolean;
};

@QueryHandler(GetCustomerSummary)
export class GetCustomerSummaryHandler implements IQueryHandler<GetCustomerSummary, CustomerSummaryView> {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SLA_TARGETS) private readonly targets: SlaTargets,
  ) {}

  /** Every customer id answers: one never seen is active with no history and revision -1 (API.md). */
  async execute({ customerId }: GetCustomerSummary): Promise<CustomerSummaryView> {
    const doc = (await this.store.get(CUSTOMER_SUMMARIES, customerId)) as CustomerSummaryDocument | null;
    const page = await this.store.list(ISSUE_SUMMARIES, {
      where: { customerId },
      orderBy: { field: 'openedAt', direction: 'desc' },
      limit: CUSTOMER_ISSUES_SHOWN,
    });
    const asOf = this.clock.now();
    const { lastPosition: _omitted, ...summary } = doc ?? unknownCustomer(customerId);
    return {
      ...summary,
      issues: page.items.map((issue) => issueView(issue as IssueSummaryDocument, asOf, this.targets)),
      moreIssues: page.nextCursor !== null,
    };
  }
}
