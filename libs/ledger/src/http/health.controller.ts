import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import { PROJECTIONS_CONTROL, type ProjectionsControl } from '../application/ports/projections.port';
import { Public } from './auth/roles.decorator';
import { NoQueryDto } from './dto/query.dto';
import { projectionOverview } from './projection-overview';

export const STORAGE_ENGINES = Symbol('StorageEngines');

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STORAGE_ENGINES) private readonly engines: { events: string; readModels: string },
    @Inject(PROJECTIONS_CONTROL) private readonly projections: ProjectionsControl,
  ) {}

  /**
   * Public, and so without data: positions, states and the failing position of a stopped projection
   * (its error message too: it names event types and positions, never event data).
   */
  @Get()
  @Public()
  async health(@Query() _query: NoQueryDto) {
    try {
      const overview = await projectionOverview(this.projections, this.eventStore);
      const failed = overview.projections.filter((projection) => projection.state === 'failed');
      return {
        status: failed.length > 0 ? 'degraded' : 'ok',
        live: true,
        ready: true,
        storage: this.engines,
        headPosition: overview.headPosition,
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
      return { status: 'degraded', live: true, ready: false, storage: this.engines, headPosition: null };
    }
  }
}
