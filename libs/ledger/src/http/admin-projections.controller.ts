import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { EVENT_STORE, type EventStore } from '../application/ports/event-store.port';
import {
  PROJECTIONS_CONTROL,
  ProjectionsElsewhereError,
  type ProjectionsControl,
  type RebuildReport,
} from '../application/ports/projections.port';
import { Roles } from './auth/roles.decorator';
import { NoQueryDto } from './dto/query.dto';
import { ProblemError } from './problem';
import { projectionOverview } from './projection-overview';

export class RebuildQueryDto {
  /** `true`: rebuild beside the live projection and report differences instead of swapping. */
  @IsOptional()
  @IsIn(['true', 'false'])
  compare?: 'true' | 'false';
}

const NAME_PATTERN = /^[a-z][a-z-]{0,63}$/;

@ApiTags('operations')
@ApiBearerAuth()
@Controller('admin/projections')
export class AdminProjectionsController {
  /** The last finished rebuild of each projection, with its comparison in compare mode. */
  private readonly lastReports = new Map<string, RebuildReport | { failed: string }>();

  constructor(
    @Inject(PROJECTIONS_CONTROL) private readonly projections: ProjectionsControl,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
  ) {}

  @Get()
  @Roles('admin', 'auditor', 'analyst')
  async list(@Query() _query: NoQueryDto) {
    const overview = await projectionOverview(this.projections, this.eventStore);
    return {
      ...overview,
      projections: overview.projections.map((projection) => ({
        ...projection,
        lastRebuild: this.lastReports.get(projection.name) ?? null,
      })),
    };
  }

  /** Starts a rebuild in the projector and answers at once; progress and the result appear in GET. */
  @Post(':name/rebuild')
  @Roles('admin')
  @HttpCode(202)
  rebuild(@Param('name') name: string, @Query() query: RebuildQueryDto) {
    this.known(name);
    // Refused before the 202: the rebuild would otherwise only fail later, in GET's lastRebuild.
    if (this.projections.runsElsewhere) throw new ProjectionsElsewhereError(`rebuild ${name}`);
    const compare = query.compare === 'true';
    this.projections.rebuild(name, { compare }).then(
      (report) => this.lastReports.set(name, report),
      (error: unknown) =>
        this.lastReports.set(name, { failed: error instanceof Error ? error.message : String(error) }),
    );
    return { projection: name, compare, status: `/admin/projections` };
  }

  /** Resumes a failed projection from the event it failed on (after the fix is deployed). */
  @Post(':name/retry')
  @Roles('admin')
  @HttpCode(202)
  async retry(@Param('name') name: string, @Query() _query: NoQueryDto) {
    this.known(name);
    await this.projections.retry(name);
    return { projection: name };
  }

  private known(name: string): void {
    const names = this.projections.statuses().map((status) => status.name);
    if (NAME_PATTERN.test(name) && names.includes(name)) return;
    throw ProblemError.of('projection-not-found', `No projection named ${name}; known: ${names.join(', ')}`);
  }
}
