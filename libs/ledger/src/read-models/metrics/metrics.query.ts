import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { SlaTargets } from '../sla/sla';
import { SLA_TARGETS } from '../sla/sla-targets.token';
import { computeMetric, type MetricAnswer, type MetricName, type MetricParams } from './metric-computations';
import { MetricsSnapshotLoader } from './metrics-snapshot';

export class GetMetric {
  constructor(
    readonly metric: MetricName,
    readonly params: MetricParams,
  ) {}
}

/** Answers from the in-memory snapshot of the metrics read model, refreshed first; never the event store. */
@QueryHandler(GetMetric)
export class GetMetricHandler implements IQueryHandler<GetMetric, MetricAnswer> {
  constructor(
    private readonly loader: MetricsSnapshotLoader,
    @Inject(SLA_TARGETS) private readonly targets: SlaTargets,
  ) {}

  async execute({ metric, params }: GetMetric): Promise<MetricAnswer> {
    const snapshot = await this.loader.refresh();
    return computeMetric(metric, snapshot, params, this.targets);
  }
}
