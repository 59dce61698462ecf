import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import { Public } from './auth/roles.decorator';

export const STORAGE_ENGINES = Symbol('StorageEngines');

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STORAGE_ENGINES) private readonly engines: { events: string; readModels: string },
  ) {}

  @Get()
  @Public()
  async health() {
    let ready = true;
    let headPosition: string | null = null;
    try {
      headPosition = (await this.eventStore.headPosition()).toString();
    } catch {
      ready = false;
    }
    return { status: ready ? 'ok' : 'degraded', live: true, ready, storage: this.engines, headPosition };
  }
}
