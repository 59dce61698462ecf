import type { AnyBulkWriteOperation } from 'mongodb';
import type { CollectionSpec, DocumentChange, ReadDocument } from '@app/ledger';
import { COLLECTION_NAME, FIELD_NAME, isIndexedValue, type QueryTarget } from './mongo-query';

/**
 * Read-model documents as the MongoDB read-model store writes them: specs checked, a batch's changes made
 * ready before its transaction, and the guarded writes of one collection. Pure, unit-tested.
 */

/** A read-model document as stored: `d` the document, `p` the position of the commit that last wrote it. */
export interface StoredDocument {
  _id: string;
  d: ReadDocument;
  p: bigint;
}

/** A document change made ready before the transaction: JSON-normalised, checked, later ones winning. */
export interface PreparedChange {
  collection: string;
  id: string;
  doc: ReadDocument | null;
}

export const storageName = (collection: string, generation: number) => `rm_${collection}__g${generation}`;

export function validateSpecs(specs: readonly CollectionSpec[]): CollectionSpec[] {
  return specs.map((spec) => {
    if (!COLLECTION_NAME.test(spec.name)) {
      throw new Error(`Collection name ${JSON.stringify(spec.name)} does not match ${COLLECTION_NAME}`);
    }
    const indexes = [...new Set(spec.indexes.filter((field) => field !== 'id'))];
    for (const field of indexes) {
      if (!FIELD_NAME.test(field)) {
        throw new Error(
          `Indexed field ${JSON.stringify(field)} of ${spec.name} does not match ${FIELD_NAME}`,
        );
      }
    }
    if (spec.sortedBy !== undefined && !indexes.includes(spec.sortedBy)) {
      throw new Error(`${spec.name} is sorted by ${JSON.stringify(spec.sortedBy)}, which it does not index`);
    }
    return spec.sortedBy === undefined
      ? { name: spec.name, indexes }
      : { name: spec.name, indexes, sortedBy: spec.sortedBy };
  });
}

/**
 * The changes as the SQLite adapter stores them (a JSON round trip: `undefined` dropped, dates as strings),
 * one per document with the last one winning, in first-seen order.
 */
export function prepareChanges(changes: readonly DocumentChange[]): PreparedChange[] {
  const latest = new Map<string, PreparedChange>();
  for (const change of changes) {
    let doc: ReadDocument | null = null;
    if (change.doc !== null) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(JSON.stringify(change.doc));
      } catch (error) {
        throw new Error(
          `Document ${change.collection}/${change.id} is not JSON: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      doc = toReadDocument(parsed, `${change.collection}/${change.id}`);
      if (doc.id !== change.id) {
        throw new Error(`Document ${change.collection}/${change.id} carries id ${JSON.stringify(doc.id)}`);
      }
    }
    const key = JSON.stringify([change.collection, change.id]);
    latest.delete(key);
    latest.set(key, { collection: change.collection, id: change.id, doc });
  }
  return [...latest.values()];
}

/** Checks what comes back from the server (or a caller) is a read-model document, not just assumes it. */
export function toReadDocument(value: unknown, where: string): ReadDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Document ${where} is not an object`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.id !== 'string') throw new Error(`Document ${where} has no string id`);
  return { ...record, id: record.id };
}

export function checkIndexedValues(
  target: QueryTarget,
  change: PreparedChange & { doc: ReadDocument },
): void {
  for (const field of target.indexes) {
    const value = change.doc[field];
    if (value !== undefined && !isIndexedValue(value)) {
      throw new Error(
        `Document ${target.collection}/${change.id}: indexed field ${field} holds a non-scalar value`,
      );
    }
  }
}

/**
 * The writes of one collection's changes, in order, for a commit to position `to`. Each is guarded by the
 * document's own position: a document last written from a later position than `to` is never overwritten
 * or deleted by this batch. Its upsert then collides with the stored document on the _id index (a
 * duplicate key, which the store reports as a stale batch); its delete matches nothing.
 */
export function documentWrites(
  target: QueryTarget,
  changes: readonly PreparedChange[],
  to: bigint,
): AnyBulkWriteOperation<StoredDocument>[] {
  return changes.map((change): AnyBulkWriteOperation<StoredDocument> => {
    const guard = { _id: change.id, p: { $lte: to } };
    if (change.doc === null) return { deleteOne: { filter: guard } };
    checkIndexedValues(target, { ...change, doc: change.doc });
    return { replaceOne: { filter: guard, replacement: { d: change.doc, p: to }, upsert: true } };
  });
}
