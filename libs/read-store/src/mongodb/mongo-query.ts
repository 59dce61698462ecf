import type { Document, Sort } from 'mongodb';
import { InvalidReadQueryError, type FieldFilter, type IndexedValue, type ListQuery } from '@app/ledger';
import {
  decodeCursor as decodeListCursor,
  encodeCursor,
  listQueryShape,
  MAX_LIMIT,
  validateLimit,
} from '../list-query';

/**
 * The ReadModelStore port's queries as MongoDB query documents (docs/storage.md, "MongoDB"). Pure: no
 * driver call, so every mapping is unit-tested without a server.
 *
 * A read-model document is stored as `{ _id: id, d: <the document>, p: <position of its last write> }`:
 * the document under `d` keeps any field name it likes (even `_id` or `p`) without clashing with ours,
 * and the port's field `f` is queried as `d.f`, the port's `id` as `_id`.
 */

export { MAX_LIMIT };
/** As the SQLite adapter: `[a-z][a-z0-9_]*` for collections, plain identifiers (no `.` or `$`) for fields. */
export const COLLECTION_NAME = /^[a-z][a-z0-9_]*$/;
export const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/;
const RANGE_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;

export type Direction = 'asc' | 'desc';

/** The collection a query runs on: its name (for messages) and its indexed fields, `id` excluded. */
export interface QueryTarget {
  collection: string;
  indexes: readonly string[];
}

/** A validated list query: the filter of its `where`, and its order. */
export interface CompiledQuery {
  filter: Document;
  field: string;
  direction: Direction;
}

/** The last document of a page: where the next one starts. */
export interface SortKey {
  value: IndexedValue;
  id: string;
}

const invalid = (message: string) => new InvalidReadQueryError(message);

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function isIndexedValue(value: unknown): value is IndexedValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The stored path of a port field: `id` is the primary key, every other field lives under `d`. */
export const pathOf = (field: string): string => (field === 'id' ? '_id' : `d.${field}`);

function checkedField(target: QueryTarget, field: string, use: string): string {
  if (field === 'id') return field;
  // The name becomes a path: it must be one the spec declared, and of the shape specs are checked for.
  if (typeof field !== 'string' || !FIELD_NAME.test(field) || !target.indexes.includes(field)) {
    throw invalid(
      `Cannot ${use} ${target.collection} by ${JSON.stringify(field)}: indexed fields are id` +
        target.indexes.map((name) => `, ${name}`).join(''),
    );
  }
  return field;
}

function checkedValue(field: string, value: unknown): IndexedValue {
  if (!isIndexedValue(value)) {
    throw invalid(`Filter on ${field}: ${show(value)} is not a string, number, boolean or null`);
  }
  if (field === 'id' && typeof value !== 'string') throw invalid('Filters on id take strings');
  return value;
}

/**
 * One field's filter. Values always go through an operator (`$eq`, `$in`, ...), never as a bare value, so
 * nothing a client sends can be read as an operator. `null` matches null and absent fields (MongoDB's
 * rule, and the port's). Range bounds keep to their own type: MongoDB's type bracketing, which the port
 * specifies.
 */
export function fieldCondition(field: string, filter: FieldFilter): Document {
  if (typeof filter !== 'object' || filter === null) return { $eq: checkedValue(field, filter) };
  if (Array.isArray(filter)) throw invalid(`Filter on ${field}: use { in: [...] } for a list of values`);
  const operators = Object.keys(filter);
  if ('in' in filter) {
    if (operators.length !== 1)
      throw invalid(`Filter on ${field}: "in" does not combine with other operators`);
    if (!Array.isArray(filter.in)) throw invalid(`Filter on ${field}: "in" takes an array`);
    return { $in: filter.in.map((value) => checkedValue(field, value)) };
  }
  const known: readonly string[] = RANGE_OPERATORS;
  if (operators.length === 0 || operators.some((operator) => !known.includes(operator))) {
    throw invalid(
      `Filter on ${field}: unknown operator in ${JSON.stringify(operators)}; use in, gt, gte, lt, lte`,
    );
  }
  const bounds = filter as Partial<Record<(typeof RANGE_OPERATORS)[number], unknown>>;
  const condition: Document = {};
  const kinds = new Set<string>();
  for (const operator of RANGE_OPERATORS) {
    if (!(operator in bounds)) continue;
    const bound = bounds[operator];
    if (typeof bound !== 'string' && !(typeof bound === 'number' && Number.isFinite(bound))) {
      throw invalid(`Filter on ${field}: range bounds are strings or finite numbers, not ${show(bound)}`);
    }
    if (field === 'id' && typeof bound !== 'string') throw invalid('Filters on id take strings');
    kinds.add(typeof bound);
    condition[`$${operator}`] = bound;
  }
  if (kinds.size > 1) throw invalid(`Filter on ${field}: range bounds mix strings and numbers`);
  return condition;
}

/** Validates a list query against the collection's indexes and maps its `where` to a filter. */
export function compileQuery(target: QueryTarget, query: Omit<ListQuery, 'limit' | 'cursor'>): CompiledQuery {
  const { orderBy, where } = listQueryShape(query);
  const field = checkedField(target, orderBy.field, 'sort');
  const filter: Document = {};
  for (const [name, condition] of Object.entries(where)) {
    filter[pathOf(checkedField(target, name, 'filter'))] = fieldCondition(name, condition);
  }
  return { filter, field, direction: orderBy.direction };
}

/** The sort document: the field, then `_id` in the same direction, so that ties never reorder. */
export function sortSpec(query: Pick<CompiledQuery, 'field' | 'direction'>): Sort {
  const sign = query.direction === 'asc' ? 1 : -1;
  return query.field === 'id' ? { _id: sign } : { [pathOf(query.field)]: sign, _id: sign };
}

/**
 * The indexed values' kinds in MongoDB's sort order, which is also the port's: null (and absent) before
 * numbers before strings before booleans.
 */
const KINDS = ['null', 'number', 'string', 'bool'] as const;
type Kind = (typeof KINDS)[number];

function kindOf(value: IndexedValue): Kind {
  if (value === null) return 'null';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'bool';
}

/** Every value of one kind: null also matches an absent field, as in sorts. */
const wholeKind = (kind: Kind): Document => (kind === 'null' ? { $eq: null } : { $type: kind });

/**
 * The documents after `after` in (sort value, id) order. A comparison operator only matches values of its
 * bound's type (type bracketing), so "after" is spelled out per kind: the same value and a later id, a
 * later value of the same kind, or any value of a later kind.
 */
export function keysetCondition(query: Pick<CompiledQuery, 'field' | 'direction'>, after: SortKey): Document {
  const later = query.direction === 'asc' ? '$gt' : '$lt';
  if (query.field === 'id') return { _id: { [later]: after.id } };
  const path = pathOf(query.field);
  const kind = kindOf(after.value);
  const alternatives: Document[] = [{ [path]: { $eq: after.value }, _id: { [later]: after.id } }];
  if (kind !== 'null') alternatives.push({ [path]: { [later]: after.value } });
  const rank = KINDS.indexOf(kind);
  const laterKinds = query.direction === 'asc' ? KINDS.slice(rank + 1) : KINDS.slice(0, rank).reverse();
  for (const other of laterKinds) alternatives.push({ [path]: wholeKind(other) });
  return alternatives.length === 1 ? alternatives[0] : { $or: alternatives };
}

/** The filter of one page: the query's own, and the keyset condition after the previous page. */
export function pageFilter(query: CompiledQuery, after: SortKey | null): Document {
  if (after === null) return query.filter;
  const keyset = keysetCondition(query, after);
  return Object.keys(query.filter).length === 0 ? keyset : { $and: [query.filter, keyset] };
}

/** The value a document sorts by: absent fields sort as null. */
export function sortValueOf(document: Document, field: string): IndexedValue {
  const value: unknown = field === 'id' ? document.id : document[field];
  return isIndexedValue(value) ? value : null;
}

export { encodeCursor, validateLimit };

/** The key a cursor holds, its value one this store sorts on. */
export function decodeCursor(cursor: unknown, query: Pick<CompiledQuery, 'field' | 'direction'>): SortKey {
  return decodeListCursor(cursor, query, isIndexedValue);
}

/**
 * The index keys for a collection's indexed fields: `(field, _id)` each, or `(field, sortedBy, _id)` when
 * the collection is usually sorted by `sortedBy`, so that a filter plus that sort walks one index in order.
 * MongoDB walks an index backwards too, so descending sorts need no index of their own.
 */
export function indexKeys(indexes: readonly string[], sortedBy?: string): Record<string, 1>[] {
  return indexes.map((field) =>
    sortedBy !== undefined && sortedBy !== field
      ? { [pathOf(field)]: 1, [pathOf(sortedBy)]: 1, _id: 1 }
      : { [pathOf(field)]: 1, _id: 1 },
  );
}
