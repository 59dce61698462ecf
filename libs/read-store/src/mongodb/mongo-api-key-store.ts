import type { Collection, Db, WriteConcernSettings } from 'mongodb';
import type { ApiKeyRecord, ApiKeyStore } from '@app/ledger';
import { BoundedCache } from './bounded-cache';
import { toApiKeyRecord, toStoredApiKey, type StoredApiKey } from './mongo-records';

export interface MongoApiKeyStoreOptions {
  /**
   * How long a key read from MongoDB is served from this process's memory: also how long a key revoked by
   * another replica stays usable here (docs/storage.md, "MongoDB"). 0 turns the cache off.
   */
  cacheTtlMs?: number;
  /** Keys held at most; the least recently used go first. */
  cacheMaxEntries?: number;
}

export const DEFAULT_API_KEY_CACHE_TTL_MS = 5_000;
const DEFAULT_API_KEY_CACHE_ENTRIES = 1_000;
const MAJORITY: WriteConcernSettings = { w: 'majority' };

/**
 * API keys in MongoDB: _id is the key's id, a unique index on the secret hash. Every request looks its key
 * up, so lookups are cached (bounded in size and age); this process's own revoke() forgets the key at once,
 * another replica's takes effect here within the cache's time to live. Unknown hashes are not cached: a
 * key created on another replica works here at once.
 */
export class MongoApiKeyStore implements ApiKeyStore {
  private readonly keys: Collection<StoredApiKey>;
  private readonly cache: BoundedCache<string, ApiKeyRecord>;
  private indexes: Promise<void> | undefined;

  constructor(db: Db, options: MongoApiKeyStoreOptions = {}) {
    this.keys = db.collection<StoredApiKey>('api_keys', { writeConcern: MAJORITY });
    this.cache = new BoundedCache(
      options.cacheMaxEntries ?? DEFAULT_API_KEY_CACHE_ENTRIES,
      options.cacheTtlMs ?? DEFAULT_API_KEY_CACHE_TTL_MS,
    );
  }

  /** The unique index on the secret hash, made once per store before the first insert. */
  ensureIndexes(): Promise<void> {
    this.indexes ??= this.keys
      .createIndex({ secretHash: 1 }, { unique: true, name: 'secretHash_unique' })
      .then(() => undefined)
      .catch((error: unknown) => {
        this.indexes = undefined;
        throw error;
      });
    return this.indexes;
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.ensureIndexes();
    // A duplicate id or secret hash is refused by a unique index (MongoServerError 11000).
    await this.keys.insertOne(toStoredApiKey(record));
  }

  async findBySecretHash(secretHash: string): Promise<ApiKeyRecord | null> {
    const cached = this.cache.get(secretHash);
    if (cached !== undefined) return cached;
    const stored = await this.keys.findOne({ secretHash: { $eq: secretHash } });
    if (stored === null) return null;
    const record = toApiKeyRecord(stored);
    this.cache.set(secretHash, record);
    return record;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const stored = await this.keys.find({}, { sort: { createdAt: 1, _id: 1 } }).toArray();
    return stored.map(toApiKeyRecord);
  }

  async revoke(id: string, revokedAt: string): Promise<boolean> {
    const result = await this.keys.updateOne({ _id: { $eq: id }, revokedAt: null }, { $set: { revokedAt } });
    this.cache.deleteWhere((record) => record.id === id);
    return result.modifiedCount === 1;
  }

  async count(): Promise<number> {
    return this.keys.countDocuments({});
  }
}
