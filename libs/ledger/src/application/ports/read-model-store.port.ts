/**
 * The read-model store port (DESIGN.md "Read-model store"): documents per collection, the filters and
 * sorts the queries need, and one checkpoint per projection that commits atomically with the changes it
 * covers. Adapters: embedded SQLite (libs/read-store/src/sqlite) and MongoDB; both pass the contract suite
 * in libs/read-store/src/contract.
 */

/** A read-model document: plain JSON with an id unique within its collection. */
export type ReadDocument = { id: string } & Record<string, unknown>;

/** Values an indexed field may hold; filters and sorts work on these only. */
export type IndexedValue = string | number | boolean | null;

export interface CollectionSpec {
  /** `[a-z][a-z0-9_]*`, unique across projections. */
  name: string;
  /** Top-level scalar fields that filters and sorts use; the adapter indexes each (`id` always is). */
  indexes: readonly string[];
  /**
   * The indexed field lists are usually sorted by (issues: `openedAt`). Adapters index every other field
   * together with it, so that a filter plus this sort reads one index in order, whatever the filter's
   * selectivity, instead of sorting the matches.
   */
  sortedBy?: string;
  /**
   * For the projector, ignored by stores: each document is a pure function of the one event that writes
   * it and never changes afterwards (a timeline entry). The projector never reads them back; applying the
   * event again writes the same content, which changes nothing.
   */
  writeOnce?: boolean;
}

export interface DocumentKey {
  collection: string;
  id: string;
}

/** The new version of a document; `doc: null` deletes it. */
export interface DocumentChange extends DocumentKey {
  doc: ReadDocument | null;
}

/** Equality, membership, or a range (bounds combine: `{ gte, lt }`). Only on indexed fields and `id`. */
export type FieldFilter =
  | IndexedValue
  | { in: readonly IndexedValue[] }
  | { gt?: IndexedValue; gte?: IndexedValue; lt?: IndexedValue; lte?: IndexedValue };

export interface ListQuery {
  where?: Readonly<Record<string, FieldFilter>>;
  /** Ties are broken by `id` in the same direction, so pages never skip or repeat. */
  orderBy: { field: string; direction: 'asc' | 'desc' };
  /** 1..1000 */
  limit: number;
  /** Opaque, from the previous page's `nextCursor`, for the same where and orderBy. */
  cursor?: string;
}

export interface Page {
  items: ReadDocument[];
  /** null on the last page. */
  nextCursor: string | null;
}

/** One projection's batch: its changes and the checkpoint move they cover. */
export interface ProjectionCommit {
  projection: string;
  from: bigint;
  to: bigint;
  changes: readonly DocumentChange[];
}

/** Where a projection stands; position -1n: nothing applied yet. */
export interface ProjectionCheckpoint {
  projection: string;
  position: bigint;
}

export interface ReadModelStore {
  /** Creates the collections and their indexes if missing (idempotent). */
  ensureCollections(specs: readonly CollectionSpec[]): Promise<void>;
  /** The position of the last event the projection has applied; -1n before the first. */
  checkpoint(projection: string): Promise<bigint>;
  /**
   * Writes `changes` (in order; a later change of the same document wins) and moves the projection's
   * checkpoint from `from` to `to` in one transaction. Refuses with CheckpointMismatchError, writing
   * nothing, when the stored checkpoint is not `from`: a batch can never be applied twice, even by two
   * projector processes racing.
   */
  commit(projection: string, from: bigint, to: bigint, changes: readonly DocumentChange[]): Promise<void>;
  /**
   * Several projections' commits, each exactly as commit() would apply it: atomic on its own, refused
   * alone (writing nothing of it) when its checkpoint moved, without affecting the others. Answers each
   * one's error, or null. An adapter may share one transaction among them (the SQLite one does: the
   * projector then takes the write lock and writes the WAL once per batch for all projections); the
   * MongoDB one may equally run them one after another.
   */
  commitTogether(commits: readonly ProjectionCommit[]): Promise<(Error | null)[]>;
  get(collection: string, id: string): Promise<ReadDocument | null>;
  /** The documents that exist among `ids`, by id. */
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>>;
  list(collection: string, query: ListQuery): Promise<Page>;
  /** Every matching document in order (no page cap), read in pages internally: CSV exports. */
  scan(collection: string, query: Omit<ListQuery, 'limit' | 'cursor'>): AsyncIterable<ReadDocument>;
  /**
   * Fresh, empty storage for one projection's collections, with a checkpoint of its own at -1n, invisible
   * to every reader of this store until promoted. A rebuild fills it while the live generation keeps
   * serving; compare it with the live documents; then promote() or discard().
   */
  stage(projection: string, specs: readonly CollectionSpec[]): Promise<StagedReadModels>;
  close(): Promise<void>;
}

/** Storage being rebuilt: the same reads and commits as the store, on the staged generation only. */
export interface StagedReadModels extends Pick<
  ReadModelStore,
  'checkpoint' | 'commit' | 'get' | 'getMany' | 'list' | 'scan'
> {
  /** Relaxed durability is allowed here (a crashed rebuild is simply started again). */
  readonly projection: string;
  /**
   * Atomically makes the staged collections and checkpoint the live ones and drops the old generation.
   * A live projector's next commit then fails with CheckpointMismatchError and resumes from the new
   * checkpoint.
   */
  promote(): Promise<void>;
  /** Drops the staged generation. */
  discard(): Promise<void>;
}

export const READ_MODEL_STORE = Symbol('ReadModelStore');

export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError';
  constructor(
    readonly projection: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`Projection ${projection} is at position ${actual}, not ${expected}; the batch was not applied`);
  }
}

/** A filter or sort on a field the collection does not index, or an unknown collection. */
export class InvalidReadQueryError extends Error {
  override readonly name = 'InvalidReadQueryError';
}
