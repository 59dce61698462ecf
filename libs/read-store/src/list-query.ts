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
