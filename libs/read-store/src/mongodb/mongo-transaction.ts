import type { ClientSession, Db, MongoClient, TransactionOptions } from 'mongodb';
import { classifyMongoError } from './mongo-errors';

/**
 * Every transaction reads a snapshot and commits with majority write concern: a commit acknowledged here
 * survives a failover, and what it read inside is what its guarded updates then change.
 */
const TRANSACTION: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/**
 * Runs `work` in a transaction that the driver retries on transient errors (a write conflict with a racing
 * writer, a failover) and whose commit it retries on an unknown result. `work` must only read and write
 * through the session, and compute nothing it keeps outside: it may run more than once.
 */
export async function inTransaction<T>(
  client: MongoClient,
  work: (session: ClientSession) => Promise<T>,
): Promise<T> {
  const session = client.startSession();
  try {
    return await session.withTransaction(work, TRANSACTION);
  } catch (error) {
    if (classifyMongoError(error) === 'not-a-replica-set') {
      throw new Error(
        'MongoDB refused a transaction: the ledger needs a replica set (a single-member one will do), ' +
          'not a standalone server',
        { cause: error },
      );
    }
    throw error;
  } finally {
    await session.endSession();
  }
}

/**
 * Collections a transaction writes are made before it: creating one inside a transaction needs MongoDB 4.4
 * or later, and DDL there takes locks that conflict with concurrent transactions.
 */
export async function createCollectionIfMissing(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (error) {
    if (classifyMongoError(error) !== 'namespace-exists') throw error;
  }
}
