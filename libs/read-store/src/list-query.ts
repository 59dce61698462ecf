import { InvalidReadQueryError, type FieldFilter, type ListQuery } from '@app/ledger';

/** A list query's order and filters, their shapes checked: what every adapter compiles from. */
export interface ListQueryShape {
  orderBy: ListQuery['orderBy'];
  where: Record<string, FieldFilter>;
}

/**
 * Checks the parts of a list query that do not depend on the engine (an order and a direction, filters as
 * an object), since a query may come from outside the type system (a projection's code, a caller's JSON).
 * Fields are checked against the collection's indexes by each adapter, which knows where they are kept.
 */
export function listQueryShape(query: Omit<ListQuery, 'limit' | 'cursor'>): ListQueryShape {
  const { orderBy } = query;
  if (typeof orderBy !== 'object' || orderBy === null) {
    throw new InvalidReadQueryError('orderBy is required');
  }
  if (orderBy.direction !== 'asc' && orderBy.direction !== 'desc') {
    throw new InvalidReadQueryError(
      `orderBy.direction is asc or desc, not ${JSON.stringify(orderBy.direction)}`,
    );
  }
  const where: unknown = query.where ?? {};
  if (typeof where !== 'object' || where === null || Array.isArray(where)) {
    throw new InvalidReadQueryError('where is an object');
  }
  return { orderBy, where: where as Record<string, FieldFilter> };
}

/** The most documents one page may ask for. */
export const MAX_LIMIT = 1000;
const CURSOR_FORMAT = /^[A-Za-z0-9_-]+$/;

/** A page's `limit`, checked: a whole number from 1 to MAX_LIMIT. */
export function validateLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidReadQueryError(`limit is an integer from 1 to ${MAX_LIMIT}, not ${String(limit)}`);
  }
  return limit;
}

/** The order a cursor belongs to. */
export interface CursorOrder {
  field: string;
  direction: 'asc' | 'desc';
}

/** The last document of a page, where the next one starts: its sort value and id. */
export interface CursorKey<V> {
  value: V;
  id: string;
}

/** An opaque cursor (base64url JSON) that names its order, so it cannot be used with another one. */
export function encodeCursor(order: CursorOrder, last: CursorKey<unknown>): string {
  return Buffer.from(JSON.stringify([order.field, order.direction, last.value, last.id])).toString(
    'base64url',
  );
}

/** The key a cursor holds, checked against the query's order and the values the engine can sort on. */
export function decodeCursor<V>(
  cursor: unknown,
  order: CursorOrder,
  isSortValue: (value: unknown) => value is V,
): CursorKey<V> {
  let decoded: unknown;
  try {
    if (typeof cursor !== 'string' || !CURSOR_FORMAT.test(cursor)) throw new Error('not base64url');
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidReadQueryError('Malformed cursor');
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) throw new InvalidReadQueryError('Malformed cursor');
  const [field, direction, value, id] = decoded as unknown[];
  if (typeof id !== 'string' || !isSortValue(value)) throw new InvalidReadQueryError('Malformed cursor');
  if (field !== order.field || direction !== order.direction) {
    throw new InvalidReadQueryError('The cursor belongs to a list with another orderBy');
  }
  return { value, id };
}
