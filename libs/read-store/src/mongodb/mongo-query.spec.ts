import { InvalidReadQueryError, type ListQuery } from '@app/ledger';
import {
  compileQuery,
  decodeCursor,
  encodeCursor,
  fieldCondition,
  indexKeys,
  keysetCondition,
  pageFilter,
  sortSpec,
  sortValueOf,
  validateLimit,
  type QueryTarget,
} from './mongo-query';

const issues: QueryTarget = { collection: 'issues', indexes: ['status', 'priority', 'openedAt', 'urgent'] };
const byOpenedAt = { field: 'openedAt', direction: 'asc' } as const;

function rejection(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a throw');
}

describe('MongoDB query mapping', () => {
  describe('filters', () => {
    it('maps equality, null, membership and ranges to operators, never bare values', () => {
      expect(fieldCondition('status', 'open')).toEqual({ $eq: 'open' });
      expect(fieldCondition('priority', 2)).toEqual({ $eq: 2 });
      expect(fieldCondition('urgent', false)).toEqual({ $eq: false });
      expect(fieldCondition('assignee', null)).toEqual({ $eq: null });
      expect(fieldCondition('status', '$ne')).toEqual({ $eq: '$ne' });
      expect(fieldCondition('status', { in: ['open', null] })).toEqual({ $in: ['open', null] });
      expect(fieldCondition('status', { in: [] })).toEqual({ $in: [] });
      expect(fieldCondition('openedAt', { gte: '2025-01-10', lt: '2025-01-20' })).toEqual({
        $gte: '2025-01-10',
        $lt: '2025-01-20',
      });
      expect(fieldCondition('amount', { gt: -5.5, lte: 0 })).toEqual({ $gt: -5.5, $lte: 0 });
    });

    it('maps a where to paths under d, id to _id, fields conjoined', () => {
      const compiled = compileQuery(issues, {
        where: { status: { in: ['open', 'closed'] }, priority: { gte: 3 }, id: { lt: 'i-020' } },
        orderBy: { field: 'priority', direction: 'desc' },
      });
      expect(compiled).toEqual({
        filter: {
          'd.status': { $in: ['open', 'closed'] },
          'd.priority': { $gte: 3 },
          _id: { $lt: 'i-020' },
        },
        field: 'priority',
        direction: 'desc',
      });
      expect(compileQuery(issues, { orderBy: byOpenedAt }).filter).toEqual({});
    });

    it('refuses unindexed fields, unknown operators, mixed or non-scalar bounds, as InvalidReadQueryError', () => {
      const orderBy = byOpenedAt;
      const bad: Omit<ListQuery, 'limit'>[] = [
        { where: { notes: 'x' }, orderBy },
        { where: { 'd.status': 'x' }, orderBy },
        { where: { $where: 'x' }, orderBy },
        { orderBy: { field: 'notes', direction: 'asc' } },
        { orderBy: { field: 'status', direction: 'up' as never } },
        { where: { status: { $ne: 'open' } as never }, orderBy },
        { where: { status: { ne: 'open' } as never }, orderBy },
        { where: { status: {} as never }, orderBy },
        { where: { status: { in: 'open' } as never }, orderBy },
        { where: { status: { in: ['open'], gt: 'a' } as never }, orderBy },
        { where: { status: ['open'] as never }, orderBy },
        { where: { status: { gt: { x: 1 } } as never }, orderBy },
        { where: { status: { gt: true } as never }, orderBy },
        { where: { priority: { gt: 1, lt: 'z' } }, orderBy },
        { where: { priority: Number.NaN }, orderBy },
        { where: { id: 5 }, orderBy },
        { where: { id: { in: ['a', 1] } }, orderBy },
      ];
      for (const query of bad) {
        expect({ query, error: rejection(() => compileQuery(issues, query)) }).toEqual({
          query,
          error: expect.any(InvalidReadQueryError),
        });
      }
      for (const limit of [0, -1, 1001, 2.5, Number.NaN]) {
        expect(rejection(() => validateLimit(limit))).toBeInstanceOf(InvalidReadQueryError);
      }
      expect(validateLimit(1000)).toBe(1000);
    });
  });

  describe('sorts and indexes', () => {
    it('sorts by the field then _id in the same direction, or by _id alone', () => {
      expect(sortSpec({ field: 'openedAt', direction: 'asc' })).toEqual({ 'd.openedAt': 1, _id: 1 });
      expect(sortSpec({ field: 'status', direction: 'desc' })).toEqual({ 'd.status': -1, _id: -1 });
      expect(sortSpec({ field: 'id', direction: 'desc' })).toEqual({ _id: -1 });
    });

    it('indexes each field with _id, and with the usual sort field between them', () => {
      expect(indexKeys(['status', 'openedAt'])).toEqual([
        { 'd.status': 1, _id: 1 },
        { 'd.openedAt': 1, _id: 1 },
      ]);
      expect(indexKeys(['status', 'openedAt'], 'openedAt')).toEqual([
        { 'd.status': 1, 'd.openedAt': 1, _id: 1 },
        { 'd.openedAt': 1, _id: 1 },
      ]);
      // Key order matters in an index: the field first, then the sort field, then _id.
      expect(Object.keys(indexKeys(['status'], 'openedAt')[0])).toEqual(['d.status', 'd.openedAt', '_id']);
    });

    it('reads an absent or non-scalar sort value as null', () => {
      expect(sortValueOf({ id: 'a', status: 'open' }, 'status')).toBe('open');
      expect(sortValueOf({ id: 'a' }, 'status')).toBeNull();
      expect(sortValueOf({ id: 'a', status: { nested: 1 } }, 'status')).toBeNull();
      expect(sortValueOf({ id: 'a' }, 'id')).toBe('a');
    });
  });

  describe('keyset pagination', () => {
    it('continues ascending after a string: same value later id, later strings, then booleans', () => {
      expect(keysetCondition({ field: 'status', direction: 'asc' }, { value: 'open', id: 'i-007' })).toEqual({
        $or: [
          { 'd.status': { $eq: 'open' }, _id: { $gt: 'i-007' } },
          { 'd.status': { $gt: 'open' } },
          { 'd.status': { $type: 'bool' } },
        ],
      });
    });

    it('continues ascending after null: nulls (and absent) with a later id, then every non-null value', () => {
      expect(keysetCondition({ field: 'assignee', direction: 'asc' }, { value: null, id: 'i-004' })).toEqual({
        $or: [
          { 'd.assignee': { $eq: null }, _id: { $gt: 'i-004' } },
          { 'd.assignee': { $type: 'number' } },
          { 'd.assignee': { $type: 'string' } },
          { 'd.assignee': { $type: 'bool' } },
        ],
      });
    });

    it('continues descending after a number: smaller numbers, then nulls last', () => {
      expect(keysetCondition({ field: 'amount', direction: 'desc' }, { value: -150, id: 'i-012' })).toEqual({
        $or: [
          { 'd.amount': { $eq: -150 }, _id: { $lt: 'i-012' } },
          { 'd.amount': { $lt: -150 } },
          { 'd.amount': { $eq: null } },
        ],
      });
    });

    it('continues descending after true: false, then strings, numbers, nulls', () => {
      expect(keysetCondition({ field: 'urgent', direction: 'desc' }, { value: true, id: 'i-014' })).toEqual({
        $or: [
          { 'd.urgent': { $eq: true }, _id: { $lt: 'i-014' } },
          { 'd.urgent': { $lt: true } },
          { 'd.urgent': { $type: 'string' } },
          { 'd.urgent': { $type: 'number' } },
          { 'd.urgent': { $eq: null } },
        ],
      });
    });

    it('ends descending after null: only nulls with an earlier id remain', () => {
      expect(keysetCondition({ field: 'assignee', direction: 'desc' }, { value: null, id: 'i-004' })).toEqual(
        {
          'd.assignee': { $eq: null },
          _id: { $lt: 'i-004' },
        },
      );
    });

    it('continues by _id alone when sorted by id', () => {
      expect(keysetCondition({ field: 'id', direction: 'desc' }, { value: 'i-009', id: 'i-009' })).toEqual({
        _id: { $lt: 'i-009' },
      });
    });

    it('conjoins the where filter with the keyset condition, or uses either alone', () => {
      const compiled = compileQuery(issues, { where: { status: 'open' }, orderBy: byOpenedAt });
      const after = { value: '2025-01-03T00:00:00.000Z', id: 'i-002' };
      expect(pageFilter(compiled, null)).toEqual({ 'd.status': { $eq: 'open' } });
      expect(pageFilter(compiled, after)).toEqual({
        $and: [{ 'd.status': { $eq: 'open' } }, keysetCondition(compiled, after)],
      });
      const unfiltered = compileQuery(issues, { orderBy: byOpenedAt });
      expect(pageFilter(unfiltered, after)).toEqual(keysetCondition(unfiltered, after));
    });
  });

  describe('cursors', () => {
    it('round-trips the last sort value, booleans and null included, for the same order only', () => {
      const order = { field: 'urgent', direction: 'asc' } as const;
      for (const value of ['open', 12.5, -3, true, false, null]) {
        const cursor = encodeCursor(order, { value, id: 'i-001' });
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(cursor, order)).toEqual({ value, id: 'i-001' });
      }
      const cursor = encodeCursor(order, { value: true, id: 'i-001' });
      expect(rejection(() => decodeCursor(cursor, { field: 'urgent', direction: 'desc' }))).toBeInstanceOf(
        InvalidReadQueryError,
      );
      expect(rejection(() => decodeCursor(cursor, { field: 'status', direction: 'asc' }))).toBeInstanceOf(
        InvalidReadQueryError,
      );
    });

    it('refuses malformed cursors', () => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const cursor of [
        'not a cursor!',
        'AAAA',
        encode({ after: 'i-001' }),
        encode(['id', 'asc', { $gt: '' }, 'i-001']),
        encode(['id', 'asc', 'i-001', 7]),
        encode([1, 2, 3, 4, 5]),
        42,
      ]) {
        expect(rejection(() => decodeCursor(cursor, { field: 'id', direction: 'asc' }))).toBeInstanceOf(
          InvalidReadQueryError,
        );
      }
    });
  });
});
