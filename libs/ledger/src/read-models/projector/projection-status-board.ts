import { UnknownProjectionError, type ProjectionStatus } from '../../application/ports/projections.port';

interface Waiter {
  position: bigint;
  names: readonly string[];
  resolve(reached: boolean): void;
}

/**
 * The latest status of each projection as a ProjectionsControl learns it (from a projector thread's
 * messages, or from polled checkpoints), and the `minPosition` waits on those statuses.
 */
export class ProjectionStatusBoard {
  private readonly byName = new Map<string, ProjectionStatus>();
  private readonly waiters = new Set<Waiter>();

  all(): ProjectionStatus[] {
    return [...this.byName.values()];
  }

  get(name: string): ProjectionStatus | undefined {
    return this.byName.get(name);
  }

  /** Records a status; waits it satisfies are answered by settle(). */
  set(status: ProjectionStatus): void {
    this.byName.set(status.name, status);
  }

  /** Throws UnknownProjectionError for a name no projection has. */
  known(name: string): void {
    if (!this.byName.has(name)) {
      throw new UnknownProjectionError(
        `No projection named ${name}; known: ${[...this.byName.keys()].join(', ')}`,
      );
    }
  }

  /** True once every named projection is at `position` or past it; false after `timeoutMs`. */
  waitFor(position: bigint, names: readonly string[], timeoutMs: number): Promise<boolean> {
    if (this.reached(position, names)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        names,
        resolve: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Answers the waits the recorded statuses now satisfy. */
  settle(): void {
    for (const waiter of this.waiters) {
      if (this.reached(waiter.position, waiter.names)) waiter.resolve(true);
    }
  }

  /** Answers every pending wait with false (the control is stopping). */
  cancelWaits(): void {
    for (const waiter of this.waiters) waiter.resolve(false);
  }

  private reached(position: bigint, names: readonly string[]): boolean {
    return names.every((name) => {
      const status = this.byName.get(name);
      return status !== undefined && BigInt(status.position) >= position;
    });
  }
}
