import {
  CheckpointMismatchError,
  type DocumentChange,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '../../application/ports/read-model-store.port';

const keyOf = (collection: string, id: string) => `${collection}\u0000${id}`;

/**
 * A rebuild's target over a staged generation that holds the commits of several batches in memory and
 * writes them as one commit when `flush()` is called: the last version of each document once, with the
 * checkpoint of the last batch. Reads see the held documents first, so the batches apply exactly as
 * they would one commit at a time. A parallel rebuild flushes when the write lock is free instead of
 * waiting for it (docs/projections.md); a crash loses only staged work, which a rebuild starts again.
 */
export class DeferredCommits implements Pick<ReadModelStore, 'checkpoint' | 'commit' | 'getMany'> {
  private readonly held = new Map<string, DocumentChange>();
  /** Write-once documents: never read back, each written by its one event, so not keyed. */
  private readonly appended: DocumentChange[] = [];
  private position: bigint | undefined;
  private written: bigint | undefined;

  constructor(
    private readonly staged: StagedReadModels,
    private readonly writeOnce: ReadonlySet<string> = new Set(),
  ) {}

  /** Documents held for the next flush. */
  get size(): number {
    return this.held.size + this.appended.length;
  }

  async checkpoint(projection: string): Promise<bigint> {
    if (this.position === undefined) {
      this.position = this.written = await this.staged.checkpoint(projection);
    }
    return this.position;
  }

  async commit(
    projection: string,
    from: bigint,
    to: bigint,
    changes: readonly DocumentChange[],
  ): Promise<void> {
    const position = await this.checkpoint(projection);
    if (from !== position) throw new CheckpointMismatchError(projection, from, position);
    for (const change of changes) {
      if (this.writeOnce.has(change.collection)) {
        this.appended.push(change);
        continue;
      }
      const key = keyOf(change.collection, change.id);
      this.held.delete(key);
      this.held.set(key, change);
    }
    this.position = to;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    const found = new Map<string, ReadDocument>();
    const missing: string[] = [];
    for (const id of ids) {
      const change = this.held.get(keyOf(collection, id));
      if (change === undefined) missing.push(id);
      else if (change.doc !== null) found.set(id, change.doc);
    }
    if (missing.length > 0) {
      for (const [id, doc] of await this.staged.getMany(collection, missing)) found.set(id, doc);
    }
    return found;
  }

  /** Writes what is held, and the checkpoint it reached, in one commit of the staged generation. */
  async flush(): Promise<void> {
    if (this.position === undefined) return;
    if (this.position === this.written && this.size === 0) return;
    const changes = [...this.held.values(), ...this.appended];
    await this.staged.commit(this.staged.projection, this.written!, this.position, changes);
    this.held.clear();
    this.appended.length = 0;
    this.written = this.position;
  }
}
