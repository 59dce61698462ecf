import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import { PROJECTIONS_CONTROL, type ProjectionsControl } from '../application/ports/projections.port';
import { Public } from './auth/roles.decorator';
import { NoQueryDto } from './dto/query.dto';
import { projectionOverview } from './projection-overview';

export const STORAGE_ENGINES = Symbol('StorageEngines');
export const ENGINE_CONNECTIONS = Symbol('EngineConnections');

/** What the ledger keeps in an engine, as /health names it. */
export type EngineContent = 'events' | 'read models' | 'idempotency records' | 'API keys' | 'digests';

/** One storage engine of the running ledger (the composition root lists them). */
export interface EngineConnection {
  engine: 'sqlite' | 'eventstoredb' | 'mongodb';
  holds: EngineContent[];
  /** Answers true when the engine answers a small read now; false (never throws) otherwise. */
  check(): Promise<boolean>;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STORAGE_ENGINES) private readonly engines: { events: string; readModels: string },
    @Inject(PROJECTIONS_CONTROL) private readonly projections: ProjectionsControl,
    @Inject(ENGINE_CONNECTIONS) private readonly connections: EngineConnection[],
  ) {}

  /** Each engine with its connection state: `connected` when it answered a small read just now. */
  private async engineStates() {
    return Promise.all(
      this.connections.map(async ({ engine, holds, check }) => ({
        engine,
        holds,
        state: (await check().catch(() => false)) ? 'connected' : 'unavailable',
      })),
    );
  }

  /**
   * Public, and so without data: positions, states and the failing position of a stopped projection
   * (its error message too: it names event types and positions, never event data).
   */
  @Get()
  @Public()
  async health(@Query() _query: NoQueryDto) {
    const engines = await this.engineStates();
    try {
      const overview = await projectionOverview(this.projections, this.eventStore);
      const failed = overview.projections.filter((projection) => projection.state === 'failed');
      return {
        status: failed.length > 0 ? 'degraded' : 'ok',
        live: true,
        ready: true,
        storage: this.engines,
        engines,
        headPosition: overview.headPosition,
        projectionsRun: overview.projectionsRun,
        projections: overview.projections.map(
          ({ name, state, position, lagEvents, lagSeconds, failure, rebuild }) => ({
            name,
            state,
            position,
            lagEvents,
            lagSeconds,
            failure,
            rebuild,
          }),
        ),
      };
    } catch {
      return {
        status: 'degraded',
        live: true,
        ready: false,
        storage: this.engines,
        engines,
        headPosition: null,
      };
    }
  }
}
