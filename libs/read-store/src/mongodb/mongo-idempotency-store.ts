import { randomBytes } from 'node:crypto';
import { Binary, type Collection, type Db, type WriteConcernSettings } from 'mongodb';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from '@app/ledger';
import { classifyMongoError, isDuplicateKey } from './mongo-errors';
import {
  toIdempotencyRecord,
  toStoredIdempotencyRecord,
  type StoredClaim,
  type StoredIdempotencyRecord,
} from './mongo-records';

interface StoredFingerprintKey {
  _id: string;
  secret: Binary;
  createdAt: string;
}

const FINGERPRINT_KEY_ID = 'fingerprint';
const FINGERPRINT_KEY_BYTES = 32;
/** Acknowledged by a majority: a record or claim a replica saw written survives a failover. */
const MAJORITY: WriteConcernSettings = { w: 'majority' };

/**
 * Idempotency records and claims in MongoDB (docs/storage.md, "MongoDB"), for a ledger whose events are
 * not in the embedded store: with events in SQLite the records stay there, written in the append's
 * transaction. The scope is each document's _id, so the unique index every collection has on _id is the
 * one that lets a scope be written once and claimed by one holder at a time.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly records: Collection<StoredIdempotencyRecord>;
  private readonly claims: Collection<StoredClaim>;
  private readonly keys: Collection<StoredFingerprintKey>;

  constructor(db: Db) {
    this.records = db.collection<StoredIdempotencyRecord>('idempotency', { writeConcern: MAJORITY });
    this.claims = db.collection<StoredClaim>('idempotency_claims', { writeConcern: MAJORITY });
    this.keys = db.collection<StoredFingerprintKey>('idempotency_fingerprint_key', {
      writeConcern: MAJORITY,
    });
  }

  async get(scope: string): Promise<IdempotencyRecord | null> {
    const stored = await this.records.findOne({ _id: { $eq: scope } });
    return stored === null ? null : toIdempotencyRecord(stored);
  }

  async put(record: IdempotencyRecord): Promise<boolean> {
    try {
      await this.records.insertOne(toStoredIdempotencyRecord(record));
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /**
   * One guarded upsert: it matches the scope's claim only once expired (and takes it over); a free scope is
   * inserted; a live claim makes the upsert's insert collide on _id, which means "taken".
   */
  async claim({ scope, holder, expiresAt }: IdempotencyClaim, now: string): Promise<boolean> {
    try {
      await this.claims.updateOne(
        // A plain equality on _id: an upsert seeds the new document from it.
        { _id: scope, expiresAt: { $lte: now } },
        { $set: { holder, expiresAt } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if (classifyMongoError(error) === 'duplicate-key') return false;
      throw error;
    }
  }

  async release(scope: string, holder: string): Promise<void> {
    await this.claims.deleteOne({ _id: { $eq: scope }, holder: { $eq: holder } });
  }

  /** 32 random bytes made by whichever process asks first; the others read that document. */
  async fingerprintKey(): Promise<Uint8Array> {
    const stored = await this.keys.findOne({ _id: FINGERPRINT_KEY_ID });
    if (stored !== null) return secretOf(stored);
    try {
      await this.keys.insertOne({
        _id: FINGERPRINT_KEY_ID,
        secret: new Binary(randomBytes(FINGERPRINT_KEY_BYTES)),
        createdAt: new Date().toISOString(),
      });
    } catch (error) {
      // Another process made it first: theirs is the key.
      if (!isDuplicateKey(error)) throw error;
    }
    const made = await this.keys.findOne({ _id: FINGERPRINT_KEY_ID });
    if (made === null) throw new Error('The idempotency fingerprint key was written but cannot be read back');
    return secretOf(made);
  }
}

function secretOf(stored: { secret: unknown }): Uint8Array {
  const { secret } = stored;
  if (!(secret instanceof Binary) || secret.length() !== FINGERPRINT_KEY_BYTES) {
    throw new Error(`The idempotency fingerprint key is not ${FINGERPRINT_KEY_BYTES} bytes of binary data`);
  }
  return new Uint8Array(secret.value());
}
