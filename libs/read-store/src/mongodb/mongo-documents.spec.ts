import type { DocumentChange } from '@app/ledger';
import {
  documentWrites,
  prepareChanges,
  storageName,
  toReadDocument,
  validateSpecs,
} from './mongo-documents';

const upsert = (collection: string, doc: { id: string } & Record<string, unknown>): DocumentChange => ({
  collection,
  id: doc.id,
  doc,
});
const remove = (collection: string, id: string): DocumentChange => ({ collection, id, doc: null });

describe('MongoDB read-model documents', () => {
  it('keeps one change per document, the last one, in first-seen order, collections apart', () => {
    const prepared = prepareChanges([
      upsert('issues', { id: 'a', version: 1 }),
      upsert('issues', { id: 'b', version: 1 }),
      upsert('issues', { id: 'a', version: 2 }),
      remove('issues', 'b'),
      upsert('others', { id: 'a', in: 'others' }),
      remove('issues', 'c'),
      upsert('issues', { id: 'c', version: 1 }),
    ]);
    expect(prepared).toEqual([
      { collection: 'issues', id: 'a', doc: { id: 'a', version: 2 } },
      { collection: 'issues', id: 'b', doc: null },
      { collection: 'others', id: 'a', doc: { id: 'a', in: 'others' } },
      { collection: 'issues', id: 'c', doc: { id: 'c', version: 1 } },
    ]);
  });

  it('stores what JSON keeps: undefined fields dropped, dates as strings, non-finite numbers as null', () => {
    const [prepared] = prepareChanges([
      upsert('issues', {
        id: 'a',
        gone: undefined,
        at: new Date('2025-01-02T03:04:05.000Z'),
        ratio: Number.NaN,
        nested: { list: [1, undefined, { deep: true }] },
      }),
    ]);
    expect(prepared.doc).toStrictEqual({
      id: 'a',
      at: '2025-01-02T03:04:05.000Z',
      ratio: null,
      nested: { list: [1, null, { deep: true }] },
    });
  });

  it('refuses a document whose id differs from its key, or that is not JSON', () => {
    expect(() => prepareChanges([{ collection: 'issues', id: 'a', doc: { id: 'b' } }])).toThrow(
      'Document issues/a carries id "b"',
    );
    const cyclic: { id: string } & Record<string, unknown> = { id: 'a' };
    cyclic.self = cyclic;
    expect(() => prepareChanges([upsert('issues', cyclic)])).toThrow(/Document issues\/a is not JSON/);
    expect(() => prepareChanges([upsert('issues', { id: 'a', big: 1n })])).toThrow(/is not JSON/);
  });

  it('writes each document guarded by its position: upserts replace, deletes delete, both only if not newer', () => {
    const target = { collection: 'issues', indexes: ['status'] };
    const writes = documentWrites(
      target,
      prepareChanges([upsert('issues', { id: 'a', status: 'open', notes: [1] }), remove('issues', 'b')]),
      42n,
    );
    expect(writes).toEqual([
      {
        replaceOne: {
          filter: { _id: 'a', p: { $lte: 42n } },
          replacement: { d: { id: 'a', status: 'open', notes: [1] }, p: 42n },
          upsert: true,
        },
      },
      { deleteOne: { filter: { _id: 'b', p: { $lte: 42n } } } },
    ]);
  });

  it('refuses a non-scalar value in an indexed field, and leaves unindexed fields free', () => {
    const target = { collection: 'issues', indexes: ['status'] };
    expect(() =>
      documentWrites(target, prepareChanges([upsert('issues', { id: 'a', status: { nested: 1 } })]), 1n),
    ).toThrow('Document issues/a: indexed field status holds a non-scalar value');
    expect(
      documentWrites(target, prepareChanges([upsert('issues', { id: 'a', other: { nested: 1 } })]), 1n),
    ).toHaveLength(1);
  });

  it('checks specs as the SQLite adapter does, dropping id and duplicates', () => {
    expect(
      validateSpecs([
        { name: 'issues', indexes: ['id', 'status', 'status', 'openedAt'], sortedBy: 'openedAt' },
      ]),
    ).toEqual([{ name: 'issues', indexes: ['status', 'openedAt'], sortedBy: 'openedAt' }]);
    expect(() => validateSpecs([{ name: 'Issues', indexes: [] }])).toThrow(/does not match/);
    expect(() => validateSpecs([{ name: 'issues', indexes: ['d.status'] }])).toThrow(/does not match/);
    expect(() => validateSpecs([{ name: 'issues', indexes: ['$where'] }])).toThrow(/does not match/);
    expect(() => validateSpecs([{ name: 'issues', indexes: ['status'], sortedBy: 'openedAt' }])).toThrow(
      'issues is sorted by "openedAt", which it does not index',
    );
    expect(storageName('issues', 3)).toBe('rm_issues__g3');
  });

  it('reads back only documents with a string id', () => {
    expect(toReadDocument({ id: 'a', n: 1 }, 'issues/a')).toEqual({ id: 'a', n: 1 });
    for (const value of [null, [], 'a', { n: 1 }, { id: 7 }]) {
      expect(() => toReadDocument(value, 'issues/a')).toThrow(/Document issues\/a/);
    }
  });
});
