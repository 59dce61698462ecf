import { MongoClient, type ClientSession, type Collection, type Db } from 'mongodb';
import {
  CheckpointMismatchError,
  InvalidReadQueryError,
  type CollectionSpec,
  type DocumentChange,
  type ListQuery,
  type Page,
  type ProjectionCommit,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '@app/ledger';
import { StagedGenerationGoneError } from '../sqlite/sqlite-read-model-store';
import {
  documentWrites,
  prepareChanges,
  storageName,
  toReadDocument,
  validateSpecs,
  type PreparedChange,
  type StoredDocument,
} from './mongo-documents';
import { classifyMongoError } from './mongo-errors';
import { createCollectionIfMissing, inTransaction } from './mongo-transaction';
import {
  COLLECTION_NAME,
  compileQuery,
  decodeCursor,
  encodeCursor,
  indexKeys,
  pageFilter,
  sortSpec,
  sortValueOf,
  validateLimit,
  type QueryTarget,
  type SortKey,
} from './mongo-query';

export interface MongoReadModelStoreOptions {
  /** Documents read per query while scan() walks a collection. */
  scanPageSize?: number;
  /**
   * How long the collections of a generation replaced by promote() are kept before they are dropped, so
   * that a read which resolved the old generation just before the swap still finds its collection.
   */
  retiredGenerationGraceMs?: number;
  /** Close the client in close(); set when the store opened it. */
  closeClient?: boolean;
}

const DEFAULT_SCAN_PAGE_SIZE = 500;
const DEFAULT_RETIRED_GRACE_MS = 60_000;

/** The registry: each collection's live generation and indexed fields. */
interface RegistryDocument {
  _id: string;
  generation: number;
  indexes: string[];
  sortedBy?: string;
}

/** One projection's live checkpoint; positions are 64-bit integers (`useBigInt64`). */
interface CheckpointDocument {
  _id: string;
  position: bigint;
}

/** A generation being rebuilt for one projection, with its own checkpoint. */
interface StagedDocument {
  _id: string;
  generation: number;
  position: bigint;
  collections: CollectionSpec[];
}

interface CounterDocument {
  _id: string;
  value: number;
}

/** A replaced generation's collection, dropped once `since` is older than the grace period. */
interface RetiredDocument {
  _id: string;
  since: Date;
}

/** A collection's storage in one generation. */
interface CollectionRef extends QueryTarget {
  storage: string;
}

/** A document already holds a write from a later position than this batch: the batch is stale. */
export class DocumentPositionGuardError extends Error {
  override readonly name = 'DocumentPositionGuardError';
  constructor(
    readonly projection: string,
    readonly to: bigint,
    readonly collection: string,
  ) {
    super(
      `Projection ${projection}: a document of ${collection} was written after position ${to}; the batch ` +
        'was not applied',
    );
  }
}

const invalid = (message: string) => new InvalidReadQueryError(message);

/** A registry entry as read back: checked, since its generation and fields name collections and paths. */
function checkedRegistry(stored: RegistryDocument): RegistryDocument {
  const { generation, indexes } = stored;
  if (
    !Number.isSafeInteger(generation) ||
    generation < 0 ||
    !Array.isArray(indexes) ||
    !indexes.every((field) => typeof field === 'string')
  ) {
    throw new Error(`The registry entry of ${stored._id} holds no generation or field list`);
  }
  return stored;
}

/** The connection shared by a store and the generations it stages. */
class Connection {
  closed = false;
  readonly registry: Collection<RegistryDocument>;
  readonly checkpoints: Collection<CheckpointDocument>;
  readonly staged: Collection<StagedDocument>;
  readonly counters: Collection<CounterDocument>;
  readonly retired: Collection<RetiredDocument>;

  constructor(
    readonly client: MongoClient,
    readonly db: Db,
  ) {
    this.registry = db.collection<RegistryDocument>('rm_collections');
    this.checkpoints = db.collection<CheckpointDocument>('rm_checkpoints');
    this.staged = db.collection<StagedDocument>('rm_staged');
    this.counters = db.collection<CounterDocument>('rm_meta');
    this.retired = db.collection<RetiredDocument>('rm_retired');
  }

  private meta: Promise<void> | undefined;

  /**
   * The bookkeeping collections, created once per connection before first use: transactions then only
   * write to collections that exist (creating one inside a transaction needs MongoDB 4.4 or later).
   */
  ensureMeta(): Promise<void> {
    this.meta ??= (async () => {
      for (const collection of [this.registry, this.checkpoints, this.staged, this.counters, this.retired]) {
        await this.createStorage(collection.collectionName, { indexes: [] });
      }
    })().catch((error: unknown) => {
      this.meta = undefined;
      throw error;
    });
    return this.meta;
  }

  documents(storage: string): Collection<StoredDocument> {
    return this.db.collection<StoredDocument>(storage);
  }

  assertOpen(): void {
    if (this.closed) throw new Error('The read-model store is closed');
  }

  /** See inTransaction: `work` may run more than once, so it only reads and writes through the session. */
  async transaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T> {
    this.assertOpen();
    await this.ensureMeta();
    return inTransaction(this.client, work);
  }

  /** Creates a collection and its indexes if missing; createIndexes is a no-op for existing ones. */
  async createStorage(storage: string, spec: Pick<CollectionSpec, 'indexes' | 'sortedBy'>): Promise<void> {
    await createCollectionIfMissing(this.db, storage);
    const keys = indexKeys(spec.indexes, spec.sortedBy);
    if (keys.length > 0) await this.documents(storage).createIndexes(keys.map((key) => ({ key })));
  }

  async dropStorage(storage: string): Promise<void> {
    try {
      await this.db.dropCollection(storage);
    } catch (error) {
      if (classifyMongoError(error) !== 'namespace-not-found') throw error;
    }
  }

  /** Drops a staged generation's collections, named from its entry only once the entry is checked. */
  async dropStaged(staged: StagedDocument): Promise<void> {
    const { generation, collections } = staged;
    if (!Number.isSafeInteger(generation) || !Array.isArray(collections)) {
      throw new Error(`The staged entry of ${staged._id} holds no generation or collection list`);
    }
    for (const spec of collections) {
      if (typeof spec?.name !== 'string' || !COLLECTION_NAME.test(spec.name)) {
        throw new Error(`The staged entry of ${staged._id} names a collection that is not a read-model one`);
      }
      await this.dropStorage(storageName(spec.name, generation));
    }
  }

  /** Generation numbers are never reused, so a stale staged handle can never match a newer stage. */
  async nextGeneration(): Promise<number> {
    const counter = await this.counters.findOneAndUpdate(
      { _id: 'last_generation' },
      { $inc: { value: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    if (counter === null || typeof counter.value !== 'number') {
      throw new Error('MongoDB answered no generation counter after an upsert');
    }
    return counter.value;
  }

  /** Drops the replaced generations whose grace period is over. */
  async sweepRetired(graceMs: number): Promise<void> {
    const before = new Date(Date.now() - graceMs);
    for (const retired of await this.retired.find({ since: { $lte: before } }).toArray()) {
      await this.dropStorage(retired._id);
      await this.retired.deleteOne({ _id: retired._id, since: retired.since });
    }
  }
}

/** Reads and commits over one generation's collections and checkpoint: the live one, or a staged one. */
abstract class MongoReadModels {
  private readonly scanPageSize: number;

  protected constructor(
    protected readonly connection: Connection,
    options: MongoReadModelStoreOptions,
  ) {
    this.scanPageSize = options.scanPageSize ?? DEFAULT_SCAN_PAGE_SIZE;
    if (!Number.isInteger(this.scanPageSize) || this.scanPageSize < 1) {
      throw new RangeError(`scanPageSize is a positive integer, not ${this.scanPageSize}`);
    }
  }

  /** Where `collection` is stored (read through `session` inside a transaction); InvalidReadQueryError if unknown. */
  protected abstract resolve(collection: string, session?: ClientSession): Promise<CollectionRef>;
  protected abstract readCheckpoint(projection: string, session?: ClientSession): Promise<bigint>;
  /** The guarded move of the checkpoint: false when it matched nothing (the checkpoint moved). */
  protected abstract moveCheckpoint(
    projection: string,
    from: bigint,
    to: bigint,
    session: ClientSession,
  ): Promise<boolean>;

  async checkpoint(projection: string): Promise<bigint> {
    this.connection.assertOpen();
    return this.readCheckpoint(projection);
  }

  async commit(
    projection: string,
    from: bigint,
    to: bigint,
    changes: readonly DocumentChange[],
  ): Promise<void> {
    const prepared = prepareChanges(changes);
    await this.connection.transaction((session) =>
      this.commitIn(session, { projection, from, to }, prepared),
    );
  }

  /** One transaction per commit, one after another, as the port allows. */
  async commitTogether(commits: readonly ProjectionCommit[]): Promise<(Error | null)[]> {
    const errors: (Error | null)[] = [];
    for (const { projection, from, to, changes } of commits) {
      try {
        await this.commit(projection, from, to, changes);
        errors.push(null);
      } catch (error) {
        errors.push(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return errors;
  }

  /**
   * Inside the transaction, and free of side effects (the driver may run it again): the checkpoint check,
   * its guarded move, then the documents, each guarded by its own position.
   */
  private async commitIn(
    session: ClientSession,
    { projection, from, to }: Pick<ProjectionCommit, 'projection' | 'from' | 'to'>,
    changes: readonly PreparedChange[],
  ): Promise<void> {
    const actual = await this.readCheckpoint(projection, session);
    if (actual !== from) throw new CheckpointMismatchError(projection, from, actual);
    // Moved first: a racing commit of the same projection then conflicts here, before any document.
    if (!(await this.moveCheckpoint(projection, from, to, session))) {
      throw new CheckpointMismatchError(projection, from, await this.readCheckpoint(projection, session));
    }
    const byCollection = new Map<string, PreparedChange[]>();
    for (const change of changes) {
      const list = byCollection.get(change.collection) ?? [];
      list.push(change);
      byCollection.set(change.collection, list);
    }
    for (const [collection, list] of byCollection) {
      const target = await this.resolve(collection, session);
      const operations = documentWrites(target, list, to);
      try {
        await this.connection.documents(target.storage).bulkWrite(operations, { session, ordered: true });
      } catch (error) {
        if (classifyMongoError(error) === 'duplicate-key') {
          throw new DocumentPositionGuardError(projection, to, collection);
        }
        throw error;
      }
    }
  }

  async get(collection: string, id: string): Promise<ReadDocument | null> {
    this.connection.assertOpen();
    const target = await this.resolve(collection);
    const stored = await this.connection.documents(target.storage).findOne({ _id: { $eq: id } });
    return stored ? toReadDocument(stored.d, `${collection}/${id}`) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, ReadDocument>> {
    this.connection.assertOpen();
    const target = await this.resolve(collection);
    const found = new Map<string, ReadDocument>();
    if (ids.length === 0) return found;
    const cursor = this.connection.documents(target.storage).find({ _id: { $in: [...new Set(ids)] } });
    for await (const stored of cursor)
      found.set(stored._id, toReadDocument(stored.d, `${collection}/${stored._id}`));
    return found;
  }

  async list(collection: string, query: ListQuery): Promise<Page> {
    this.connection.assertOpen();
    const limit = validateLimit(query.limit);
    const target = await this.resolve(collection);
    const compiled = compileQuery(target, query);
    const after = query.cursor == null ? null : decodeCursor(query.cursor, compiled);
    // One document more than asked: whether a next page exists, without an empty last page.
    const documents = await this.fetch(target, compiled, after, limit + 1);
    const items = documents.slice(0, limit);
    if (documents.length <= limit) return { items, nextCursor: null };
    const last = items[limit - 1];
    return {
      items,
      nextCursor: encodeCursor(compiled, { value: sortValueOf(last, compiled.field), id: last.id }),
    };
  }

  /** Page by page; each page resolves the generation again, so a promote between pages is followed. */
  async *scan(collection: string, query: Omit<ListQuery, 'limit' | 'cursor'>): AsyncGenerator<ReadDocument> {
    let after: SortKey | null = null;
    for (;;) {
      this.connection.assertOpen();
      const target = await this.resolve(collection);
      const compiled = compileQuery(target, query);
      const documents = await this.fetch(target, compiled, after, this.scanPageSize);
      yield* documents;
      if (documents.length < this.scanPageSize) return;
      const last = documents[documents.length - 1];
      after = { value: sortValueOf(last, compiled.field), id: last.id };
    }
  }

  private async fetch(
    target: CollectionRef,
    compiled: ReturnType<typeof compileQuery>,
    after: SortKey | null,
    count: number,
  ): Promise<ReadDocument[]> {
    const stored = await this.connection
      .documents(target.storage)
      .find(pageFilter(compiled, after), { sort: sortSpec(compiled), limit: count, projection: { d: 1 } })
      .toArray();
    return stored.map((document) => toReadDocument(document.d, `${target.collection}/${document._id}`));
  }
}

/**
 * The ReadModelStore port in MongoDB (docs/storage.md, "MongoDB"): one collection per read-model collection
 * and generation, a registry naming each one's live generation, a checkpoint per projection moved in the
 * transaction of the changes it covers, and staged generations for rebuilds. Needs a replica set (a
 * single-member one will do): transactions are refused by a standalone server.
 */
export class MongoReadModelStore extends MongoReadModels implements ReadModelStore {
  private readonly graceMs: number;

  constructor(
    client: MongoClient,
    databaseName: string | undefined,
    private readonly options: MongoReadModelStoreOptions = {},
  ) {
    // 64-bit positions come back as bigint, and `undefined` is never written as null.
    super(
      new Connection(client, client.db(databaseName, { useBigInt64: true, ignoreUndefined: true })),
      options,
    );
    this.graceMs = options.retiredGenerationGraceMs ?? DEFAULT_RETIRED_GRACE_MS;
  }

  /** A store on its own client; close() closes it. The database is the URI's unless one is named. */
  static fromConnectionString(
    uri: string,
    options: MongoReadModelStoreOptions & { databaseName?: string } = {},
  ): MongoReadModelStore {
    const client = new MongoClient(uri, { useBigInt64: true, ignoreUndefined: true });
    return new MongoReadModelStore(client, options.databaseName, { ...options, closeClient: true });
  }

  async ensureCollections(specs: readonly CollectionSpec[]): Promise<void> {
    this.connection.assertOpen();
    const checked = validateSpecs(specs);
    await this.connection.ensureMeta();
    for (const spec of checked) {
      // Indexes are only ever added here ($addToSet: a racing ensure with other fields loses none).
      const registered = await upsertRetryingOnce(() =>
        this.connection.registry.findOneAndUpdate(
          { _id: spec.name },
          {
            $addToSet: { indexes: { $each: [...spec.indexes] } },
            $setOnInsert: { generation: 0 },
            ...(spec.sortedBy === undefined ? {} : { $set: { sortedBy: spec.sortedBy } }),
          },
          { upsert: true, returnDocument: 'after' },
        ),
      );
      if (registered === null) throw new Error(`MongoDB answered no registry entry for ${spec.name}`);
      checkedRegistry(registered);
      await this.connection.createStorage(storageName(spec.name, registered.generation), {
        indexes: registered.indexes,
        sortedBy: registered.sortedBy,
      });
    }
    await this.connection.sweepRetired(this.graceMs);
  }

  async stage(projection: string, specs: readonly CollectionSpec[]): Promise<StagedReadModels> {
    this.connection.assertOpen();
    const checked = validateSpecs(specs);
    await this.connection.ensureMeta();
    const generation = await this.connection.nextGeneration();
    for (const spec of checked) await this.connection.createStorage(storageName(spec.name, generation), spec);
    // Replaces an earlier rebuild that crashed or was abandoned; its handle now fails, its storage goes.
    const previous = await this.connection.staged.findOneAndReplace(
      { _id: projection },
      { generation, position: -1n, collections: checked },
      { upsert: true, returnDocument: 'before' },
    );
    if (previous !== null) await this.connection.dropStaged(previous);
    return new MongoStagedReadModels(this.connection, projection, generation, checked, this.options);
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    this.connection.closed = true;
    if (this.options.closeClient) await this.connection.client.close();
  }

  protected async resolve(collection: string, session?: ClientSession): Promise<CollectionRef> {
    const registered =
      typeof collection === 'string' && COLLECTION_NAME.test(collection)
        ? await this.connection.registry.findOne({ _id: collection }, { session })
        : null;
    if (registered === null) throw invalid(`Unknown collection ${JSON.stringify(collection)}`);
    checkedRegistry(registered);
    return {
      collection,
      storage: storageName(collection, registered.generation),
      indexes: registered.indexes,
    };
  }

  protected async readCheckpoint(projection: string, session?: ClientSession): Promise<bigint> {
    const stored = await this.connection.checkpoints.findOne({ _id: projection }, { session });
    return stored === null ? -1n : toPosition(stored.position, projection);
  }

  protected async moveCheckpoint(
    projection: string,
    from: bigint,
    to: bigint,
    session: ClientSession,
  ): Promise<boolean> {
    // Before the first commit there is no checkpoint document (-1): the upsert inserts it, and a racing
    // first commit conflicts on its _id. Otherwise the update matches only the position it moves from.
    const result = await this.connection.checkpoints.updateOne(
      { _id: projection, position: from },
      { $set: { position: to } },
      { upsert: from === -1n, session },
    );
    return result.matchedCount === 1 || result.upsertedCount === 1;
  }
}

/** Positions are written as bigint; anything else read back is refused rather than misread. */
function toPosition(value: unknown, projection: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new Error(`The checkpoint of ${projection} holds ${typeof value}, not a 64-bit integer`);
}

/** Two upserts of the same new _id may race: the loser gets a duplicate key, and the retry finds it. */
async function upsertRetryingOnce<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (classifyMongoError(error) !== 'duplicate-key') throw error;
    return work();
  }
}

class MongoStagedReadModels extends MongoReadModels implements StagedReadModels {
  private readonly specs: Map<string, CollectionSpec>;
  private readonly graceMs: number;

  constructor(
    connection: Connection,
    readonly projection: string,
    private readonly generation: number,
    specs: readonly CollectionSpec[],
    options: MongoReadModelStoreOptions,
  ) {
    super(connection, options);
    this.specs = new Map(specs.map((spec) => [spec.name, spec]));
    this.graceMs = options.retiredGenerationGraceMs ?? DEFAULT_RETIRED_GRACE_MS;
  }

  /**
   * One transaction: the registry points at the staged collections, the live checkpoint takes the staged
   * position, the staged entry goes. Readers see the old generation or the new one, never a mix; the old
   * collections are dropped after the grace period (collection drops are not transactional).
   */
  async promote(): Promise<void> {
    await this.connection.transaction(async (session) => {
      const staged = await this.current(session);
      for (const spec of this.specs.values()) {
        const live = await this.connection.registry.findOne({ _id: spec.name }, { session });
        await this.connection.registry.replaceOne(
          { _id: spec.name },
          spec.sortedBy === undefined
            ? { generation: this.generation, indexes: [...spec.indexes] }
            : { generation: this.generation, indexes: [...spec.indexes], sortedBy: spec.sortedBy },
          { upsert: true, session },
        );
        if (live !== null && live.generation !== this.generation) {
          await this.connection.retired.replaceOne(
            { _id: storageName(spec.name, live.generation) },
            { since: new Date() },
            { upsert: true, session },
          );
        }
      }
      await this.connection.checkpoints.replaceOne(
        { _id: this.projection },
        { position: staged.position },
        { upsert: true, session },
      );
      await this.connection.staged.deleteOne(
        { _id: this.projection, generation: this.generation },
        { session },
      );
    });
    await this.connection.sweepRetired(this.graceMs);
  }

  async discard(): Promise<void> {
    this.connection.assertOpen();
    const removed = await this.connection.staged.findOneAndDelete({
      _id: this.projection,
      generation: this.generation,
    });
    if (removed !== null) await this.connection.dropStaged(removed);
  }

  protected async resolve(collection: string, session?: ClientSession): Promise<CollectionRef> {
    await this.current(session);
    const spec = this.specs.get(collection);
    if (!spec) throw invalid(`Collection ${JSON.stringify(collection)} is not staged for ${this.projection}`);
    return { collection, storage: storageName(collection, this.generation), indexes: spec.indexes };
  }

  protected async readCheckpoint(projection: string, session?: ClientSession): Promise<bigint> {
    this.assertProjection(projection);
    return (await this.current(session)).position;
  }

  protected async moveCheckpoint(
    projection: string,
    from: bigint,
    to: bigint,
    session: ClientSession,
  ): Promise<boolean> {
    this.assertProjection(projection);
    const result = await this.connection.staged.updateOne(
      { _id: projection, generation: this.generation, position: from },
      { $set: { position: to } },
      { session },
    );
    return result.matchedCount === 1;
  }

  private async current(session?: ClientSession): Promise<{ position: bigint }> {
    const staged = await this.connection.staged.findOne({ _id: this.projection }, { session });
    if (staged === null || staged.generation !== this.generation) {
      throw new StagedGenerationGoneError(this.projection, this.generation);
    }
    return { position: toPosition(staged.position, this.projection) };
  }

  private assertProjection(projection: string): void {
    if (projection !== this.projection) {
      throw new Error(`This staged generation belongs to ${this.projection}, not ${projection}`);
    }
  }
}
