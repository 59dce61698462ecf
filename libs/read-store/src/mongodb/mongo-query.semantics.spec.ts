import type { Document } from 'mongodb';
import type { IndexedValue, ListQuery, ReadDocument } from '@app/ledger';
import {
  compileQuery,
  decodeCursor,
  encodeCursor,
  pageFilter,
  sortSpec,
  sortValueOf,
  type QueryTarget,
} from './mongo-query';

/**
 * The query documents the mapping produces, run over data by a reference reading of the few operators it
 * emits ($eq, $in, $gt/$gte/$lt/$lte, $type, $or, $and, sorts), written from MongoDB's documented rules:
 * null matches null and absent fields; a comparison only matches values of its bound's type (type
 * bracketing); sorts order null and absent, then numbers, strings, booleans. A test oracle for the
 * mapping's composition (pages through mixed kinds neither skip nor repeat), not a database: the contract
 * suite checks the real server when MONGODB_URI is set.
 */

type Stored = { _id: string; d: ReadDocument };

const rank = (value: unknown): number =>
  value === null || value === undefined
    ? 0
    : typeof value === 'number'
      ? 1
      : typeof value === 'string'
        ? 2
        : typeof value === 'boolean'
          ? 3
          : 4;

function compare(a: unknown, b: unknown): number {
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 0) return 0;
  const x = a as number | string | boolean;
  const y = b as number | string | boolean;
  return x < y ? -1 : x > y ? 1 : 0;
}

const valueAt = (stored: Stored, path: string): unknown =>
  path === '_id' ? stored._id : path.startsWith('d.') ? stored.d[path.slice(2)] : undefined;

function matchesCondition(value: unknown, condition: Document): boolean {
  return Object.entries(condition).every(([operator, operand]) => {
    switch (operator) {
      case '$eq':
        return operand === null
          ? value === null || value === undefined
          : rank(value) === rank(operand) && compare(value, operand) === 0;
      case '$in':
        return (operand as unknown[]).some((candidate) => matchesCondition(value, { $eq: candidate }));
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (value === undefined || rank(value) !== rank(operand)) return false;
        const order = compare(value, operand);
        return operator === '$gt'
          ? order > 0
          : operator === '$gte'
            ? order >= 0
            : operator === '$lt'
              ? order < 0
              : order <= 0;
      }
      case '$type':
        return (
          (operand === 'number' && typeof value === 'number') ||
          (operand === 'string' && typeof value === 'string') ||
          (operand === 'bool' && typeof value === 'boolean')
        );
      default:
        throw new Error(`The oracle does not know ${operator}: the mapping emitted something new`);
    }
  });
}

function matches(stored: Stored, filter: Document): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$or') return (condition as Document[]).some((part) => matches(stored, part));
    if (key === '$and') return (condition as Document[]).every((part) => matches(stored, part));
    if (key.startsWith('$')) throw new Error(`The oracle does not know ${key}`);
    return matchesCondition(valueAt(stored, key), condition as Document);
  });
}

function find(
  data: readonly Stored[],
  filter: Document,
  sort: Record<string, 1 | -1>,
  limit: number,
): Stored[] {
  return data
    .filter((stored) => matches(stored, filter))
    .sort((a, b) => {
      for (const [path, sign] of Object.entries(sort)) {
        const order = compare(valueAt(a, path), valueAt(b, path));
        if (order !== 0) return sign * order;
      }
      return 0;
    })
    .slice(0, limit);
}

/** The store's list(), with the oracle in place of the server. */
function list(data: readonly Stored[], target: QueryTarget, query: ListQuery) {
  const compiled = compileQuery(target, query);
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor, compiled);
  const found = find(
    data,
    pageFilter(compiled, after),
    sortSpec(compiled) as Record<string, 1 | -1>,
    query.limit + 1,
  );
  const items = found.slice(0, query.limit).map((stored) => stored.d);
  const last = items[query.limit - 1];
  return {
    items,
    nextCursor:
      found.length > query.limit
        ? encodeCursor(compiled, { value: sortValueOf(last, compiled.field), id: last.id })
        : null,
  };
}

/** 61 documents: a field holding every kind (absent, null, numbers, strings, booleans), ties in each. */
function documents(): ReadDocument[] {
  const mixed: (IndexedValue | undefined)[] = [
    undefined,
    null,
    3,
    -1.5,
    3,
    'b',
    'a',
    'b',
    true,
    false,
    true,
    0,
    '',
  ];
  return Array.from({ length: 61 }, (_, n) => {
    const document: ReadDocument = { id: `m-${String((n * 37) % 61).padStart(2, '0')}`, group: n % 4 };
    const value = mixed[n % mixed.length];
    if (value !== undefined) document.mixed = value;
    return document;
  });
}

/** The port's order (the contract suite's reference): absent as null, ties by id in the same direction. */
function expectedIds(data: readonly ReadDocument[], field: string, direction: 'asc' | 'desc'): string[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...data]
    .sort((a, b) => sign * (compare(a[field] ?? null, b[field] ?? null) || compare(a.id, b.id)))
    .map((document) => document.id);
}

describe('MongoDB query mapping, run over data', () => {
  const target: QueryTarget = { collection: 'mixed', indexes: ['mixed', 'group'] };
  const data = documents();
  const stored: Stored[] = data.map((d) => ({ _id: d.id, d }));

  it('pages through a field of every kind, both directions, any page size, without skipping or repeating', () => {
    for (const direction of ['asc', 'desc'] as const) {
      for (const field of ['mixed', 'group', 'id']) {
        for (const limit of [1, 2, 3, 5, 7, 60, 61, 1000]) {
          const paged: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = list(stored, target, { orderBy: { field, direction }, limit, cursor });
            paged.push(...page.items.map((item) => item.id));
            cursor = page.nextCursor ?? undefined;
            pages += 1;
          } while (cursor !== undefined && pages <= 100);
          const expected = expectedIds(data, field, direction);
          expect({ field, direction, limit, paged }).toEqual({ field, direction, limit, paged: expected });
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
        }
      }
    }
  });

  it('pages within a filter, the keyset condition conjoined with it', () => {
    const where = { group: { in: [1, 3] } };
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = list(stored, target, {
        where,
        orderBy: { field: 'mixed', direction: 'desc' },
        limit: 4,
        cursor,
      });
      paged.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const expected = expectedIds(
      data.filter((d) => d.group === 1 || d.group === 3),
      'mixed',
      'desc',
    );
    expect(paged).toEqual(expected);
  });

  it('filters as the port says: null matches absent, ranges keep to their bound type, in holds null', () => {
    const ids = (where: ListQuery['where']) =>
      list(stored, target, { where, orderBy: { field: 'id', direction: 'asc' }, limit: 1000 }).items.map(
        (d) => d.id,
      );
    const matching = (predicate: (d: ReadDocument) => boolean) =>
      data
        .filter(predicate)
        .map((d) => d.id)
        .sort();
    expect(ids({ mixed: null })).toEqual(matching((d) => d.mixed === undefined || d.mixed === null));
    expect(ids({ mixed: 3 })).toEqual(matching((d) => d.mixed === 3));
    expect(ids({ mixed: false })).toEqual(matching((d) => d.mixed === false));
    expect(ids({ mixed: '' })).toEqual(matching((d) => d.mixed === ''));
    expect(ids({ mixed: { gte: 0 } })).toEqual(matching((d) => typeof d.mixed === 'number' && d.mixed >= 0));
    expect(ids({ mixed: { lt: 'b' } })).toEqual(
      matching((d) => typeof d.mixed === 'string' && d.mixed < 'b'),
    );
    expect(ids({ mixed: { in: ['a', null, true] } })).toEqual(
      matching((d) => d.mixed === 'a' || d.mixed === true || d.mixed === undefined || d.mixed === null),
    );
    expect(ids({ id: { gt: 'm-50' } })).toEqual(matching((d) => d.id > 'm-50'));
    expect(ids({ mixed: { in: [] } })).toEqual([]);
  });
});
