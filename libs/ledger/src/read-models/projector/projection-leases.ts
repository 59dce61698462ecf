import type { Lease, LeaseStore } from '../../application/ports/lease-store.port';

export interface ProjectionLeaseOptions {
  store: LeaseStore;
  /** This instance, unique among the live ones (host, pid and a random part). */
  holder: string;
  /** How long a lease lasts without renewal: the longest a dead holder keeps its projections. */
  ttlMs: number;
  /** How often held leases are renewed and free ones looked for; well under ttlMs. */
  renewMs: number;
  /** Each time this instance takes or loses a lease (logs). */
  onChange?: (event: { projection: string; held: boolean; token: bigint }) => void;
}

/** Lease names: one per projection, one per live instance (to count them, so that they share the work). */
export const projectionLeaseName = (projection: string) => `projection:${projection}`;
const INSTANCE_PREFIX = 'projector-instance:';

/** What ProjectionLeases asks of the host: run a projection once it is ours, stop it before it is given up. */
export interface LeasedProjections {
  readonly names: readonly string[];
  run(projection: string): Promise<void>;
  halt(projection: string): Promise<void>;
}

/**
 * Keeps this instance's projection leases: every renewMs it renews the ones it holds (a lost one stops its
 * projection), takes free or expired ones while it holds fewer than its share (projections divided by the
 * live instances, each of which holds an instance lease), and gives one back when it holds more, so that a
 * new instance gets work. A projection is never split: its one lease covers every stream.
 */
export class ProjectionLeases {
  private readonly held = new Map<string, Lease>();
  private instance: Lease | null = null;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly projections: LeasedProjections,
    private readonly options: ProjectionLeaseOptions,
  ) {}

  /** The token this instance holds a projection's lease under: the commit path's fence. */
  token(projection: string): bigint | undefined {
    return this.held.get(projection)?.token;
  }

  holds(projection: string): boolean {
    return this.held.has(projection);
  }

  /** Runs the first round, then one every renewMs. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  /** Stops the rounds, the projections it runs (each finishes its batch), then releases every lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const [projection, lease] of this.held) {
      await this.projections.halt(projection);
      this.held.delete(projection);
      await this.options.store.release(lease).catch(() => undefined);
    }
    if (this.instance) await this.options.store.release(this.instance).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.options.renewMs);
    // Not unref'd: an instance holding no lease yet has nothing else keeping its process alive.
  }

  private async tick(): Promise<void> {
    const { store, holder, ttlMs } = this.options;
    this.instance = await store.acquire(`${INSTANCE_PREFIX}${holder}`, holder, ttlMs);
    for (const [projection, lease] of [...this.held]) {
      let renewed: Lease | null;
      try {
        renewed = await store.renew(lease, ttlMs);
      } catch {
        // Storage busy: try again next round. Until then the token still fences every commit.
        continue;
      }
      if (renewed) this.held.set(projection, renewed);
      else await this.lose(projection, lease);
    }
    const now = Date.now();
    const leases = await store.list();
    const instances = leases.filter(
      (lease) => lease.name.startsWith(INSTANCE_PREFIX) && lease.holder !== '' && lease.expiresAt > now,
    ).length;
    const share = Math.ceil(this.projections.names.length / Math.max(instances, 1));
    // One given back per round: the others take it on their next round.
    if (this.held.size > share) {
      const [projection, lease] = [...this.held].at(-1)!;
      await this.projections.halt(projection);
      this.held.delete(projection);
      await store.release(lease);
      this.options.onChange?.({ projection, held: false, token: lease.token });
      return;
    }
    for (const projection of this.projections.names) {
      if (this.stopped || this.held.size >= share) break;
      if (this.held.has(projection)) continue;
      const lease = await store.acquire(projectionLeaseName(projection), holder, ttlMs);
      if (!lease) continue;
      this.held.set(projection, lease);
      this.options.onChange?.({ projection, held: true, token: lease.token });
      await this.projections.run(projection);
    }
  }

  private async lose(projection: string, lease: Lease): Promise<void> {
    this.held.delete(projection);
    this.options.onChange?.({ projection, held: false, token: lease.token });
    await this.projections.halt(projection);
  }
}
