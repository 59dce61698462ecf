import { Inject, Injectable } from '@nestjs/common';
import { PROJECTIONS_CONTROL, type ProjectionsControl } from '../application/ports/projections.port';
import { ProblemError } from './problem';

/** How long a query waits for its projections to reach `minPosition` (API.md) before answering 503. */
export const MIN_POSITION_WAIT_MS = 5000;
const POSITION_PATTERN = /^(?:0|[1-9]\d{0,18})$/;

/** Read-your-writes: a query with `minPosition` answers only from read models that include that position. */
@Injectable()
export class ReadYourWrites {
  constructor(@Inject(PROJECTIONS_CONTROL) private readonly projections: ProjectionsControl) {}

  async await(minPosition: string | undefined, names: readonly string[]): Promise<void> {
    if (minPosition === undefined) return;
    if (!POSITION_PATTERN.test(minPosition)) {
      throw ProblemError.of('validation-failed', 'minPosition must be a position as returned by a command', {
        errors: [
          { field: 'minPosition', message: 'must be a non-negative integer (a command’s "position")' },
        ],
      });
    }
    if (await this.projections.waitFor(BigInt(minPosition), names, MIN_POSITION_WAIT_MS)) return;
    const behind = this.projections
      .statuses()
      .filter((status) => names.includes(status.name))
      .map((status) => ({ projection: status.name, position: status.position, state: status.state }));
    // ProblemFilter adds Retry-After to every 503.
    // Where another process projects, the likeliest cause is that it is not running: say where to look.
    const elsewhere = this.projections.runsElsewhere
      ? '; the projections run in another process (LEDGER_PROJECTIONS=external): check that it is running'
      : '';
    throw ProblemError.of(
      'service-unavailable',
      `The read models have not reached position ${minPosition} within ${MIN_POSITION_WAIT_MS / 1000} s${elsewhere}`,
      { minPosition, projections: behind },
    );
  }
}
