import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { COMMAND_HANDLERS } from '../application/commands/aggregate-commands';
import { StreamCommandRunner } from '../application/commands/stream-command-runner';
import { ID_GENERATOR, type IdGenerator, uuidv7Generator } from '../application/ids';
import { API_KEY_STORE, type ApiKeyStore } from '../application/ports/api-key-store.port';
import { CLOCK, type Clock, systemClock } from '../application/ports/clock.port';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import { IDEMPOTENCY_STORE, type IdempotencyStore } from '../application/ports/idempotency-store.port';
import { READ_MODEL_STORE, type ReadModelStore } from '../application/ports/read-model-store.port';
import { PROJECTIONS_CONTROL, type ProjectionsControl } from '../application/ports/projections.port';
import { GetChargeSummaryHandler } from '../read-models/charge-summary/charge-summary.query';
import { GetCustomerSummaryHandler } from '../read-models/customer-summary/customer-summary.query';
import {
  GetIssueSummaryHandler,
  ListIssueSummariesHandler,
  ScanIssueSummariesHandler,
} from '../read-models/issue-summary/issue-summary.query';
import { GetIssueTimelineHandler } from '../read-models/issue-timeline/issue-timeline.query';
import { MetricsSnapshotLoader } from '../read-models/metrics/metrics-snapshot';
import { GetMetricHandler } from '../read-models/metrics/metrics.query';
import { DEFAULT_SLA_TARGETS, type SlaTargets } from '../read-models/sla/sla';
import { SLA_TARGETS } from '../read-models/sla/sla-targets.token';
import { ActorNames } from './actor-names';
import { AdminProjectionsController } from './admin-projections.controller';
import { MetricsController } from './metrics.controller';
import { QueriesController } from './queries.controller';
import { ReadYourWrites } from './read-your-writes';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeyAuthenticator } from '../application/api-keys/api-keys';
import { AggregateStateCache } from '../application/aggregate-state-cache';
import { AuditEventsController } from './audit-events.controller';
import { AuditStateController } from './audit-state.controller';
import { AuditVerifyController } from './audit-verify.controller';
import { AuditAccessLogController } from './audit-access-log.controller';
import { AuditDigestController, LEDGER_DIGESTS, type LedgerDigests } from './audit-digest.controller';
import { AccessLogRecorder, type AccessLogRecorderOptions } from '../audit/access-log/access-log';
import { EventStoreVerificationSource } from '../audit/verify/event-store-verification-source';
import { VERIFICATION_SOURCE, type VerificationSource } from '../audit/verify/verification-source';
import { ChargesController } from './charges.controller';
import { CommandGateway } from './command-gateway';
import { CustomersController } from './customers.controller';
import {
  ENGINE_CONNECTIONS,
  HealthController,
  STORAGE_ENGINES,
  type EngineConnection,
} from './health.controller';
import { IssuesController } from './issues.controller';
import { ProblemFilter } from './problem.filter';
import { ledgerValidationPipe } from './validation';

/** The adapters the composition root chooses (embedded SQLite, or EventStoreDB + MongoDB). */
export interface LedgerAdapters {
  eventStore: EventStore;
  apiKeys: ApiKeyStore;
  idempotency: IdempotencyStore;
  /** Where the query side reads (documents the projector writes). */
  readModels: ReadModelStore;
  /** The projector's progress and controls (a worker thread in the embedded profile). */
  projections: ProjectionsControl;
  engines: { events: string; readModels: string };
  /** Every engine the ledger runs on, what it holds, and a check of its connection (for /health). */
  engineConnections: EngineConnection[];
  /** Raw reader for chain verification (embedded: the SQLite file); default: through the EventStore port. */
  verification?: VerificationSource;
  /** Batching of the access log (tests shorten the interval). */
  accessLog?: AccessLogRecorderOptions;
  /** The Merkle tree and its signed digests; without it the digest and proof routes answer 503. */
  digests?: LedgerDigests;
  slaTargets?: SlaTargets;
  clock?: Clock;
  ids?: IdGenerator;
}

const QUERY_HANDLERS = [
  GetIssueSummaryHandler,
  ListIssueSummariesHandler,
  ScanIssueSummariesHandler,
  GetIssueTimelineHandler,
  GetChargeSummaryHandler,
  GetCustomerSummaryHandler,
  GetMetricHandler,
];

@Module({})
export class LedgerModule {
  static forRoot(adapters: LedgerAdapters): DynamicModule {
    const clock = adapters.clock ?? systemClock;
    const ids = adapters.ids ?? uuidv7Generator;
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        ChargesController,
        IssuesController,
        CustomersController,
        QueriesController,
        MetricsController,
        AdminProjectionsController,
        AuditEventsController,
        AuditStateController,
        AuditVerifyController,
        AuditAccessLogController,
        AuditDigestController,
        HealthController,
      ],
      providers: [
        { provide: EVENT_STORE, useValue: adapters.eventStore },
        { provide: API_KEY_STORE, useValue: adapters.apiKeys },
        { provide: IDEMPOTENCY_STORE, useValue: adapters.idempotency },
        { provide: STORAGE_ENGINES, useValue: adapters.engines },
        { provide: ENGINE_CONNECTIONS, useValue: adapters.engineConnections },
        { provide: LEDGER_DIGESTS, useValue: adapters.digests ?? null },
        {
          provide: VERIFICATION_SOURCE,
          useValue: adapters.verification ?? new EventStoreVerificationSource(adapters.eventStore),
        },
        { provide: CLOCK, useValue: clock },
        {
          provide: AccessLogRecorder,
          useFactory: () => {
            const logger = new Logger('AccessLog');
            return new AccessLogRecorder(adapters.eventStore, ids, clock, {
              onError: (error, dropped) =>
                logger.error(
                  `appending the access log failed (kept for a retry${dropped ? `; ${dropped} entries dropped` : ''}): ` +
                    (error instanceof Error ? error.message : String(error)),
                ),
              ...adapters.accessLog,
            });
          },
        },
        { provide: ID_GENERATOR, useValue: ids },
        { provide: AggregateStateCache, useFactory: () => new AggregateStateCache() },
        {
          provide: StreamCommandRunner,
          useFactory: (cache: AggregateStateCache) =>
            new StreamCommandRunner(adapters.eventStore, clock, ids, cache),
          inject: [AggregateStateCache],
        },
        { provide: ApiKeyAuthenticator, useFactory: () => new ApiKeyAuthenticator(adapters.apiKeys) },
        ...COMMAND_HANDLERS,
        CommandGateway,
        ...QUERY_HANDLERS,
        ReadYourWrites,
        ActorNames,
        {
          provide: MetricsSnapshotLoader,
          useFactory: () => new MetricsSnapshotLoader(adapters.readModels, adapters.projections),
        },
        { provide: READ_MODEL_STORE, useValue: adapters.readModels },
        { provide: PROJECTIONS_CONTROL, useValue: adapters.projections },
        { provide: SLA_TARGETS, useValue: adapters.slaTargets ?? DEFAULT_SLA_TARGETS },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useFactory: ledgerValidationPipe },
      ],
    };
  }
}
