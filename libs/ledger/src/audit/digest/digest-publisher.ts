import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../application/ports/clock.port';
import type { DigestStore, SignedDigest } from '../../application/ports/digest-store.port';
import type { MerkleTreeFollower } from '../merkle/merkle-tree-builder';
import { storedRoot } from '../merkle/stored-tree-proofs';
import { signDigest } from './digest-signature';

export const DEFAULT_DIGEST_INTERVAL_SECONDS = 60;
/** How often the tree follows the event store between digests. */
export const TREE_FOLLOW_INTERVAL_MS = 1000;

/**
 * Publishes signed digests of the tree: on demand, and on a timer when the tree has grown. One digest
 * per tree size: asking again with no new events answers the digest already published.
 */
export class DigestPublisher {
  private digestTimer?: NodeJS.Timeout;
  private followTimer?: NodeJS.Timeout;
  private background: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly builder: MerkleTreeFollower,
    private readonly tree: DigestStore,
    private readonly signingKey: KeyObject,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Brings the tree up to the event store's head, then signs its current size. */
  async publish(): Promise<SignedDigest> {
    const treeSize = await this.builder.catchUp();
    const existing = await this.tree.digest(treeSize);
    if (existing) return existing;
    const rootHash = (await storedRoot(this.tree, treeSize)).toString('hex');
    const digest = signDigest(
      { treeSize, rootHash, createdAt: this.clock.now().toISOString() },
      this.signingKey,
    );
    return this.tree.saveDigest(digest);
  }

  /**
   * intervalSeconds 0 turns scheduled digests off. followIntervalMs null: the builder follows the store on
   * its own (the embedded profile's tree thread), so only digests are scheduled here.
   */
  start(intervalSeconds: number, followIntervalMs: number | null = TREE_FOLLOW_INTERVAL_MS): void {
    // A failure repeats every tick until fixed (e.g. a tampered event): report it once, not each second.
    let lastError: string | undefined;
    // A tick that finds work in flight (a long catch-up) is skipped rather than queued behind it.
    const inFlight = new Set<string>();
    const run = (name: string, work: () => Promise<unknown>) => {
      if (inFlight.has(name)) return;
      inFlight.add(name);
      this.background = this.background
        .then(work)
        .then(() => (lastError = undefined))
        .catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          if (message !== lastError) this.onError(error);
          lastError = message;
        })
        .finally(() => inFlight.delete(name));
    };
    if (followIntervalMs !== null) {
      this.followTimer = setInterval(() => run('follow', () => this.builder.catchUp()), followIntervalMs);
      this.followTimer.unref();
    }
    if (intervalSeconds > 0) {
      this.digestTimer = setInterval(() => run('digest', () => this.publish()), intervalSeconds * 1000);
      this.digestTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.followTimer);
    clearInterval(this.digestTimer);
    await this.background;
  }
}
